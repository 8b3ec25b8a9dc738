import Foundation
import NIOCore
import PostgresNIO
import ProbityDomain
public import ProbityLog
public import ProbityStore

extension PostgresLogReader {
    /// Verifies the whole store as `probity verify` verifies a file (`verifyStore`), reading it in one
    /// REPEATABLE READ snapshot — on the primary or a standby, with nothing copied to disk. What the
    /// database holds beside Probity's tables (triggers, rules, other tables and views) is a failure.
    public func verify(
        trust: LogVerifier.Trust, auditorCheckpoints: [SignedCheckpoint] = [],
        progress: ((UInt64, UInt64) -> Void)? = nil
    ) throws -> VerifyReport {
        try session.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        defer { try? session.execute("ROLLBACK") }
        return try verifyStore(
            PostgresVerifiable(reader: self), trust: trust, auditorCheckpoints: auditorCheckpoints, progress: progress)
    }
}

extension PostgresLogReader {
    /// Every `checkpoint.timestamped` entry checked as `LogReader.checkTimestamps` checks it.
    public func checkTimestamps(caPEM: String?) throws -> [TimestampCheck] {
        let session = session
        let rows = try session.rows(
            "SELECT e.seq, e.bytes, p.bytes FROM entries e LEFT JOIN payloads p ON p.seq = e.seq WHERE e.type = 'checkpoint.timestamped' ORDER BY e.seq"
        ) { row in
            let (seq, bytes, payload) = try row.decode((Int64, ByteBuffer, ByteBuffer?).self)
            return (UInt64(clamping: seq), Array(buffer: bytes), payload.map { Array(buffer: $0) })
        }
        return try LogReader.checkTimestamps(
            rows, caPEM: caPEM, checkpoint: { try self.checkpoint(size: $0) },
            entryBytes: { seq in
                try session.rows("SELECT bytes FROM entries WHERE seq = \(Int64(clamping: seq))") {
                    Array(buffer: try $0.decode(ByteBuffer.self))
                }.first
            })
    }

    /// The largest stored checkpoint for which `accept` holds (a witness quorum).
    public func largestCheckpoint(where accept: (SignedCheckpoint) -> Bool) throws -> SignedCheckpoint? {
        try session.rows("SELECT note FROM checkpoints ORDER BY size DESC") { try $0.decode(String.self) }
            .lazy.compactMap { try? SignedCheckpoint(parsing: $0) }.first(where: accept)
    }
}

/// A PostgreSQL store's rows for `verifyStore`, read in the reader's open snapshot.
struct PostgresVerifiable: VerifiableStore {
    let reader: PostgresLogReader
    var session: PostgresSession { reader.session }
    var origin: String { reader.origin }

    func checkpointNotes() throws -> [String] {
        try session.rows("SELECT note FROM checkpoints ORDER BY size") { try $0.decode(String.self) }
    }

    func entryCount() throws -> UInt64 { try PostgresStore.size(session) }

    /// Keyset pages of entries with their payloads; the next page is asked for while this one is checked.
    func scanEntries(chunk: Int, _ body: (VerifyRows) throws -> Void) throws {
        var after: Int64?
        while true {
            let page: PostgresQuery =
                if let after {
                    "SELECT e.seq, e.bytes, e.leaf_hash, p.salt, p.bytes, e.type, e.time FROM entries e LEFT JOIN payloads p ON p.seq = e.seq WHERE e.seq > \(after) ORDER BY e.seq LIMIT \(chunk)"
                } else {
                    "SELECT e.seq, e.bytes, e.leaf_hash, p.salt, p.bytes, e.type, e.time FROM entries e LEFT JOIN payloads p ON p.seq = e.seq ORDER BY e.seq LIMIT \(chunk)"
                }
            // Decoded as buffers of the received message (no copy), then copied into one chunk here.
            let received = try session.rows(page) { row in
                try row.decode((Int64, ByteBuffer, ByteBuffer, ByteBuffer?, ByteBuffer?, ByteBuffer, ByteBuffer).self)
            }
            var rows = VerifyRows(capacity: received.count)
            for (seq, bytes, leaf, salt, payload, type, time) in received {
                bytes.withUnsafeReadableBytes { entry in
                    leaf.withUnsafeReadableBytes { leaf in
                        type.withUnsafeReadableBytes { type in
                            time.withUnsafeReadableBytes { time in
                                guard let salt, let payload else {
                                    return rows.append(
                                        seq: seq, entry: entry, leaf: leaf, payload: nil, type: type, time: time)
                                }
                                salt.withUnsafeReadableBytes { salt in
                                    payload.withUnsafeReadableBytes {
                                        rows.append(
                                            seq: seq, entry: entry, leaf: leaf, payload: (salt, $0), type: type,
                                            time: time)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            guard !rows.isEmpty else { return }
            try body(rows)
            guard rows.count == chunk else { return }
            after = rows.rows[rows.count - 1].seq
        }
    }

    func tiles(level: Int, indices: Range<UInt64>) throws -> [Tiles.ID: [UInt8]] {
        var stored: [Tiles.ID: [UInt8]] = [:]
        for (index, hashes) in try session.rows(
            "SELECT idx, hashes FROM tiles WHERE level = \(Int64(level)) AND idx >= \(Int64(clamping: indices.lowerBound)) AND idx < \(Int64(clamping: indices.upperBound))",
            { row in
                let (index, hashes) = try row.decode((Int64, ByteBuffer).self)
                return (index, Array(buffer: hashes))
            })
        {
            stored[Tiles.ID(level: level, index: UInt64(clamping: index))] = hashes
        }
        return stored
    }

    func tile(_ id: Tiles.ID) throws -> [UInt8]? { try PostgresStore.tile(id, session) }

    func streamCount() throws -> Int {
        Int(try session.rows("SELECT count(*) FROM streams") { try $0.decode(Int64.self) }.first ?? 0)
    }

    // MARK: The other tables

    func schemaFailures(_ fail: (UInt64, String) -> Void) throws {
        for object in try reader.foreignObjects() {
            fail(0, "the database holds \(object), which Probity does not create: remove it and verify again")
        }
    }

    func checkpointRows() throws -> [(size: Int64, note: String)] {
        try session.rows("SELECT size, note FROM checkpoints ORDER BY size") { try $0.decode((Int64, String).self) }
            .map { (size: $0.0, note: $0.1) }
    }

    func tileSummary() throws -> [(level: Int, count: Int64, last: Int64)] {
        try session.rows("SELECT level, count(*), max(idx) FROM tiles GROUP BY level ORDER BY level") {
            let (level, count, last) = try $0.decode((Int32, Int64, Int64).self)
            return (level: Int(level), count: count, last: last)
        }
    }

    func payloadCount() throws -> Int {
        Int(try session.rows("SELECT count(*) FROM payloads") { try $0.decode(Int64.self) }.first ?? 0)
    }

    func orphanPayloads(limit: Int) throws -> [Int64] {
        try session.rows(
            "SELECT seq FROM payloads p WHERE NOT EXISTS (SELECT 1 FROM entries e WHERE e.seq = p.seq) ORDER BY seq LIMIT \(limit)"
        ) { try $0.decode(Int64.self) }
    }

    func streamRows() throws -> [(stream: String, seq: Int64, leafHash: [UInt8], entries: Int64)] {
        try session.rows("SELECT stream, seq, leaf_hash, entries FROM streams ORDER BY stream") {
            let (stream, seq, leaf, entries) = try $0.decode((String, Int64, ByteBuffer, Int64).self)
            return (stream: stream, seq: seq, leafHash: Array(buffer: leaf), entries: entries)
        }
    }

    func typeCountRows() throws -> [(type: String, entries: Int)] {
        try session.rows("SELECT type, entries FROM type_counts") { try $0.decode((String, Int64).self) }
            .map { (type: $0.0, entries: Int($0.1)) }
    }

    func refRows() throws -> [(kind: String, id: String, detail: String, seq: Int64)] {
        try session.rows("SELECT kind, id, detail, seq FROM refs") {
            try $0.decode((String, String, String, Int64).self)
        }
        .map { (kind: $0.0, id: $0.1, detail: $0.2, seq: $0.3) }
    }

    func forEachSource(_ body: (String, String, Int64) -> Void) throws {
        let table = StoreTable.all.first { $0.name == "sources" }!
        try PostgresStore.readRows(table, session, chunk: 10_000) { rows in
            for row in rows {
                guard case .text(let platform) = row[0], case .text(let id) = row[1], case .int(let seq) = row[2]
                else { continue }
                body(platform, id, seq)
            }
        }
    }

    /// Only when the keyed sums disagree (the table was edited): every source row and every exchange is
    /// read and compared in memory, with the entries' own bytes.
    func sourceMismatches(
        limit: Int
    ) throws -> (
        wrong: [(platform: String, id: String, seq: Int64)], unlisted: [(seq: Int64, platform: String, id: String)]
    ) {
        var listed: [SourceKey: Int64] = [:]
        try forEachSource { platform, id, seq in listed[SourceKey(platform: platform, id: id)] = seq }
        var recorded: [Int64: SourceKey] = [:]
        var unlisted: [(seq: Int64, platform: String, id: String)] = []
        try scanEntries(chunk: 10_000) { rows in
            for (i, row) in rows.rows.enumerated() where rows.type(i) == DomainEventType.exchangeRecorded {
                let bytes = rows.entryBytes(i)
                guard let header = try? EntryHeader(bytes: bytes),
                    let source = EventFields(header, bytes: bytes).source("source")
                else { continue }
                let key = SourceKey(platform: source.platform, id: source.id)
                recorded[row.seq] = key
                if unlisted.count < limit, (listed[key].map { $0 > row.seq } ?? true) {
                    unlisted.append((row.seq, key.platform, key.id))
                }
            }
        }
        let wrong = listed.filter { key, seq in recorded[seq] != key }.sorted { $0.value < $1.value }.prefix(limit)
            .map { (platform: $0.key.platform, id: $0.key.id, seq: $0.value) }
        return (Array(wrong), unlisted)
    }

    func meta(_ key: String) throws -> String? { try PostgresStore.meta(session)[key] }
}
