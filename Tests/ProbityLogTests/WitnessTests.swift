import Foundation
import Testing

@testable import ProbityLog

@Suite("C2SP tile paths, entry bundles, cosignatures and the witness's checks")
struct WitnessTests {
    @Test("tile paths: groups of three digits with x, .p/W for partial tiles; one path per tile")
    func tilePaths() throws {
        #expect(TilePath.indexPath(1_234_067) == "x001/x234/067")
        #expect(TilePath.indexPath(0) == "000")
        #expect(TilePath.indexPath(1000) == "x001/000")
        let cases: [(String, TilePath)] = [
            ("checkpoint", .checkpoint), ("tile/0/000", .hashes(level: 0, index: 0, width: nil)),
            ("tile/1/x001/x234/067.p/255", .hashes(level: 1, index: 1_234_067, width: 255)),
            ("tile/entries/x001/000", .entries(index: 1000, width: nil)),
            ("tile/entries/007.p/1", .entries(index: 7, width: 1)),
        ]
        for (text, path) in cases {
            #expect(try TilePath(parsing: Substring(text)) == path)
            #expect(path.description == text)
        }
        for bad in [
            "tile/0/0", "tile/0/0000", "tile/00/000", "tile/8/000", "tile/0/x000/001", "tile/0/001/002",
            "tile/0/000.p/0", "tile/0/000.p/256", "tile/0/000.p/07", "tile/0", "tile/data/000", "tile/0/000/",
            "checkpoints", "tile/entries/-01", "tile/0/x999/x999/x999/x999/x999/x999/x999/999",
        ] {
            #expect(throws: TilePath.Invalid.self, "\(bad)") { try TilePath(parsing: Substring(bad)) }
        }
    }

    @Test("entry bundles: big-endian uint16 lengths; a larger entry is refused, a cut bundle is not one")
    func entryBundles() throws {
        var bundle: [UInt8] = []
        try EntryBundle.append(Array("{}".utf8), seq: 0, to: &bundle)
        try EntryBundle.append([UInt8](repeating: 0x61, count: 300), seq: 1, to: &bundle)
        #expect(Array(bundle[0..<4]) == [0, 2, 0x7B, 0x7D])
        #expect(Array(bundle[4..<6]) == [0x01, 0x2C])
        let entries = try #require(EntryBundle.entries(bundle))
        #expect(entries.map(\.count) == [2, 300])
        #expect(EntryBundle.entries(Array(bundle.dropLast())) == nil)
        #expect(throws: EntryBundle.TooLarge.self) {
            try EntryBundle.append([UInt8](repeating: 0, count: 65_536), seq: 9, to: &bundle)
        }
    }

    static let logKey = try! Ed25519PrivateKey.generate()
    static let log = try! NoteSigner(name: "log.example/a", privateKey: logKey)
    static let witnessKey = try! Ed25519PrivateKey.generate()
    static let witness = try! CosignatureSigner(name: "witness.example/w1", privateKey: witnessKey)

    static func checkpoint(_ size: UInt64, _ root: Merkle.Hash, signer: NoteSigner = log) throws -> SignedCheckpoint {
        try SignedCheckpoint.sign(Checkpoint(origin: signer.verifier.name, size: size, root: root), with: signer)
    }

    @Test("a cosignature verifies with its witness key only, over the whole checkpoint text and its time")
    func cosignatures() throws {
        let checkpoint = try Self.checkpoint(5, Merkle.root(leafHashes: (0..<5).map { Merkle.leafHash([$0]) }))
        let line = try Self.witness.cosign(checkpoint, time: 1_700_000_000)
        #expect(line.keyID == Self.witness.verifier.keyID && line.bytes.count == 72)
        #expect(Array(line.bytes[0..<8]) == [0, 0, 0, 0, 0x65, 0x53, 0xF1, 0x00])
        let note = try SignedNote.parse(
            SignedNote(text: checkpoint.note.text, signatures: checkpoint.note.signatures + [line]).encoded)
        #expect(Self.witness.verifier.cosignatureTime(on: note) == 1_700_000_000)
        // The key ID commits to the type byte 0x04: the same key as a note signer has another ID.
        let sameKeyAsNoteSigner = try NoteVerifier(name: "witness.example/w1", publicKey: Self.witnessKey.publicKey)
        #expect(sameKeyAsNoteSigner.keyID != Self.witness.verifier.keyID)
        // The vkey round-trips; a log's vkey is refused as a witness key, with a message that says so.
        #expect(try CosignatureVerifier(Self.witness.verifier.description) == Self.witness.verifier)
        #expect(throws: NoteKeyError.self) { try CosignatureVerifier(Self.log.verifier.description) }
        // Another witness, another time or another text: no valid cosignature.
        let other = try CosignatureSigner(name: "witness.example/w1", privateKey: Ed25519PrivateKey.generate())
        #expect(other.verifier.cosignatureTime(on: note) == nil)
        var forged = line.bytes
        forged[7] ^= 1
        let wrongTime = SignedNote(
            text: checkpoint.note.text, signatures: [.init(name: line.name, keyID: line.keyID, bytes: forged)])
        #expect(Self.witness.verifier.cosignatureTime(on: wrongTime) == nil)
        let otherText = SignedNote(
            text: "log.example/a\n6\n" + checkpoint.note.text.split(separator: "\n")[2] + "\n", signatures: [line])
        #expect(Self.witness.verifier.cosignatureTime(on: otherText) == nil)
        let quorum = WitnessQuorum(witnesses: [Self.witness.verifier, other.verifier], quorum: 2)
        #expect(quorum.cosigners(of: note).map(\.witness) == [Self.witness.verifier])
        #expect(!quorum.isMet(by: note))
    }

    @Test("what a TSA stamps is the checkpoint as the log signed it; cosignatures added later do not change it")
    func stampedForm() throws {
        let checkpoint = try Self.checkpoint(3, Merkle.root(leafHashes: (0..<3).map { Merkle.leafHash([$0]) }))
        #expect(checkpoint.logSigned == checkpoint)
        let line = try Self.witness.cosign(checkpoint, time: 1_700_000_000)
        let cosigned = try SignedCheckpoint(
            note: SignedNote(text: checkpoint.note.text, signatures: checkpoint.note.signatures + [line]))
        #expect(cosigned.logSigned == checkpoint)
        // A token's imprint finds the form it was taken of: as the log signed it, or (older tokens) as stored.
        let imprint = { (c: SignedCheckpoint) in SHA256.hash(Array(c.encoded.utf8)) }
        #expect(cosigned.stamped(imprint: imprint(checkpoint)) == checkpoint)
        #expect(cosigned.stamped(imprint: imprint(cosigned)) == cosigned)
        #expect(cosigned.stamped(imprint: [UInt8](repeating: 0, count: 32)) == nil)
    }

    @Test("add-checkpoint bodies: old size, proof lines, blank line, checkpoint; malformed ones are named")
    func requests() throws {
        let checkpoint = try Self.checkpoint(3, Merkle.leafHash([1]))
        let request = AddCheckpointRequest(oldSize: 2, proof: [Merkle.leafHash([2])], checkpoint: checkpoint)
        #expect(try AddCheckpointRequest(parsing: request.body) == request)
        #expect(String(decoding: request.body, as: UTF8.self).hasPrefix("old 2\n"))
        for (body, message) in [
            ("old 02\n\n", "old <size>"), ("new 2\n\n", "old <size>"), ("old 2\nnot-base64\n\n", "proof line 1"),
            ("old 2\n\nlog.example/a\n", "not a signed checkpoint"), ("old 2", "no newline"),
            (
                "old 0\n" + String(repeating: Base64.encode(Merkle.leafHash([1])) + "\n", count: 64) + "\n",
                "more than 63"
            ),
        ] {
            #expect {
                try AddCheckpointRequest(parsing: Array(body.utf8))
            } throws: { "\($0)".contains(message) }
        }
    }

    @Test("the witness's checks, in the spec's order and with its status codes")
    func verdicts() throws {
        let leaves = (0..<9).map { Merkle.leafHash([UInt8($0)]) }
        func root(_ n: Int) -> Merkle.Hash { Merkle.root(leafHashes: Array(leaves[0..<n])) }
        let trusted = ["log.example/a": [Self.log.verifier]]
        let at5 = try Self.checkpoint(5, root(5)), at9 = try Self.checkpoint(9, root(9))
        let proof = try consistencyProof(5, 9, leaves)
        func check(_ old: UInt64, _ proof: [Merkle.Hash], _ cp: SignedCheckpoint, held: Checkpoint?) -> WitnessVerdict {
            WitnessVerdict.check(
                AddCheckpointRequest(oldSize: old, proof: proof, checkpoint: cp), trusted: trusted, latest: held)
        }
        #expect(check(0, [], at5, held: nil) == .cosign)
        #expect(check(5, proof, at9, held: at5.checkpoint) == .cosign)
        #expect(check(9, [], at9, held: at9.checkpoint) == .cosign)
        let stranger = try NoteSigner(name: "log.example/b", privateKey: Ed25519PrivateKey.generate())
        #expect(status(check(0, [], try Self.checkpoint(5, root(5), signer: stranger), held: nil)) == 404)
        let impostor = try NoteSigner(name: "log.example/a", privateKey: Ed25519PrivateKey.generate())
        #expect(status(check(0, [], try Self.checkpoint(5, root(5), signer: impostor), held: nil)) == 403)
        #expect(status(check(10, [], at9, held: at5.checkpoint)) == 400)
        #expect(
            check(0, [], at9, held: at5.checkpoint)
                == .refuse(status: 409, reason: "old size 0 is not the size this witness holds (5)", knownSize: 5))
        let fork = try Self.checkpoint(5, root(4))
        #expect(status(check(5, [], fork, held: at5.checkpoint)) == 409)
        var bad = proof
        bad[0] = Merkle.leafHash([99])
        #expect(status(check(5, bad, at9, held: at5.checkpoint)) == 422)
        #expect(status(check(0, proof, at5, held: nil)) == 422)
        // A rewritten past: a tree of 9 whose first 5 leaves are not the held ones.
        var rewritten = leaves
        rewritten[1] = Merkle.leafHash([42])
        let forked9 = try Self.checkpoint(9, Merkle.root(leafHashes: rewritten))
        #expect(status(check(5, try consistencyProof(5, 9, rewritten), forked9, held: at5.checkpoint)) == 422)
    }

    private func status(_ verdict: WitnessVerdict) -> Int? {
        if case .refuse(let status, _, _) = verdict { return status }
        return nil
    }

    /// The RFC 6962 consistency proof of `leaves`' trees of `old` and `new` leaves, from the proof ranges.
    private func consistencyProof(_ old: UInt64, _ new: UInt64, _ leaves: [Merkle.Hash]) throws -> [Merkle.Hash] {
        Merkle.consistencyProofRanges(from: old, to: new).map {
            Merkle.root(leafHashes: Array(leaves[Int($0.start)..<Int($0.end)]))
        }
    }
}
