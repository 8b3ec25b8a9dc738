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
        /// A vector's hash. Some vectors hold hashes that are absent, null or not 32 bytes: a `Merkle.Hash`
        /// cannot hold those, so every reader of proofs refuses them when parsing, as this does.
        func hash(_ key: String) throws(Merkle.ProofError) -> Merkle.Hash {
            guard let digest = json[key]?.stringValue.flatMap(Base64.digest) else {
                throw Merkle.ProofError("\(key) is not a 32-byte hash")
            }
            return digest
        }
        var proof: [Merkle.Hash] {
            get throws(Merkle.ProofError) {
                let items = json["proof"]?.arrayValue ?? []
                let hashes = items.compactMap { $0.stringValue.flatMap(Base64.digest) }
                guard hashes.count == items.count else { throw Merkle.ProofError("a proof hash is not 32 bytes") }
                return hashes
            }
        }
        var hasMalformedHash: Bool {
            ["leafHash", "root", "root1", "root2"].contains {
                json[$0].map { $0.stringValue.flatMap(Base64.digest) == nil } ?? false
            }
                || (json["proof"]?.arrayValue ?? []).contains { $0.stringValue.flatMap(Base64.digest) == nil }
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
            // A vector whose hash is not 32 bytes is refused as it is read, even the one the reference
            // accepts (equal sizes, equal 15-byte "roots"): no Probity input holds a root of another size.
            if v.wantErr || v.hasMalformedHash {
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
                leafHash: try v.hash("leafHash"), index: v.uint("leafIdx"), size: v.uint("treeSize"),
                proof: try v.proof, root: try v.hash("root"))
        }
    }

    @Test("transparency-dev consistency vectors")
    func consistencyVectors() throws {
        try Self.expectVectors("consistency") { v throws(Merkle.ProofError) in
            try Merkle.verifyConsistency(
                oldSize: v.uint("size1"), newSize: v.uint("size2"), oldRoot: try v.hash("root1"),
                newRoot: try v.hash("root2"), proof: try v.proof)
        }
    }

    /// The RFC 6962 definition, recursively, as the reference.
    static func mth(_ leaves: ArraySlice<Merkle.Hash>) -> Merkle.Hash {
        if leaves.isEmpty { return Merkle.emptyRoot }
        if leaves.count == 1 { return leaves.first! }
        let k = Int(Merkle.split(UInt64(leaves.count)))
        return Merkle.nodeHash(mth(leaves.prefix(k)), mth(leaves.dropFirst(k)))
    }

    static let leaves = (0..<70).map { Merkle.leafHash(Array("leaf \($0)".utf8)) }

    /// Resolves proof ranges the way the store does: from complete subtrees only.
    static func rangeHash(_ start: UInt64, _ end: UInt64) -> Merkle.Hash {
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
        #expect(CompactRange().root.bytes == SHA256.hash([UInt8]()))
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
                            oldSize: m, newSize: n, oldRoot: SHA256.digest(Array("not the root".utf8)), newRoot: root,
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
