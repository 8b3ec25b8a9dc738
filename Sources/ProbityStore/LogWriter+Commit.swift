import Foundation
import GRDB
public import ProbityDomain
import ProbityLog

// The commit of a batch in SQLite: one transaction in which `LogCommit` writes the entries and everything
// derived from them through prepared statements, signs one checkpoint and proves every receipt, or rolls
// back whole.
extension LogWriter {
    private func loadTail(_ db: Database) throws -> LogTail {
        let size = try Self.size(db)
        let facts = try Row.fetchAll(db, sql: "SELECT kind, id, detail FROM refs").compactMap { row in
            ReferenceLedger.Fact.Kind(rawValue: row["kind"]).map {
                ReferenceLedger.Fact(kind: $0, id: row["id"], detail: row["detail"])
            }
        }
        var lastEntry: (leafHash: Merkle.Hash, time: String)?
        if size > 0,
            let row = try Row.fetchOne(
                db, sql: "SELECT leaf_hash, time FROM entries WHERE seq = ?", arguments: [Int64(size - 1)])
        {
            lastEntry = (
                try SHA256Digest(stored: row["leaf_hash"] as Data, "the stored leaf hash of seq \(size - 1)"),
                row["time"]
            )
        }
        var heads: [String: (seq: UInt64, hash: Merkle.Hash)] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT stream, seq, leaf_hash FROM streams") {
            let stream: String = row["stream"]
            heads[stream] = (
                UInt64(row["seq"] as Int64),
                try SHA256Digest(stored: row["leaf_hash"] as Data, "the head of stream \(stream)")
            )
        }
        return try LogTail.load(
            size: size, tile: { try Self.tile($0, db) }, lastEntry: lastEntry, streamHeads: heads, facts: facts)
    }

    /// Writes `submissions` in one transaction (with `alsoInTransaction`, which may throw to roll it back).
    /// The tail is taken, not copied: its dictionaries are then updated in place (no copy on write); it is
    /// put back only once the transaction has committed, and reloaded from the store after a failure.
    func commit(
        _ submissions: [Submission], alsoInTransaction: ((Database) throws -> Void)?
    ) throws -> [Result<Batch, EventRejection>] {
        try inTransaction { tail, db in
            let batches = try batchCommit.commitBatch(submissions, &tail, try SQLiteRows(db))
            try alsoInTransaction?(db)
            return batches
        }
    }

    /// Appends the batches `next` hands over, until it returns nil, in ONE transaction: each batch is signed
    /// under its own checkpoint, but none is durable until the last has been written — a rejected event,
    /// or an error thrown by `next` or `written`, appends nothing at all. `written` gets each batch while the
    /// transaction is still open: its receipts may be kept, not handed out, until this returns.
    public func appendAll(
        by principal: String, next: () throws -> [EventInput]?, written: (Batch) throws -> Void
    ) throws {
        try inTransaction { tail, db in
            let rows = try SQLiteRows(db)
            while let events = try next() {
                guard !events.isEmpty else { continue }
                try written(batchCommit.commitBatch([Submission(events: events, by: principal)], &tail, rows)[0].get())
                Self.releaseElsewhere(events)
            }
        }
    }

    /// Frees a written batch's parsed events on another thread: thousands of small allocations whose
    /// freeing would otherwise take the writer's thread, the one an append waits on, ~8 % of its time.
    public static func releaseElsewhere(_ events: [EventInput]) {
        disposal.async { withExtendedLifetime(events) {} }
    }

    private static let disposal = DispatchQueue(label: "probity.writer.disposal", qos: .utility)

    /// Runs `body` in one write transaction with the writer's tail; errors other than the store's and the
    /// database's (a rejection, the caller's own) pass through unchanged, after the rollback.
    private func inTransaction<T>(_ body: (inout LogTail, Database) throws -> T) throws -> T {
        do {
            return try queue.write { db in
                var tail = try self.tail ?? loadTail(db)
                self.tail = nil
                let result = try body(&tail, db)
                self.tail = tail
                return result
            }
        } catch {
            self.tail = nil  // the transaction rolled back: reload the tail from the store next time
            if error is StoreError || !(error is DatabaseError) { throw error }
            throw StoreError.writeFailure(error, path: path, doing: "append")
        }
    }
}

/// A commit's rows written through statements prepared once per connection (GRDB caches them).
private final class SQLiteRows: CommitRows {
    let db: Database
    /// Tiles read for duplicates' original receipts, shared by one batch (a partial tile may grow after it).
    private var tiles: TileHashReader?
    let insertEntry: Statement
    let insertPayload: Statement
    let putTile: Statement
    let findSource: Statement
    let insertSource: Statement
    let upsertFact: Statement
    let upsertStream: Statement
    let upsertType: Statement

    init(_ db: Database) throws {
        self.db = db
        insertEntry = try db.cachedStatement(
            sql: "INSERT INTO entries (seq, bytes, leaf_hash, type, time) VALUES (?, ?, ?, ?, ?)")
        insertPayload = try db.cachedStatement(sql: "INSERT INTO payloads (seq, salt, bytes) VALUES (?, ?, ?)")
        putTile = try db.cachedStatement(sql: "INSERT OR REPLACE INTO tiles (level, idx, hashes) VALUES (?, ?, ?)")
        findSource = try db.cachedStatement(sql: "SELECT seq FROM sources WHERE platform = ? AND id = ?")
        insertSource = try db.cachedStatement(sql: "INSERT INTO sources (platform, id, seq) VALUES (?, ?, ?)")
        upsertFact = try db.cachedStatement(
            sql: """
                INSERT INTO refs (kind, id, detail, seq) VALUES (?, ?, ?, ?)
                ON CONFLICT (kind, id) DO UPDATE SET detail = excluded.detail, seq = excluded.seq
                """)
        upsertStream = try db.cachedStatement(
            sql: """
                INSERT INTO streams (stream, seq, leaf_hash, entries) VALUES (?, ?, ?, ?)
                ON CONFLICT (stream) DO UPDATE SET seq = excluded.seq, leaf_hash = excluded.leaf_hash, entries = entries + excluded.entries
                """)
        upsertType = try db.cachedStatement(
            sql: """
                INSERT INTO type_counts (type, entries) VALUES (?, ?) ON CONFLICT (type) DO UPDATE SET entries = entries + excluded.entries
                """)
    }

    func prefetchSources(of submissions: [LogWriter.Submission]) {}

    func storedSeq(of source: SourceKey) throws -> UInt64? {
        findSource.rawReset()
        defer { findSource.rawReset() }
        findSource.rawBind(1, source.platform)
        findSource.rawBind(2, source.id)
        return try findSource.rawStep(db) ? UInt64(findSource.rawInt64(0)) : nil
    }

    func entry(seq: UInt64, bytes: [UInt8], leafHash: Merkle.Hash, type: String, time: String) throws {
        try insertEntry.run(db, Int64(seq), bytes, leafHash, type, time)
    }

    func payload(seq: UInt64, salt: [UInt8], bytes: [UInt8]) throws {
        try insertPayload.run(db, Int64(seq), salt, bytes)
    }

    func source(_ source: SourceKey, seq: UInt64) throws {
        try insertSource.run(db, source.platform, source.id, Int64(seq))
    }

    func tile(_ id: Tiles.ID, hashes: [UInt8]) throws {
        try putTile.run(db, Int64(id.level), Int64(id.index), hashes)
    }

    func fact(_ fact: ReferenceLedger.Fact, seq: UInt64) throws {
        try upsertFact.run(db, fact.kind.rawValue, fact.id, fact.detail, Int64(seq))
    }

    func streamHead(_ stream: String, seq: UInt64, leafHash: Merkle.Hash, added: Int) throws {
        upsertStream.rawReset()
        upsertStream.rawBind(1, stream)
        upsertStream.rawBind(2, Int64(seq))
        upsertStream.rawBind(3, leafHash)
        upsertStream.rawBind(4, Int64(added))
        try upsertStream.rawExecute(db)
    }

    func typeCount(_ type: String, added: Int) throws {
        upsertType.rawReset()
        upsertType.rawBind(1, type)
        upsertType.rawBind(2, Int64(added))
        try upsertType.rawExecute(db)
    }

    func checkpoint(size: UInt64, note: String, time: String) throws {
        try db.execute(
            sql: "INSERT INTO checkpoints (size, note, time) VALUES (?, ?, ?)", arguments: [Int64(size), note, time])
    }

    func batchWritten() { tiles = nil }

    func originalReceipt(seq: UInt64) throws -> Receipt {
        var reader = tiles ?? LogReader.tileHashes(db)
        defer { tiles = reader }
        return try LogReader.receipt(
            seq: seq, against: try LogReader.firstCheckpoint(covering: seq, db), &reader, duplicate: true)
    }
}
