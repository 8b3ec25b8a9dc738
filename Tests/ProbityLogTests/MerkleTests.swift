import Foundation
import Testing

@testable import ProbityFixtures
@testable import ProbityLog

@Suite("RFC 6962 Merkle trees and proofs")
struct MerkleTests {
    struct Vector {
        let file: String
        let json: JSONValue
        var desc: String { json["desc"]?.stringValue ?? "" }
        var wantErr: Bool { json["wantErr"] == .bool(true) }
        func hash(_ key: String) -> [UInt8] {
            guard let text = json[key]?.stringValue else { return [] }  // absent or null: no hash at all
            return Base64.decode(text) ?? Array(text.utf8)
        }
        var proof: [[UInt8]] {
            (json["proof"]?.arrayValue ?? []).map { Base64.decode($0.stringValue!) ?? Array($0.stringValue!.utf8) }
        }
        /// Vectors use 2^64-1 (beyond a double's exact range); JSON numbers here are doubles, so map it back.
        func uint(_ key: String) -> UInt64 {
            let d = json[key]!.doubleValue!
            return d >= 18446744073709551615.0 ? UInt64.max : UInt64(d)
        }
    }

    static func vectors(_ kind: String) throws -> [Vector] {
        try TestData.files("merkle/\(kind)", ext: "json").map {
            Vector(file: $0.path, json: try JSONParser.parse(TestData.bytes($0)))
        }
    }

    /// Runs `check` on every vector of `kind`: it must throw exactly for the `wantErr` ones.
    static func expectVectors(_ kind: String, _ check: (Vector) throws(Merkle.ProofError) -> Void) throws {
        let vectors = try Self.vectors(kind)
        #expect(vectors.count >= 10)
        for v in vectors {
            let result = Result { () throws(Merkle.ProofError) in try check(v) }
            if v.wantErr {
                #expect(throws: Merkle.ProofError.self, "\(v.file) should fail: \(v.desc)") { try result.get() }
            } else {
                #expect(throws: Never.self, "\(v.file) should pass") { try result.get() }
            }
        }
    }

    @Test("transparency-dev inclusion vectors")
    func inclusionVectors() throws {
        try Self.expectVectors("inclusion") { v throws(Merkle.ProofError) in
            try Merkle.verifyInclusion(
                leafHash: v.hash("leafHash"), index: v.uint("leafIdx"), size: v.uint("treeSize"), proof: v.proof,
                root: v.hash("root"))
        }
    }

    @Test("transparency-dev consistency vectors")
    func consistencyVectors() throws {
        try Self.expectVectors("consistency") { v throws(Merkle.ProofError) in
            try Merkle.verifyConsistency(
                oldSize: v.uint("size1"), newSize: v.uint("size2"), oldRoot: v.hash("root1"), newRoot: v.hash("root2"),
                proof: v.proof)
        }
    }

    /// The RFC 6962 definition, recursively, as the reference.
    static func mth(_ leaves: ArraySlice<[UInt8]>) -> [UInt8] {
        if leaves.isEmpty { return Merkle.emptyRoot }
        if leaves.count == 1 { return leaves.first! }
        let k = Int(Merkle.split(UInt64(leaves.count)))
        return Merkle.nodeHash(mth(leaves.prefix(k)), mth(leaves.dropFirst(k)))
    }

    static let leaves = (0..<70).map { Merkle.leafHash(Array("leaf \($0)".utf8)) }

    /// Resolves proof ranges the way the store does: from complete subtrees only.
    static func rangeHash(_ start: UInt64, _ end: UInt64) -> [UInt8] {
        Merkle.foldRange(
            Merkle.rangeNodes(start: start, end: end).map { node in
                let s = Int(node.index << node.level)
                return mth(leaves[s..<(s + (1 << node.level))])
            })
    }

    @Test("compact range roots and stored-node range hashes match the recursive definition")
    func roots() {
        var range = CompactRange()
        for n in 1...Self.leaves.count {
            range.append(Self.leaves[n - 1])
            #expect(range.root == Self.mth(Self.leaves[0..<n]), "size \(n)")
            #expect(Self.rangeHash(0, UInt64(n)) == Self.mth(Self.leaves[0..<n]))
        }
        #expect(CompactRange().root == SHA256.hash([UInt8]()))
    }

    @Test("generated inclusion and consistency proofs verify for every index and size pair up to 70")
    func generatedProofs() throws {
        for n in UInt64(1)...70 {
            let root = Self.mth(Self.leaves[0..<Int(n)])
            for m in 0..<n {
                let proof = Merkle.inclusionProofRanges(index: m, size: n).map { Self.rangeHash($0.start, $0.end) }
                try Merkle.verifyInclusion(leafHash: Self.leaves[Int(m)], index: m, size: n, proof: proof, root: root)
                if m > 0 {
                    let old = Self.mth(Self.leaves[0..<Int(m)])
                    let consistency = Merkle.consistencyProofRanges(from: m, to: n).map {
                        Self.rangeHash($0.start, $0.end)
                    }
                    try Merkle.verifyConsistency(
                        oldSize: m, newSize: n, oldRoot: old, newRoot: root, proof: consistency)
                    #expect(throws: Merkle.ProofError.self) {
                        try Merkle.verifyConsistency(
                            oldSize: m, newSize: n, oldRoot: SHA256.hash(Array("not the root".utf8)), newRoot: root,
                            proof: consistency)
                    }
                }
            }
        }
    }

    @Test("a proof for the wrong leaf or index fails")
    func wrongLeaf() {
        let n: UInt64 = 13
        let root = Self.mth(Self.leaves[0..<13])
        let proof = Merkle.inclusionProofRanges(index: 5, size: n).map { Self.rangeHash($0.start, $0.end) }
        #expect(throws: Merkle.ProofError.self) {
            try Merkle.verifyInclusion(leafHash: Self.leaves[6], index: 5, size: n, proof: proof, root: root)
        }
        #expect(throws: Merkle.ProofError.self) {
            try Merkle.verifyInclusion(leafHash: Self.leaves[5], index: 6, size: n, proof: proof, root: root)
        }
        #expect(throws: Merkle.ProofError.self) {
            try Merkle.verifyInclusion(leafHash: Self.leaves[5], index: 5, size: n, proof: proof.dropLast(), root: root)
        }
    }
}
