import Foundation
import GRDB
import Testing

@testable import ProbityDomain
@testable import ProbityLog
@testable import ProbityStore

@Suite("Redaction erases")
struct RedactionErasureTests {
    static func contains(_ path: String, _ marker: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: path) else { return false }
        return data.range(of: Data(marker.utf8)) != nil
    }

    @Test("a redacted payload's bytes are gone from the database file and from the WAL")
    func erased() throws {
        let (writer, path) = try StoreTests.newStore()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let marker = "personal-data-7f3a9c51e2"
        let kept = "kept-payload-0b44d1"
        _ = try writer.append(
            [
                EventInput(
                    type: "x-note", data: ["procedure": .string("2026-042")],
                    payload: .object(["text": .string(marker)])),
                EventInput(
                    type: "x-note", data: ["procedure": .string("2026-042")], payload: .object(["text": .string(kept)])),
            ], by: "test")
        // The payload is in the WAL, and once checkpointed in the database file: both must lose it.
        #expect(Self.contains(path + "-wal", marker))
        _ = try writer.queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)") }
        #expect(Self.contains(path, marker))
        _ = try writer.append(
            [EventInput(type: "x-note", data: ["procedure": .string("2026-043")], payload: .object(["n": .number(1)]))],
            by: "test")

        _ = try writer.redact(seq: 1, legalBasis: "GDPR art. 17", requestedBy: "dpo", by: "test")
        #expect(try writer.entry(seq: 1)?.payload == nil)
        #expect(!Self.contains(path, marker))
        #expect(!Self.contains(path + "-wal", marker))
        // What was not redacted is still there, and the log still verifies up to the redaction.
        #expect(Self.contains(path, kept))
        #expect(try writer.entry(seq: 2)?.payload != nil)
    }

    @Test("a reader holding an old snapshot keeps the WAL: the redaction is committed and the error says so")
    func readerKeepsTheWAL() throws {
        let (writer, path) = try StoreTests.newStore()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        _ = try writer.append(
            [EventInput(type: "x-note", data: ["procedure": .string("2026-042")], payload: .object(["n": .number(1)]))],
            by: "test")
        var config = Configuration()
        config.readonly = true
        config.allowsUnsafeTransactions = true
        let reader = try DatabaseQueue(path: path, configuration: config)
        try reader.inDatabase { db in
            try db.execute(sql: "BEGIN")
            _ = try Row.fetchAll(db, sql: "SELECT seq FROM entries")
        }
        let error = try #require(throws: StoreError.self) {
            try writer.redact(seq: 1, legalBasis: "GDPR art. 17", requestedBy: "dpo", by: "test")
        }
        #expect(error.message.contains("is committed, but readers kept the WAL from being emptied"))
        #expect(try writer.entry(seq: 1)?.payload == nil)
        #expect(try writer.size() == 3)
        try reader.inDatabase { try $0.execute(sql: "COMMIT") }
    }
}
