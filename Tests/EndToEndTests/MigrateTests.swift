import Foundation
import GRDB
import Glibc
import ProbityLog
import ProbityStore
import Testing

@testable import ProbityFixtures

/// A format-1 store written by Probity 0.4.0 (Tests/Fixtures/format1) migrated as a user would: refused by
/// every command until `probity migrate`, then the same log — same checkpoints, same proofs, byte for byte.
@Suite("probity migrate: a format-1 store from before the tiles")
struct MigrateTests {
    static let fixture = CLI.packageRoot.appendingPathComponent("Tests/Fixtures/format1")

    /// A private copy of the fixture (the store and its keys) to migrate.
    static func copy() throws -> (dir: URL, db: String) {
        let dir = try CLI.temporaryDirectory()
        for name in try FileManager.default.contentsOfDirectory(atPath: fixture.path) {
            try FileManager.default.copyItem(
                at: fixture.appendingPathComponent(name), to: dir.appendingPathComponent(name))
        }
        for key in ["format1.key.pem", "format1.key-rotated.pem"] { chmod(dir.appendingPathComponent(key).path, 0o600) }
        return (dir, dir.appendingPathComponent("format1.sqlite").path)
    }

    static func text(_ dir: URL, _ name: String) throws -> String {
        try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
    }

    @Test("commands refuse a format-1 store and say to migrate; migrate keeps a backup and verifies")
    func migrates() throws {
        let (dir, db) = try Self.copy()
        let vkey = try Self.text(dir, "format1.vkey").trimmingCharacters(in: .whitespacesAndNewlines)
        let commands: [[String]] = [["verify", "--db", db], ["checkpoint", "--db", db], ["append", "--db", db, "-"]]
        for args in commands {
            let refused = try CLI.run(args, stdin: Array(#"{"type":"x-note","data":{"procedure":"2026-042"}}"#.utf8))
            #expect(
                refused.status == 2 && refused.stderr.contains("probity migrate --db"), "\(args): \(refused.stderr)")
        }
        let backup = dir.appendingPathComponent("before.sqlite").path
        let migrated = try CLI.run(["migrate", "--db", db, "--backup", backup, "--vkey", vkey, "--json"])
        try #require(migrated.status == 0, "\(migrated.stderr)")
        #expect(migrated.json["from_format"]?.stringValue == "1" && migrated.json["to_format"]?.stringValue == "2")
        #expect(migrated.json["size"]?.doubleValue == 716 && migrated.json["checkpoints"]?.doubleValue == 6)
        #expect(migrated.json["verify"]?.objectValue?["intact"] == .bool(true), "\(migrated.stdout)")
        // The backup is the store as it was: still format 1, still refused.
        #expect(try StoreMigration.format(path: backup) == "1")
        let mode = try FileManager.default.attributesOfItem(atPath: backup)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // Same checkpoint and proofs as the format-1 store printed, byte for byte.
        #expect(try CLI.run(["checkpoint", "--db", db]).stdout == Self.text(dir, "latest.checkpoint"))
        #expect(
            try CLI.run(["prove", "inclusion", "--db", db, "5", "--size", "14"]).stdout
                == Self.text(dir, "inclusion-5-14.proof"))
        #expect(try CLI.run(["prove", "inclusion", "--db", db, "400"]).stdout == Self.text(dir, "inclusion-400.proof"))
        #expect(
            try CLI.run(["prove", "consistency", "--db", db, "314", "716"]).stdout
                == Self.text(dir, "consistency-314-716.txt"))
        // The migrated log grows and verifies; migrating again has nothing to do.
        let event = #"{"type":"x-note","data":{"procedure":"2026-042"}}"#
        let appended = try CLI.run(
            [
                "append", "--db", db, "--key", dir.appendingPathComponent("format1.key-rotated.pem").path, "--quiet",
                "-",
            ],
            stdin: Array(event.utf8))
        #expect(appended.status == 0, "\(appended.stderr)")
        let verified = try CLI.run(["verify", "--db", db, "--vkey", vkey])
        #expect(verified.status == 0 && verified.stdout.contains("717 entries"), "\(verified.stdout)\(verified.stderr)")
        let again = try CLI.run(["migrate", "--db", db])
        #expect(again.status == 0 && again.stdout.contains("already of format 2"))
    }

    @Test("a format-1 store whose Merkle nodes disagree with its entries is refused, unchanged, without a backup")
    func refusesATamperedStore() throws {
        let (dir, db) = try Self.copy()
        let queue = try DatabaseQueue(path: db)
        try queue.write { try $0.execute(sql: "UPDATE nodes SET hash = zeroblob(32) WHERE id = 100") }
        try queue.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        let backup = dir.appendingPathComponent("before.sqlite").path
        let refused = try CLI.run(["migrate", "--db", db, "--backup", backup])
        #expect(refused.status == 2 && refused.stderr.contains("cannot migrate"), "\(refused.stderr)")
        #expect(refused.stderr.contains("nothing was changed"))
        #expect(try StoreMigration.format(path: db) == "1")
        let after = try Data(contentsOf: URL(fileURLWithPath: db))
        #expect(before == after)
        // The store is unchanged, so no backup of it is left behind.
        #expect(!FileManager.default.fileExists(atPath: backup))
    }

    @Test("a backup path that exists already is refused, and the store is left as it was")
    func refusesAnExistingBackup() throws {
        let (dir, db) = try Self.copy()
        let backup = dir.appendingPathComponent("taken.sqlite").path
        try "keep me".write(toFile: backup, atomically: true, encoding: .utf8)
        let refused = try CLI.run(["migrate", "--db", db, "--backup", backup])
        #expect(refused.status == 2 && refused.stderr.contains("already exists"), "\(refused.stderr)")
        #expect(try String(contentsOfFile: backup, encoding: .utf8) == "keep me")
        #expect(try StoreMigration.format(path: db) == "1")
    }

    @Test("probityd migrates a format-1 store at start, with a backup beside it")
    func daemonMigrates() throws {
        let (dir, db) = try Self.copy()
        let socket = dir.appendingPathComponent("probityd.sock").path
        let daemon = try DaemonProcess(
            [
                "--store", db, "--socket", socket, "--key-file",
                dir.appendingPathComponent("format1.key-rotated.pem").path,
            ],
            socket: socket)
        defer { daemon.terminate() }
        let backups = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".format1-") }
        #expect(backups.count == 1, "\(backups)")
        #expect(try StoreMigration.format(path: dir.appendingPathComponent(backups.first ?? "none").path) == "1")
        #expect(try StoreMigration.format(path: db) == "2")
        #expect(daemon.stderr.contains("migrated"), "\(daemon.stderr)")
        #expect(try LogReader.open(path: db).size() == 716)
    }

    @Test("probityd refuses to start on a migrated store that does not verify, naming the backup")
    func daemonRefusesAStoreThatDoesNotVerify() throws {
        let (dir, db) = try Self.copy()
        // A payload altered after it was committed: migration (which checks the tree) passes, verify does not.
        let queue = try DatabaseQueue(path: db)
        try queue.write { db in
            try db.execute(
                sql:
                    "UPDATE payloads SET bytes = CAST('{\"text\":\"altered\"}' AS BLOB) WHERE seq = (SELECT MIN(seq) FROM payloads)"
            )
        }
        try queue.close()
        let socket = dir.appendingPathComponent("probityd.sock").path
        let daemon = try DaemonProcess(
            [
                "--store", db, "--socket", socket, "--key-file",
                dir.appendingPathComponent("format1.key-rotated.pem").path,
            ],
            socket: socket, wait: false)
        let status = daemon.exitStatus()
        #expect(status != nil && status != 0, "\(daemon.stderr)")
        let backups = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".format1-") }
        #expect(backups.count == 1, "\(backups)")
        #expect(daemon.stderr.contains("does not verify") && daemon.stderr.contains(backups.first ?? "no backup"))
        #expect(try StoreMigration.format(path: dir.appendingPathComponent(backups.first ?? "none").path) == "1")
        #expect(!FileManager.default.fileExists(atPath: socket))
    }
}
