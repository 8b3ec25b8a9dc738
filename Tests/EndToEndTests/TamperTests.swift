import Foundation
import GRDB
import ProbityDomain
import ProbityLog
import ProbityStore
import Testing

@testable import ProbityFixtures

/// A real store file, built with the CLI, tampered with in each way an insider with file access could,
/// and checked with `probity verify`: each case must exit 1 and name the seq where the log was changed.
@Suite("probity verify catches tampering")
struct TamperTests {
    /// The base log: seq 0 log.created; 1–5 and 6–9 in two batches; 10, 11, 12, 13 one batch each
    /// (checkpoints at sizes 1, 6, 10, 11, 12, 13, 14). `kept.checkpoint` is the checkpoint of size 14.
    static let base: Swift.Result<URL, any Error> = Swift.Result {
        let dir = try CLI.temporaryDirectory()
        let db = dir.appendingPathComponent("log.sqlite").path
        let lines = try String(contentsOf: CLI.exampleConversation, encoding: .utf8).split(separator: "\n").map(
            String.init)
        try #require(lines.count == 13)
        try #require(try CLI.run(["init", "--db", db, "--origin", "achats.ville-exemple.fr/probity"]).status == 0)
        for chunk in [lines[0..<5], lines[5..<9], lines[9..<10], lines[10..<11], lines[11..<12], lines[12..<13]] {
            let result = try CLI.run(
                ["append", "--db", db, "--quiet", "-"], stdin: Array(chunk.joined(separator: "\n").utf8))
            try #require(result.status == 0, "\(result.stderr)")
        }
        let kept = try CLI.run(["checkpoint", "--db", db])
        try kept.stdout.write(to: dir.appendingPathComponent("kept.checkpoint"), atomically: true, encoding: .utf8)
        return dir
    }

    /// A fresh copy of the base log to tamper with.
    static func copy() throws -> (dir: URL, db: String, vkey: String) {
        let base = try Self.base.get()
        let dir = try CLI.temporaryDirectory()
        for name in ["log.sqlite", "log.key.pem", "log.pub.pem", "log.vkey", "kept.checkpoint"] {
            try FileManager.default.copyItem(
                at: base.appendingPathComponent(name), to: dir.appendingPathComponent(name))
        }
        let vkey = try String(contentsOf: dir.appendingPathComponent("log.vkey"), encoding: .utf8).trimmingCharacters(
            in: .newlines)
        return (dir, dir.appendingPathComponent("log.sqlite").path, vkey)
    }

    @Test("a clean log passes, with the vkey, the PEM key and the kept checkpoint")
    func clean() throws {
        let (dir, db, vkey) = try Self.copy()
        let outcome = try verify(
            db, ["--vkey", vkey, "--checkpoint", dir.appendingPathComponent("kept.checkpoint").path])
        #expect(outcome.status == 0 && outcome.intact)
        #expect(outcome.json["size"]?.uint64Value == 14)
        #expect(outcome.json["checkpoints_checked"]?.uint64Value == 7)
        #expect(try verify(db, ["--pubkey", dir.appendingPathComponent("log.pub.pem").path]).status == 0)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let seq: UInt64
        let kind: String
        let useKept: Bool
        let tamper: @Sendable (Tamper, URL) throws -> Void
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "a byte flipped in an entry", seq: 7, kind: "stored-hash-mismatch", useKept: false) { t, _ in
            var bytes = try t.entryBytes(7)
            let i = try #require(bytes.firstRange(of: Array("consultation".utf8))).lowerBound
            bytes[i] ^= 0x01  // "consultation" -> "bonsultation": still valid JSON
            try t.setEntry(7, bytes, fixHash: false)
        },
        Case(name: "a byte flipped in a payload", seq: 10, kind: "payload-mismatch", useKept: false) { t, _ in
            try t.execute(
                "UPDATE payloads SET bytes = CAST(replace(CAST(bytes AS TEXT), 'enrobé', 'enrobe') AS BLOB) WHERE seq = 10"
            )
        },
        Case(name: "a byte flipped in a stored hash", seq: 4, kind: "stored-hash-mismatch", useKept: false) { t, _ in
            try t.execute("UPDATE entries SET leaf_hash = zeroblob(32) WHERE seq = 4")
        },
        Case(name: "a stored hash cut to 31 bytes", seq: 4, kind: "stored-hash-mismatch", useKept: false) { t, _ in
            try t.execute("UPDATE entries SET leaf_hash = substr(leaf_hash, 1, 31) WHERE seq = 4")
        },
        Case(name: "an entry deleted", seq: 8, kind: "sequence", useKept: false) { t, _ in
            try t.execute("DELETE FROM entries WHERE seq = 8")
        },
        Case(name: "an entry inserted", seq: 8, kind: "sequence", useKept: false) { t, _ in
            for seq in (8...13).reversed() { try t.execute("UPDATE entries SET seq = seq + 1 WHERE seq = ?", [seq]) }
            try t.execute(
                "INSERT INTO entries (seq, bytes, leaf_hash, type, time) SELECT 8, bytes, leaf_hash, type, time FROM entries WHERE seq = 9"
            )
            try t.rewriteEntry(8) { $0["by"] = .string("mallory") }
        },
        Case(name: "an entry swapped with another", seq: 5, kind: "sequence", useKept: false) { t, _ in
            let five = try t.entryBytes(5), six = try t.entryBytes(6)
            try t.setEntry(5, six, fixHash: true)
            try t.setEntry(6, five, fixHash: true)
        },
        Case(name: "an entry dropped from a stream's chain", seq: 11, kind: "stream", useKept: false) { t, _ in
            try t.rewriteEntry(11) { members in
                guard case .object(var streams) = members["streams"]! else { return }
                streams["party:contact-martin"] = nil
                members["streams"] = .object(streams)
            }
        },
        Case(name: "the tail truncated (caught against a kept checkpoint)", seq: 12, kind: "truncated", useKept: true) {
            t, _ in
            try truncate(t, to: 12)
        },
        Case(
            name: "the tail rewritten and re-signed with another key", seq: 12, kind: "checkpoint-signature",
            useKept: true
        ) { t, dir in
            try truncate(t, to: 12)
            let key = try Ed25519PrivateKey.generate()
            let keyPath = dir.appendingPathComponent("mallory.pem").path
            try key.pem.write(toFile: keyPath, atomically: true, encoding: .utf8)
            chmod(keyPath, 0o600)
            let signer = try NoteSigner(name: "achats.ville-exemple.fr/probity", privateKey: key)
            try t.execute("UPDATE meta SET value = ? WHERE key = 'current_vkey'", [signer.verifier.description])
            let events =
                #"{"type":"exchange.recorded","data":{"channel":"email","kind":"message","visibility":"direct","from":"agent-durand","to":["sup-bitume-nord"],"occurred_at":"2026-03-12T09:30:00Z"}}"#
            let result = try CLI.run(
                ["append", "--db", dir.appendingPathComponent("log.sqlite").path, "--key", keyPath, "--quiet", "-"],
                stdin: Array((events + "\n" + events).utf8))
            try #require(result.status == 0, "\(result.stderr)")
        },
        Case(name: "a forged checkpoint", seq: 6, kind: "checkpoint-signature", useKept: false) { t, _ in
            let signer = try NoteSigner(
                name: "achats.ville-exemple.fr/probity", privateKey: Ed25519PrivateKey.generate())
            let forged = try SignedCheckpoint.sign(
                Checkpoint(origin: signer.verifier.name, size: 8, root: Merkle.emptyRoot), with: signer)
            try t.execute("INSERT INTO checkpoints (size, note, time) VALUES (8, ?, '')", [forged.encoded])
        },
        Case(name: "an entry re-encoded non-canonically", seq: 3, kind: "not-canonical", useKept: false) { t, _ in
            let text = String(decoding: try t.entryBytes(3), as: UTF8.self).replacingOccurrences(
                of: "\":", with: "\": ")
            try t.setEntry(3, Array(text.utf8), fixHash: true)
        },
        Case(name: "a payload deleted without a redaction event", seq: 2, kind: "payload-missing", useKept: false) {
            t, _ in
            try t.execute("DELETE FROM payloads WHERE seq = 2")
        },
        Case(name: "time going backwards", seq: 9, kind: "time", useKept: false) { t, _ in
            try t.rewriteEntry(9) { $0["time"] = .string("2020-01-01T00:00:00.000000Z") }
        },
    ]

    static func truncate(_ t: Tamper, to size: Int) throws {
        try t.execute("DELETE FROM entries WHERE seq >= ?", [size])
        try t.execute("DELETE FROM payloads WHERE seq >= ?", [size])
        try t.execute("DELETE FROM checkpoints WHERE size > ?", [size])
        try t.rebuildDerivedTables()
    }

    @Test("each tampering is caught with exit 1 at the right seq", arguments: cases)
    func tampered(_ c: Case) throws {
        let (dir, db, vkey) = try Self.copy()
        try c.tamper(try Tamper(db), dir)
        var extra = ["--vkey", vkey]
        if c.useKept { extra += ["--checkpoint", dir.appendingPathComponent("kept.checkpoint").path] }
        let outcome = try verify(db, extra)
        #expect(outcome.status == 1, "\(c.name): \(outcome.json)")
        #expect(!outcome.intact)
        #expect(outcome.firstSeq == c.seq, "\(c.name): \(outcome.json["first_failure"] ?? .null)")
        #expect(outcome.firstKind == c.kind, "\(c.name): \(outcome.json["first_failure"] ?? .null)")
        // The text output names the same seq.
        let text = try CLI.run(["verify", "--db", db] + extra)
        #expect(text.status == 1 && text.stdout.contains("FAILED at seq \(c.seq): \(c.kind)"), "\(text.stdout)")
    }

    @Test("a stored hash that is not 32 bytes is refused by name where the store reads it, and nothing is appended")
    func shortStoredHash() throws {
        let (_, db, _) = try Self.copy()
        let event = #"{"type":"x-note","data":{"procedure":"2026-042"}}"#
        try Tamper(db).execute("UPDATE entries SET leaf_hash = substr(leaf_hash, 1, 31) WHERE seq = 13")
        // The writer reads the last leaf hash to chain the next entry to it.
        let append = try CLI.run(["append", "--db", db, "-"], stdin: Array(event.utf8))
        #expect(append.status == 2, "\(append.stdout)\(append.stderr)")
        #expect(
            append.stderr.contains("the stored leaf hash of seq 13 is 31 bytes, not a 32-byte hash"), "\(append.stderr)"
        )
        #expect(try LogReader.open(path: db).size() == 14)
        // Reading the entry says the same.
        let show = try CLI.run(["show", "--db", db, "13"])
        #expect(show.status == 2 && show.stderr.contains("is 31 bytes, not a 32-byte hash"), "\(show.stderr)")
        // A stream head cut short is refused when a stream-head note is asked for.
        try Tamper(db).execute(
            "UPDATE entries SET leaf_hash = (SELECT leaf_hash FROM entries WHERE seq = 12) WHERE seq = 13")
        try Tamper(db).execute(
            "UPDATE streams SET leaf_hash = substr(leaf_hash, 1, 16) WHERE stream = 'procedure:2026-042'")
        let head = try CLI.run(["prove", "stream", "--db", db, "procedure:2026-042"])
        #expect(
            head.status == 2 && head.stderr.contains("the head of stream procedure:2026-042 is 16 bytes"),
            "\(head.stdout)\(head.stderr)")
    }

    @Test("a truncated log looks intact without a kept checkpoint, which is why auditors keep them")
    func truncationNeedsKeptCheckpoint() throws {
        let (_, db, vkey) = try Self.copy()
        try Self.truncate(try Tamper(db), to: 12)
        #expect(try verify(db, ["--vkey", vkey]).status == 0)
    }

    @Test("a log re-created under another key fails against the trusted key")
    func wrongKey() throws {
        let (_, db, _) = try Self.copy()
        let other = try NoteSigner(name: "achats.ville-exemple.fr/probity", privateKey: Ed25519PrivateKey.generate())
        let outcome = try verify(db, ["--vkey", other.verifier.description])
        #expect(outcome.status == 1 && outcome.firstKind == "key-chain" && outcome.firstSeq == 0)
    }
}
