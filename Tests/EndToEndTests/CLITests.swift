import CoreFoundation
import Foundation
import GRDB
import Glibc
import ProbityDomain
import ProbityLog
import ProbityStore
import Testing

@testable import ProbityFixtures

@Suite("probity as a user runs it")
struct CLITests {
    static let origin = "achats.ville-exemple.fr/probity"

    /// A new store with the example conversation appended.
    static func store() throws -> (dir: URL, db: String, vkey: String) {
        let dir = try CLI.temporaryDirectory()
        let db = dir.appendingPathComponent("log.sqlite").path
        let created = try CLI.run(["init", "--db", db, "--origin", origin, "--json"])
        try #require(created.status == 0, "\(created.stderr)")
        let appended = try CLI.run(["append", "--db", db, "--quiet", CLI.exampleConversation.path])
        try #require(appended.status == 0, "\(appended.stderr)")
        return (dir, db, try #require(created.json["verifier_key"]?.stringValue))
    }

    static func size(_ db: String) throws -> UInt64 { try LogReader.open(path: db).size() }

    @Test("init writes a 0600 key, the public PEM and the vkey; a second init refuses to overwrite")
    func initialize() throws {
        let (dir, db, vkey) = try Self.store()
        var info = Glibc.stat()
        stat(dir.appendingPathComponent("log.key.pem").path, &info)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(try String(contentsOf: dir.appendingPathComponent("log.vkey"), encoding: .utf8) == vkey + "\n")
        #expect(try NoteVerifier(vkey).name == Self.origin)
        let again = try CLI.run(["init", "--db", db, "--origin", Self.origin])
        #expect(again.status == 2 && again.stderr.contains("already exists"))
        let badOrigin = try CLI.run([
            "init", "--db", dir.appendingPathComponent("x.sqlite").path, "--origin", "has space",
        ])
        #expect(badOrigin.status == 2 && badOrigin.stderr.contains("--origin"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("x.sqlite").path))
    }

    @Test("a signing key readable by others, or not a key at all, is refused and nothing is created")
    func badKeys() throws {
        let dir = try CLI.temporaryDirectory()
        let keyPath = dir.appendingPathComponent("shared.pem").path
        try Ed25519PrivateKey.generate().pem.write(toFile: keyPath, atomically: true, encoding: .utf8)
        chmod(keyPath, 0o644)
        let db = dir.appendingPathComponent("log.sqlite").path
        let open = try CLI.run(["init", "--db", db, "--origin", Self.origin, "--key", keyPath])
        #expect(open.status == 2 && open.stderr.contains("chmod 600"), "\(open.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db))
        try "not a key\n".write(toFile: keyPath, atomically: true, encoding: .utf8)
        chmod(keyPath, 0o600)
        let garbage = try CLI.run(["init", "--db", db, "--origin", Self.origin, "--key", keyPath])
        #expect(garbage.status == 2 && garbage.stderr.contains("not an Ed25519 PEM private key"), "\(garbage.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db))
    }

    @Test("append prints receipts whose proofs verify offline with verify-proof")
    func receipts() throws {
        let (dir, db, vkey) = try Self.store()
        let event =
            #"{"type":"exchange.recorded","data":{"procedure":"2026-042","channel":"email","kind":"message","visibility":"direct","from":"contact-martin","to":["agent-durand"],"occurred_at":"2026-03-12T09:30:00+01:00"},"payload":{"subject":"Visite de site","text":"Peut-on visiter le chantier jeudi ?"}}"#
        let result = try CLI.run(["append", "--db", db, "--json", "-"], stdin: Array(event.utf8))
        #expect(result.status == 0, "\(result.stderr)")
        let receipt = result.json
        let seq = try #require(receipt["seq"]?.uint64Value)
        #expect(seq == 14)
        let proofPath = dir.appendingPathComponent("r.tlog-proof").path
        try receipt["proof"]!.stringValue!.write(toFile: proofPath, atomically: true, encoding: .utf8)
        let entryPath = dir.appendingPathComponent("r.json").path
        try CLI.run(["show", "--db", db, "14"]).stdout.write(toFile: entryPath, atomically: true, encoding: .utf8)
        let proven = try CLI.run(["verify-proof", "--entry", entryPath, "--proof", proofPath, "--vkey", vkey])
        #expect(proven.status == 0 && proven.stdout.hasPrefix("PROVEN"), "\(proven.stdout)\(proven.stderr)")
        // The entry of another seq does not match this proof.
        try CLI.run(["show", "--db", db, "13"]).stdout.write(toFile: entryPath, atomically: true, encoding: .utf8)
        let wrong = try CLI.run(["verify-proof", "--entry", entryPath, "--proof", proofPath, "--vkey", vkey])
        #expect(wrong.status == 1 && wrong.stdout.contains("NOT PROVEN"))
        // The payload is stored apart, with its salt, and is what the entry commits to.
        let payload = try CLI.run(["show", "--db", db, "14", "--payload"])
        #expect(payload.stdout == #"{"subject":"Visite de site","text":"Peut-on visiter le chantier jeudi ?"}"# + "\n")
        #expect(
            !String(decoding: try LogReader.open(path: db).entry(seq: 14)!.bytes, as: UTF8.self).contains("chantier"))
    }

    @Test("receipts redirected to a file (copied by the kernel) or appended to one (copied by probity) are whole")
    func receiptsToFiles() throws {
        let (dir, db, vkey) = try Self.store()
        let events = dir.appendingPathComponent("events.jsonl")
        func exchanges(_ range: Range<Int>) -> String {
            range.map {
                #"{"type":"exchange.recorded","data":{"procedure":"2026-042","channel":"email","kind":"message","visibility":"direct","from":"contact-martin","to":["agent-durand"],"source":{"platform":"email","id":"m\#($0)"},"occurred_at":"2026-03-12T09:30:00+01:00"},"payload":{"text":"message \#($0)"}}"#
            }.joined(separator: "\n")
        }
        let out = dir.appendingPathComponent("receipts.jsonl").path
        try exchanges(0..<300).write(to: events, atomically: true, encoding: .utf8)
        // `>` gives a regular file: sendfile. `>>` opens it O_APPEND, which sendfile refuses: the copy loop.
        for redirect in [">", ">>"] {
            let shell = try CLI.run(
                ["-c", "'\(CLI.binary)' append --db '\(db)' --json '\(events.path)' \(redirect) '\(out)'"],
                executable: "/bin/sh")
            #expect(shell.status == 0, "\(shell.stderr)")
            try exchanges(300..<600).write(to: events, atomically: true, encoding: .utf8)
        }
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        let receipts = try lines.map { try JSONParser.parse(Array($0.utf8)) }
        #expect(receipts.map { $0["seq"]?.uint64Value } == (14..<614).map { UInt64($0) })
        let proofPath = dir.appendingPathComponent("last.tlog-proof").path
        try receipts.last!["proof"]!.stringValue!.write(toFile: proofPath, atomically: true, encoding: .utf8)
        let entryPath = dir.appendingPathComponent("last.json").path
        try CLI.run(["show", "--db", db, "613"]).stdout.write(toFile: entryPath, atomically: true, encoding: .utf8)
        let proven = try CLI.run(["verify-proof", "--entry", entryPath, "--proof", proofPath, "--vkey", vkey])
        #expect(proven.status == 0 && proven.stdout.hasPrefix("PROVEN"), "\(proven.stdout)\(proven.stderr)")
    }

    @Test("a checkpoint signature verifies with openssl pkeyutl and the exported PEM")
    func openssl() throws {
        let (dir, db, _) = try Self.store()
        let note = try SignedNote.parse(try CLI.run(["checkpoint", "--db", db]).stdout)
        let message = dir.appendingPathComponent("checkpoint.msg"),
            signature = dir.appendingPathComponent("checkpoint.sig")
        try Data(note.text.utf8).write(to: message)
        try Data(note.signatures[0].bytes).write(to: signature)
        let pem = dir.appendingPathComponent("log.pub.pem").path
        let args = [
            "pkeyutl", "-verify", "-pubin", "-inkey", pem, "-rawin", "-in", message.path, "-sigfile", signature.path,
        ]
        let ok = try CLI.run(args, executable: "/usr/bin/openssl")
        #expect(ok.status == 0 && ok.stdout.contains("Signature Verified Successfully"), "\(ok.stdout)\(ok.stderr)")
        try Data((note.text + "x").utf8).write(to: message)
        #expect(try CLI.run(args, executable: "/usr/bin/openssl").status != 0)
    }

    @Test(
        "bad input is refused with the line and field named, exit 2, and nothing appended",
        arguments: [
            (
                "{\"type\":\"x-a\",\"data\":{}}\n{\"type\": \"exchange.recorded\", \"data\": {\"to\": [\"a\",}}\n",
                "line 2"
            ),
            (
                "{\"type\":\"x-a\",\"data\":{}}\n{\"type\":\"exchange.recorded\",\"data\":{\"to\":\"agent\"}}\n",
                "line 2: data.to"
            ),
            ("{\"type\":\"x-a\",\"data\":{}}\n{\"data\":{}}\n", "line 2: type: missing"),
            ("{\"type\":\"x-a\",\"data\":{}}\n{\"type\":\"exchange.recorded\"}\n", "line 2: data: missing"),
            (
                "{\"type\":\"x-a\",\"data\":{}}\n{\"type\":\"exchange.hacked\",\"data\":{}}\n",
                "line 2: type: unknown event type"
            ),
            (
                "{\"type\":\"x-a\",\"data\":{}}\n{\"type\":\"exchange.recorded\",\"data\":{\"procedure\":7}}\n",
                "line 2: data.procedure"
            ),
            ("[{\"type\":\"x-a\",\"data\":{}}, {\"type\":\"key.rotated\",\"data\":{}}]", "event 2 of the array: type"),
            ("{\"type\":\"x-a\",\"data\":{}}\n{\"type\":\"x-a\",\"data\":{},\"payload\":[1]}\n", "line 2: payload"),
            ("", "holds no event"),
        ])
    func badInput(input: String, message: String) throws {
        let (_, db, _) = try Self.store()
        let before = try Self.size(db)
        let result = try CLI.run(["append", "--db", db, "-"], stdin: Array(input.utf8))
        #expect(result.status == 2)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(try Self.size(db) == before)
    }

    @Test("invalid UTF-8 is refused with its line, and nothing is appended")
    func invalidUTF8() throws {
        let (_, db, _) = try Self.store()
        let before = try Self.size(db)
        let input =
            Array("{\"type\":\"x-a\",\"data\":{}}\n{\"type\":\"exchange.recorded\",\"data\":{\"channel\":\"".utf8) + [
                0xC3, 0x28,
            ] + Array("\"}}\n".utf8)
        let result = try CLI.run(["append", "--db", db, "-"], stdin: input)
        #expect(
            result.status == 2 && result.stderr.contains("line 2") && result.stderr.contains("UTF-8"),
            "\(result.stderr)")
        #expect(try Self.size(db) == before)
    }

    @Test("a second writer gets a clear error while the first holds the store")
    func oneWriter() throws {
        let (dir, db, _) = try Self.store()
        let key = try Ed25519PrivateKey(
            pem: String(contentsOf: dir.appendingPathComponent("log.key.pem"), encoding: .utf8))
        let writer = try LogWriter.open(path: db, signer: NoteSigner(name: Self.origin, privateKey: key))
        let result = try CLI.run(["append", "--db", db, "-"], stdin: Array(#"{"type":"x-a","data":{}}"#.utf8))
        #expect(
            result.status == 2 && result.stderr.contains("being written by process \(getpid())"), "\(result.stderr)")
        #expect(try writer.size() == 14)
        // Readers are never blocked by the writer.
        #expect(try verify(db).status == 0)
    }

    @Test("verify works on a read-only copy, as a user who cannot write the file or its folder")
    func readOnlyCopy() throws {
        let (dir, db, vkey) = try Self.store()
        let copyDir = dir.appendingPathComponent("ro")
        try FileManager.default.createDirectory(at: copyDir, withIntermediateDirectories: true)
        let copy = copyDir.appendingPathComponent("log.sqlite").path
        try FileManager.default.copyItem(atPath: db, toPath: copy)
        chmod(copy, 0o444)
        chmod(copyDir.path, 0o555)
        chmod(dir.path, 0o755)
        defer { chmod(copyDir.path, 0o755) }
        // As root, permissions do not bind; run as nobody when we can, to make them real.
        let asNobody =
            getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser")
            && Self.everyoneCanReach(CLI.binary)
        func run(_ arguments: [String]) throws -> CLI.Result {
            asNobody
                ? try CLI.run(["-u", "nobody", "--", CLI.binary] + arguments, executable: "/usr/sbin/runuser")
                : try CLI.run(arguments)
        }
        let result = try run(["verify", "--db", copy, "--vkey", vkey])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("summary: intact"))
        // Replay and the views work too; the snapshot (a cache) cannot be saved, and replay says so.
        let replay = try run(["replay", "--db", copy])
        #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")
        if asNobody || getuid() != 0 {
            #expect(replay.stderr.contains("cannot save the projections' snapshot"), "\(replay.stderr)")
        }
        #expect(try run(["findings", "--db", copy]).status == 0)
    }

    static func everyoneCanReach(_ path: String) -> Bool {
        var url = URL(fileURLWithPath: path)
        while url.path != "/" {
            var info = Glibc.stat()
            guard stat(url.path, &info) == 0, info.st_mode & 0o001 != 0 else { return false }
            url.deleteLastPathComponent()
        }
        return true
    }

    @Test("keys rotate: the new key signs from then on, and the chain verifies from the first key alone")
    func rotation() throws {
        let (dir, db, vkey) = try Self.store()
        let rotated = try CLI.run(["keys", "rotate", "--db", db, "--reason", "annual rotation", "--json"])
        #expect(rotated.status == 0, "\(rotated.stderr)")
        let newKey = try #require(rotated.json["verifier_key"]?.stringValue)
        #expect(newKey != vkey)
        let appended = try CLI.run(
            ["append", "--db", db, "--quiet", "-"],
            stdin: Array(#"{"type":"x-a","data":{"procedure":"2026-042"}}"#.utf8))
        #expect(appended.status == 0, "\(appended.stderr)")
        let latest = try SignedCheckpoint(parsing: CLI.run(["checkpoint", "--db", db]).stdout)
        let newVerifier = try NoteVerifier(newKey), firstVerifier = try NoteVerifier(vkey)
        #expect(latest.isSigned(by: newVerifier) && !latest.isSigned(by: firstVerifier))
        let outcome = try verify(db, ["--vkey", vkey])
        #expect(outcome.status == 0 && outcome.json["keys"]?.arrayValue?.count == 2, "\(outcome.json)")
        let shown = try CLI.run(["keys", "show", "--db", db, "--json"]).json
        #expect(shown["current"]?.stringValue == newKey && shown["chain"]?.arrayValue?.count == 2)
        // A receipt under the new key: proven with the chain's keys, not with the first key alone.
        let receipt = try CLI.run(
            ["append", "--db", db, "--json", "-"], stdin: Array(#"{"type":"x-note","data":{}}"#.utf8)
        ).json
        let proofPath = dir.appendingPathComponent("rotated.tlog-proof").path,
            entryPath = dir.appendingPathComponent("rotated.json").path
        try receipt["proof"]!.stringValue!.write(toFile: proofPath, atomically: true, encoding: .utf8)
        try CLI.run(["show", "--db", db, String(receipt["seq"]!.uint64Value!)]).stdout.write(
            toFile: entryPath, atomically: true, encoding: .utf8)
        let chain = try CLI.run([
            "verify-proof", "--entry", entryPath, "--proof", proofPath, "--vkey", vkey, "--vkey", newKey,
        ])
        #expect(chain.status == 0 && chain.stdout.hasPrefix("PROVEN"), "\(chain.stdout)\(chain.stderr)")
        let firstOnly = try CLI.run(["verify-proof", "--entry", entryPath, "--proof", proofPath, "--vkey", vkey])
        #expect(
            firstOnly.status == 1 && firstOnly.stdout.contains("not signed by the key given"), "\(firstOnly.stdout)")
        // The old key can no longer append.
        let old = try CLI.run(
            ["append", "--db", db, "--key", dir.appendingPathComponent("log.key.pem").path, "-"],
            stdin: Array(#"{"type":"x-a","data":{}}"#.utf8))
        #expect(old.status == 2 && old.stderr.contains("not the log's current signing key"))
    }

    @Test("consistency proofs from the CLI verify between checkpoints")
    func consistency() throws {
        let (_, db, _) = try Self.store()
        let old = try SignedCheckpoint(parsing: CLI.run(["checkpoint", "--db", db, "--size", "1"]).stdout).checkpoint
        for round in 0..<3 {
            #expect(
                try CLI.run(["append", "--db", db, "--quiet", "-"], stdin: CLI.moreExchanges(11, round: round)).status
                    == 0)
        }
        let new = try SignedCheckpoint(parsing: CLI.run(["checkpoint", "--db", db]).stdout).checkpoint
        #expect(new.size == 47)
        for oldSize in [old.size, 7, 14, 27, 40, 46] {
            let proof = try CLI.run(["prove", "consistency", "--db", db, String(oldSize), "--json"]).json
            let hashes = proof["proof"]!.arrayValue!.map { Base64.digest($0.stringValue!)! }
            let oldRoot = Base64.digest(proof["old_root"]!.stringValue!)!
            try Merkle.verifyConsistency(
                oldSize: oldSize, newSize: new.size, oldRoot: oldRoot, newRoot: new.root, proof: hashes)
            if oldSize == 1 { #expect(oldRoot == old.root) }
        }
        let missing = try CLI.run(["checkpoint", "--db", db, "--size", "5"])
        #expect(missing.status == 2 && missing.stderr.contains("no checkpoint of size 5"))
    }

    @Test("replay rebuilds the projections, and --until shows an earlier state")
    func replay() throws {
        let (_, db, _) = try Self.store()
        let full = try CLI.run(["replay", "--db", db, "--json"])
        #expect(full.status == 0)
        #expect(full.json["by_procedure"]?["2026-042"]?.uint64Value == 8)
        #expect(full.json["drift"]?.arrayValue?.isEmpty == true)
        let early = try CLI.run(["replay", "--db", db, "--until", "5", "--json"]).json
        #expect(early["entries"]?.uint64Value == 6 && early["by_type"]?["party.registered"]?.uint64Value == 5)
        #expect(early["by_procedure"]?.objectValue?.isEmpty == true)
        // Drift in the stored projection is reported.
        try Tamper(db).execute("UPDATE streams SET entries = 99 WHERE stream = 'procedure:2026-042'")
        let drifted = try CLI.run(["replay", "--db", db])
        #expect(
            drifted.status == 1
                && drifted.stdout.contains("procedure \"2026-042\": replay counts 8, the store holds 99"))
        let bad = try CLI.run(["replay", "--db", db, "--until", "yesterday"])
        #expect(bad.status == 2 && bad.stderr.contains("--until"))
    }

    @Test("replay stops at a chain break and exits 1, naming the seq")
    func replayChainBreak() throws {
        let (_, db, _) = try Self.store()
        try Tamper(db).rewriteEntry(6) { $0["by"] = .string("mallory") }
        let result = try CLI.run(["replay", "--db", db])
        #expect(result.status == 1 && result.stdout.contains("FAILED at seq 6: chain"), "\(result.stdout)")
        #expect(result.stdout.contains("replayed 7 entries"), "\(result.stdout)")
    }

    @Test("proof commands refuse bad sizes and malformed proofs with exit 2")
    func proofErrors() throws {
        let (dir, db, vkey) = try Self.store()
        let backwards = try CLI.run(["prove", "consistency", "--db", db, "10", "5"])
        #expect(backwards.status == 2 && backwards.stderr.contains("0 < OLD ≤ NEW"), "\(backwards.stderr)")
        let beyond = try CLI.run(["prove", "inclusion", "--db", db, "99"])
        #expect(
            beyond.status == 2 && beyond.stderr.contains("seq 99 is not in the checkpoint of size 14"),
            "\(beyond.stderr)")
        let entry = dir.appendingPathComponent("e.json"), proof = dir.appendingPathComponent("p.tlog-proof")
        try CLI.run(["show", "--db", db, "3"]).stdout.write(to: entry, atomically: true, encoding: .utf8)
        try "c2sp.org/tlog-proof@v1\nindex three\n\n".write(to: proof, atomically: true, encoding: .utf8)
        let malformed = try CLI.run(["verify-proof", "--entry", entry.path, "--proof", proof.path, "--vkey", vkey])
        #expect(malformed.status == 2 && malformed.stderr.contains("is not a .tlog-proof"), "\(malformed.stderr)")
        let badKey = try CLI.run(["verify-proof", "--entry", entry.path, "--proof", proof.path, "--vkey", "nonsense"])
        #expect(badKey.status == 2 && badKey.stderr.contains("--vkey nonsense"), "\(badKey.stderr)")
    }

    @Test(
        "every command's --help shows an example",
        arguments: [
            ["init"], ["append"], ["verify"], ["checkpoint"], ["prove", "inclusion"], ["prove", "consistency"],
            ["prove", "stream"],
            ["verify-proof"], ["show"], ["replay"], ["keys", "show"], ["keys", "rotate"], ["export", "tiles"],
            ["witness", "init"], ["witness", "serve"], ["capture"], ["capture", "maildir"], ["capture", "drop"],
            ["capture", "status"], ["capture", "tag"],
        ])
    func help(command: [String]) throws {
        let result = try CLI.run(command + ["--help"])
        #expect(result.status == 0 && result.stdout.contains("Example:"), "\(command)")
    }

    @Test("usage errors exit 2 with a message")
    func usage() throws {
        let result = try CLI.run(["verify"])
        #expect(result.status == 2 && result.stderr.contains("--db"))
        let missing = try CLI.run(["verify", "--db", "/nonexistent/log.sqlite"])
        #expect(missing.status == 2 && missing.stderr.contains("no store at /nonexistent/log.sqlite"))
        let text = try CLI.temporaryDirectory().appendingPathComponent("notes.sqlite")
        try "not a database\n".write(to: text, atomically: true, encoding: .utf8)
        let notStore = try CLI.run(["verify", "--db", text.path])
        #expect(notStore.status == 2 && notStore.stderr.contains("is not a SQLite database"), "\(notStore.stderr)")
    }

    @Test("stream-head notes are signed by the log key and name the stream's last entry")
    func streamHead() throws {
        let (_, db, vkey) = try Self.store()
        let text = try CLI.run(["prove", "stream", "--db", db, "procedure:2026-042"]).stdout
        let note = try SignedNote.parse(text)
        #expect(try NoteVerifier(vkey).verifies(note))
        let head = try StreamHead(text: note.text)
        #expect(head.lastSeq == 13 && head.treeSize == 14)
        #expect(head.lastLeafHash == (try LogReader.open(path: db).entry(seq: 13)!.leafHash))
    }
}
