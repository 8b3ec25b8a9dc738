import Foundation
import Testing

@testable import ProbityFixtures
@testable import ProbityLog

@Suite("C2SP signed notes, checkpoints, tlog-proofs and Ed25519")
struct NoteTests {
    static let exampleVKey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
    static let exampleNote =
        "This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"

    @Test("the C2SP signed-note spec example verifies")
    func specExample() throws {
        let verifier = try NoteVerifier(Self.exampleVKey)
        #expect(verifier.description == Self.exampleVKey)
        let note = try SignedNote.parse(Self.exampleNote)
        #expect(note.text == "This is an example message.\n")
        #expect(verifier.verifies(note))
        #expect(note.encoded == Self.exampleNote)
    }

    @Test("a changed text or signature does not verify")
    func tampered() throws {
        let verifier = try NoteVerifier(Self.exampleVKey)
        let changedText = try SignedNote.parse(
            Self.exampleNote.replacingOccurrences(of: "example message", with: "exemple message"))
        #expect(!verifier.verifies(changedText))
        let note = try SignedNote.parse(Self.exampleNote)
        var signature = note.signatures[0].bytes
        signature[10] ^= 1
        #expect(
            !verifier.verifies(
                SignedNote(
                    text: note.text,
                    signatures: [.init(name: "example.com/foo", keyID: note.signatures[0].keyID, bytes: signature)])))
    }

    @Test(
        "malformed verifier keys are refused with a reason",
        arguments: [
            "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  // wrong key ID
            "example.com/foo+530d903a+AqkyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  // wrong algorithm byte
            "example.com/foo+530d903a", "+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        ])
    func badVerifierKeys(vkey: String) {
        #expect(throws: NoteKeyError.self) { try NoteVerifier(vkey) }
    }

    @Test(
        "malformed notes are refused",
        arguments: [
            "no blank line\n— a b\n", "text\n\n", "text\n\n- example.com/foo AAAA\n", "text\n\n— example.com/foo !!!\n",
            "text\n\n— example.com/foo Uw2QOkn8\n— x",
        ])
    func badNotes(text: String) {
        #expect(throws: SignedNote.FormatError.self) { try SignedNote.parse(text) }
    }

    @Test("Ed25519 keys survive PEM round trips and sign verifiably")
    func ed25519() throws {
        let key = try Ed25519PrivateKey.generate()
        let reloaded = try Ed25519PrivateKey(pem: key.pem)
        #expect(reloaded.publicKey == key.publicKey)
        #expect(key.pem.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        let publicKey = try Ed25519PublicKey(pem: key.publicKey.pem)
        #expect(publicKey.raw == key.publicKey.raw && publicKey.raw.count == 32)
        let message = Array("checkpoint".utf8)
        let signature = try key.sign(message)
        #expect(signature.count == 64)
        #expect(publicKey.verify(signature: signature, message: message))
        #expect(!publicKey.verify(signature: signature, message: Array("checkpoinT".utf8)))
        #expect(throws: CryptoError.self) {
            try Ed25519PrivateKey(pem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
        }
    }

    @Test("checkpoints sign, encode and parse back; tlog-proofs round-trip and verify")
    func checkpointAndProof() throws {
        let signer = try NoteSigner(name: "achats.example.fr/probity", privateKey: Ed25519PrivateKey.generate())
        let leaves = (0..<5).map { Merkle.leafHash([UInt8($0)]) }
        let root = Merkle.root(leafHashes: leaves)
        let signed = try SignedCheckpoint.sign(
            Checkpoint(origin: signer.verifier.name, size: 5, root: root), with: signer)
        #expect(signed.note.text == "achats.example.fr/probity\n5\n\(Base64.encode(root))\n")
        let parsed = try SignedCheckpoint(parsing: signed.encoded)
        #expect(parsed == signed && parsed.isSigned(by: signer.verifier))
        let proofHashes = Merkle.inclusionProofRanges(index: 3, size: 5).map {
            Merkle.root(leafHashes: Array(leaves[Int($0.start)..<Int($0.end)]))
        }
        let proof = TlogProof(extra: [1, 2, 3], index: 3, proof: proofHashes, checkpoint: signed)
        let reparsed = try TlogProof.parse(proof.encoded)
        #expect(reparsed == proof)
        try reparsed.verify(leafHash: leaves[3], verifier: signer.verifier)
        #expect(throws: Merkle.ProofError.self) { try reparsed.verify(leafHash: leaves[2], verifier: signer.verifier) }
        let other = try NoteSigner(name: signer.verifier.name, privateKey: Ed25519PrivateKey.generate())
        #expect(throws: Merkle.ProofError.self) { try reparsed.verify(leafHash: leaves[3], verifier: other.verifier) }
        #expect(throws: SignedNote.FormatError.self) { try Checkpoint(text: "origin\n05\n\(Base64.encode(root))\n") }
    }

    @Test("stream-head notes round-trip and never parse as checkpoints")
    func streamHead() throws {
        let signer = try NoteSigner(name: "o", privateKey: Ed25519PrivateKey.generate())
        let head = StreamHead(
            origin: "o", treeSize: 10, stream: "procedure:2026-042", lastSeq: 7, lastLeafHash: Merkle.leafHash([7]))
        let note = try head.sign(with: signer)
        #expect(try StreamHead(text: SignedNote.parse(note.encoded).text) == head)
        #expect(signer.verifier.verifies(note))
        #expect(throws: SignedNote.FormatError.self) { try Checkpoint(text: note.text) }
    }

    @Test("entry times have exactly one spelling")
    func timestamps() throws {
        let t = try #require(Timestamp(entryTime: "2026-02-28T23:59:59.000001Z"))
        #expect(t.description == "2026-02-28T23:59:59.000001Z")
        #expect(Timestamp(entryTime: "2026-02-29T00:00:00.000000Z") == nil)
        #expect(Timestamp(entryTime: "2026-02-28T23:59:59.0000Z") == nil)
        #expect(Timestamp(rfc3339: "2026-03-01T01:00:00+01:00")?.description == "2026-03-01T00:00:00.000000Z")
        #expect(Timestamp(microsecondsSinceEpoch: -1).description == "1969-12-31T23:59:59.999999Z")
    }
}
