import Foundation
import ProbityDomain
import ProbityLog
import ProbityStore
import Testing

@testable import ProbityFixtures

@Suite("probity under crashes and concurrent readers")
struct DurabilityTests {
    /// A JSONL file of `count` exchanges, each with a payload.
    static func eventsFile(_ dir: URL, count: Int) throws -> String {
        var lines: [String] = []
        lines.reserveCapacity(count)
        for i in 0..<count {
            lines.append(
                #"{"type":"x-exchange","data":{"procedure":"2026-\#(i % 7)","channel":"email","from":"sup-\#(i % 11)","to":["agent-\#(i % 3)"]},"payload":{"text":"message \#(i)"}}"#
            )
        }
        let path = dir.appendingPathComponent("events.jsonl").path
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A new store in its own folder, with the path of its database.
    static func newStore(origin: String) throws -> (dir: URL, db: String) {
        let dir = try CLI.temporaryDirectory()
        let db = dir.appendingPathComponent("log.sqlite").path
        #expect(try CLI.run(["init", "--db", db, "--origin", origin]).status == 0)
        return (dir, db)
    }

    /// Runs `probity append` on `file` in the background.
    static func startAppend(db: String, file: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["append", "--db", db, "--quiet", file]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test("append killed with SIGKILL appends all or nothing, and the log verifies")
    func killDuringAppend() throws {
        let (dir, db) = try Self.newStore(origin: "crash.example/probity")
        let events = try Self.eventsFile(dir, count: 60_000)
        var interrupted = 0
        for round in 0..<2 {
            let before = try LogReader.open(path: db).size()
            let process = try Self.startAppend(db: db, file: events)
            // Kill it while it writes: once its one transaction has spilled into the WAL.
            func walBytes() -> Int {
                (try? FileManager.default.attributesOfItem(atPath: db + "-wal")[.size] as? Int) ?? 0
            }
            let deadline = Date().addingTimeInterval(60)
            while process.isRunning, Date() < deadline, walBytes() < (round + 1) << 22 { usleep(2_000) }
            let killed = process.isRunning
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let size = try LogReader.open(path: db).size()
            // The whole file is one transaction: it committed whole, or not at all.
            #expect(size == before || size == before + 60_000, "size \(size)")
            if killed && size == before { interrupted += 1 }
            let outcome = try verify(db)
            #expect(outcome.status == 0 && outcome.intact, "\(outcome.json)")
        }
        #expect(interrupted >= 1, "SIGKILL never landed in the middle of an append")
        // The store takes appends again after the crash (the kernel released the writer lock).
        #expect(
            try CLI.run(["append", "--db", db, "--quiet", "-"], stdin: Array(#"{"type":"x-after","data":{}}"#.utf8))
                .status == 0)
        #expect(try verify(db).intact)
    }

    @Test("verify reads a consistent snapshot while another process appends")
    func verifyWhileAppending() throws {
        let (dir, db) = try Self.newStore(origin: "busy.example/probity")
        let events = try Self.eventsFile(dir, count: 20_000)
        let process = try Self.startAppend(db: db, file: events)
        repeat {
            let outcome = try verify(db)
            #expect(outcome.status == 0 && outcome.intact, "\(outcome.json)")
        } while process.isRunning
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(try verify(db).json["size"]?.uint64Value == 20_001)
    }
}
