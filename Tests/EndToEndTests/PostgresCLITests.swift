import Foundation
import Testing

@testable import ProbityFixtures
@testable import ProbityLog

/// `probity` on a PostgreSQL store, run as a user would, against a primary and a streaming standby started
/// by the test: init, append, checkpoint and proofs, verify on both servers, copies both ways, tampering.
@Suite("probity on PostgreSQL", .serialized)
struct PostgresCLITests {
    @Test("init, append, prove and verify on the primary and the standby; copies both ways; tampering caught")
    func userFlow() throws {
        guard PostgresCluster.required() else { return }
        let cluster = try PostgresCluster(standby: true)
        defer { cluster.stop() }
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let env = cluster.environment
        func probity(_ arguments: [String]) throws -> CLI.Result { try CLI.run(arguments, environment: env) }

        // A key made by an ordinary SQLite init (so that the PostgreSQL log has one to take).
        let seed = dir.appendingPathComponent("seed.sqlite").path
        #expect(try probity(["init", "--db", seed, "--origin", "test.example/log"]).status == 0)
        let key = dir.appendingPathComponent("seed.key.pem").path
        let vkey = try String(contentsOfFile: dir.appendingPathComponent("seed.vkey").path, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)

        let created = try probity([
            "init", "--store", cluster.primaryURL, "--origin", "test.example/log", "--key", key, "--json",
        ])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.json["verifier_key"]?.stringValue == vkey)
        // A second init of the same database is refused.
        let again = try probity(["init", "--store", cluster.primaryURL, "--origin", "test.example/log", "--key", key])
        #expect(again.status == 2)
        #expect(again.stderr.contains("already holds tables"))

        let appended = try probity(["append", "--store", cluster.primaryURL, CLI.exampleConversation.path])
        #expect(appended.status == 0, "\(appended.stderr)")
        #expect(appended.stderr.contains("size is now 14"), "\(appended.stderr)")
        // One receipt per event on standard output, each proving against the batch's checkpoint.
        #expect(appended.stdout.components(separatedBy: TlogProof.header).count - 1 == 13)
        let checkpoint = try probity(["checkpoint", "--store", cluster.primaryURL])
        #expect(checkpoint.status == 0)
        #expect(checkpoint.stdout.hasPrefix("test.example/log\n14\n"))

        // The standby, read-only: the same checkpoint, and a full verify.
        try cluster.waitForStandby()
        let fromStandby = try probity(["checkpoint", "--store", cluster.standbyURL])
        #expect(fromStandby.stdout == checkpoint.stdout)
        for url in [cluster.primaryURL, cluster.standbyURL] {
            let verified = try probity(["verify", "--store", url, "--vkey", vkey, "--json"])
            #expect(verified.status == 0, "\(url): \(verified.stdout) \(verified.stderr)")
            #expect(verified.json["intact"] == .bool(true))
            #expect(verified.json["size"]?.uint64Value == 14)
        }
        // The primary's verify is recorded for the console; the standby's cannot be (read-only).
        #expect(try cluster.psql("SELECT count(*) FROM verifications WHERE intact = 1 AND size = 14") == "1")
        let appendToStandby = try probity(["append", "--store", cluster.standbyURL, CLI.exampleConversation.path])
        #expect(appendToStandby.status == 2)
        #expect(appendToStandby.stderr.contains("standby"))

        // Back to a file, and from a file into another empty database: the same checkpoint throughout.
        let back = dir.appendingPathComponent("back.sqlite").path
        let copied = try probity(["migrate", "--from", cluster.standbyURL, "--to", back, "--vkey", vkey, "--json"])
        #expect(copied.status == 0, "\(copied.stdout) \(copied.stderr)")
        #expect(copied.json["same_checkpoint"] == .bool(true))
        #expect(try probity(["checkpoint", "--db", back]).stdout == checkpoint.stdout)
        // Proofs and a stream head from PostgreSQL are those of the file, byte for byte.
        for arguments in [
            ["prove", "inclusion", "7"], ["prove", "inclusion", "7", "--size", "14"],
            ["prove", "consistency", "5", "14"],
            ["prove", "consistency", "1"], ["prove", "stream", "procedure:2026-042", "--key", key],
        ] {
            let fromPostgres = try probity(arguments + ["--store", cluster.standbyURL])
            let fromFile = try probity(arguments + ["--db", back])
            #expect(fromPostgres.status == 0, "\(arguments): \(fromPostgres.stderr)")
            #expect(fromPostgres.stdout == fromFile.stdout, "\(arguments)")
        }
        // Replay, findings, timelines and exports from the standby are those of the file.
        for arguments in [
            ["replay", "--json"], ["findings", "--json"], ["findings", "--procedure", "2026-042", "--lang", "fr"],
            ["timeline", "--procedure", "2026-042", "--tz", "UTC"], ["timeline", "--party", "agent-durand", "--json"],
        ] {
            let fromPostgres = try probity(arguments + ["--store", cluster.standbyURL])
            let fromFile = try probity(arguments + ["--db", back])
            #expect(fromPostgres.status == fromFile.status, "\(arguments): \(fromPostgres.stderr)")
            #expect(fromPostgres.stdout == fromFile.stdout, "\(arguments)")
            #expect(!fromPostgres.stdout.isEmpty, "\(arguments)")
        }
        // A replay of the primary saves the projections' snapshot there; readers then start from it (on the
        // standby too, once replicated) and still give the file's answers.
        #expect(try probity(["replay", "--store", cluster.primaryURL]).status == 0)
        #expect(try cluster.psql("SELECT count(*) FROM projection_snapshots WHERE seq = 13") == "1")
        try cluster.waitForStandby()
        for arguments in [["findings", "--json"], ["timeline", "--party", "agent-durand", "--json"]] {
            #expect(
                try probity(arguments + ["--store", cluster.standbyURL]).stdout
                    == probity(arguments + ["--db", back]).stdout, "\(arguments)")
        }
        let bundle = dir.appendingPathComponent("standby-bundle.zip").path
        let exported = try probity([
            "export", "bundle", "--store", cluster.standbyURL, "--procedure", "2026-042", "--key", key, "-o", bundle,
        ])
        #expect(exported.status == 0, "\(exported.stderr)")
        let checked = try probity(["verify-bundle", bundle, "--vkey", vkey])
        #expect(checked.status == 0, "\(checked.stdout) \(checked.stderr)")
        let csv = dir.appendingPathComponent("standby.csv").path, fileCSV = dir.appendingPathComponent("file.csv").path
        #expect(
            try probity([
                "export", "timeline", "--store", cluster.standbyURL, "--party", "agent-durand", "--format", "csv", "-o",
                csv,
            ]).status == 0)
        #expect(
            try probity([
                "export", "timeline", "--db", back, "--party", "agent-durand", "--format", "csv", "-o", fileCSV,
            ]).status == 0)
        #expect(FileManager.default.contents(atPath: csv) == FileManager.default.contents(atPath: fileCSV))

        // A redaction on PostgreSQL: the payload gone, the log still intact, the entry named redacted.
        let redacted = try probity([
            "redact", "--store", cluster.primaryURL, "4", "--legal-basis", "rgpd-art-17", "--requested-by", "dpo",
            "--json",
        ])
        #expect(redacted.status == 0, "\(redacted.stderr)")
        #expect(try cluster.psql("SELECT count(*) FROM payloads WHERE seq = 4") == "0")
        let afterRedaction = try probity(["verify", "--store", cluster.primaryURL, "--vkey", vkey, "--json"])
        #expect(afterRedaction.status == 0, "\(afterRedaction.stdout)")
        let twice = try probity([
            "redact", "--store", cluster.primaryURL, "4", "--legal-basis", "rgpd-art-17", "--requested-by", "dpo",
        ])
        #expect(twice.status == 2)
        #expect(twice.stderr.contains("no payload to redact"))
        try cluster.psql("CREATE DATABASE second OWNER probity")
        let second = "postgres://probity@127.0.0.1:\(cluster.primaryPort)/second"
        let forth = try probity(["migrate", "--from", back, "--to", second, "--vkey", vkey, "--json"])
        #expect(forth.status == 0, "\(forth.stdout) \(forth.stderr)")
        #expect(try probity(["checkpoint", "--store", second]).stdout == checkpoint.stdout)

        // Tampering on the server: an entry rewritten, then a trigger planted.
        try cluster.psql(
            "UPDATE entries SET bytes = convert_to(replace(convert_from(bytes, 'UTF8'), 'voirie', 'voirix'), 'UTF8') WHERE seq = 3"
        )
        let tampered = try probity(["verify", "--store", cluster.primaryURL, "--vkey", vkey, "--json"])
        #expect(tampered.status == 1)
        #expect(tampered.json["intact"] == .bool(false))
        #expect(tampered.json["first_failure"]?["seq"]?.uint64Value == 3)
        try cluster.psql(
            "CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'; CREATE TRIGGER sneaky BEFORE INSERT ON entries FOR EACH ROW EXECUTE FUNCTION noop()",
            database: "second")
        let trigger = try probity(["verify", "--store", second, "--vkey", vkey])
        #expect(trigger.status == 1)
        #expect(trigger.stdout.contains("a trigger \"sneaky\" on entries"), "\(trigger.stdout)")
        // Derived tables edited on the server: named, as on SQLite.
        try cluster.psql(
            "UPDATE streams SET seq = seq - 1 WHERE stream = 'procedure:2026-042'; UPDATE sources SET id = id || '-edited' WHERE seq = (SELECT min(seq) FROM sources)",
            database: "second")
        let derived = try probity(["verify", "--store", second, "--vkey", vkey])
        #expect(derived.status == 1)
        #expect(derived.stdout.contains("the streams table says procedure:2026-042 ends at seq"), "\(derived.stdout)")
        #expect(derived.stdout.contains("the sources table says x"), "\(derived.stdout)")
        #expect(derived.stdout.contains("the sources table lacks x"), "\(derived.stdout)")

        // Commands that read only SQLite files say which commands take a PostgreSQL store.
        let keys = try probity(["keys", "show", "--db", cluster.primaryURL])
        #expect(keys.status == 2)
        #expect(keys.stderr.contains("take --store URL"), "\(keys.stderr)")
        // Wrong password: a clear error, nothing else.
        let wrong = dir.appendingPathComponent("wrong").path
        try "127.0.0.1:*:*:probity:nope\n".write(toFile: wrong, atomically: true, encoding: .utf8)
        chmod(wrong, 0o600)
        let refused = try CLI.run(
            ["checkpoint", "--store", cluster.primaryURL], environment: env.merging(["PGPASSFILE": wrong]) { $1 })
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("password authentication failed for user \"probity\""), "\(refused.stderr)")
        let inURL = try probity(["checkpoint", "--store", "postgres://probity:secret@127.0.0.1/probity"])
        #expect(inURL.status == 2)
        #expect(inURL.stderr.contains("PGPASSFILE"))
        #expect(!inURL.stderr.contains("secret"))
    }

    /// `kill -9` in the middle of a large append: nothing of it is stored (one transaction), the server
    /// releases the lead with the dead session, and the next writer appends at once; the log verifies.
    @Test(
        "a writer killed mid-append, a connection cut mid-append, the server stopped: nothing half-written, clear errors, and the next writer appends at once"
    )
    func killedWriter() throws {
        guard PostgresCluster.required() else { return }
        let cluster = try PostgresCluster()
        defer { cluster.stop() }
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let env = cluster.environment
        let seed = dir.appendingPathComponent("seed.sqlite").path
        #expect(try CLI.run(["init", "--db", seed, "--origin", "test.example/log"]).status == 0)
        let key = dir.appendingPathComponent("seed.key.pem").path
        let vkey = try String(contentsOfFile: dir.appendingPathComponent("seed.vkey").path, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let url = cluster.primaryURL
        #expect(
            try CLI.run(["init", "--store", url, "--origin", "test.example/log", "--key", key], environment: env).status
                == 0)
        #expect(try CLI.run(["append", "--store", url, CLI.exampleConversation.path], environment: env).status == 0)
        let big = dir.appendingPathComponent("big.jsonl").path
        try Data(CLI.moreExchanges(60_000, round: 1)).write(to: URL(fileURLWithPath: big))
        var expected = 14
        for round in 0..<3 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CLI.binary)
            process.arguments = ["append", "--store", url, "--quiet", big]
            process.environment = env
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(UInt32(400_000 + 300_000 * round))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal, "round \(round): the append ended before the kill")
            // The killed append's transaction never committed: the log is as it was.
            #expect(try cluster.psql("SELECT count(*) FROM entries") == String(expected), "round \(round)")
            let next = try CLI.run(
                ["append", "--store", url, "--quiet", "-"], stdin: CLI.moreExchanges(3, round: 100 + round),
                environment: env)
            #expect(next.status == 0, "round \(round): \(next.stderr)")
            expected += 3
            #expect(try cluster.psql("SELECT count(*) FROM entries") == String(expected))
        }
        // The connection cut by the server in the middle of an append: a clear error, nothing stored.
        let cut = Process()
        cut.executableURL = URL(fileURLWithPath: CLI.binary)
        cut.arguments = ["append", "--store", url, "--quiet", big]
        cut.environment = env
        let cutErrors = Pipe()
        cut.standardOutput = FileHandle.nullDevice
        cut.standardError = cutErrors
        try cut.run()
        // Once its transaction is open (it has written batches), its session is ended by the server.
        let inTransaction =
            "FROM pg_stat_activity WHERE application_name = 'probity' AND datname = 'probity' AND xact_start IS NOT NULL"
        for _ in 0..<200 {
            if try cluster.psql("SELECT count(*) \(inTransaction)") != "0" { break }
            usleep(20_000)
        }
        usleep(200_000)
        try cluster.psql("SELECT pg_terminate_backend(pid) \(inTransaction)")
        cut.waitUntilExit()
        let cutMessage = String(decoding: cutErrors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(cut.terminationStatus == 2, "\(cutMessage)")
        #expect(cutMessage.contains(cluster.primaryURL), "\(cutMessage)")
        #expect(try cluster.psql("SELECT count(*) FROM entries") == String(expected))
        // The server stopped: appends and reads fail with a clear error; once it is back, they work.
        try cluster.script(["stop", cluster.directory.path, "primary"])
        let down = try CLI.run(
            ["append", "--store", url, "--quiet", "-"], stdin: CLI.moreExchanges(3, round: 200), environment: env)
        #expect(down.status == 2)
        #expect(down.stderr.contains("cannot connect to \(url)"), "\(down.stderr)")
        try cluster.script(["start", cluster.directory.path, "primary"])
        let back = try CLI.run(
            ["append", "--store", url, "--quiet", "-"], stdin: CLI.moreExchanges(3, round: 200), environment: env)
        #expect(back.status == 0, "\(back.stderr)")
        expected += 3
        let verified = try CLI.run(["verify", "--store", url, "--vkey", vkey, "--json"], environment: env)
        #expect(verified.status == 0, "\(verified.stdout)")
        #expect(verified.json["size"]?.uint64Value == UInt64(expected))
    }
}
