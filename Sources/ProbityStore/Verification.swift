import Foundation
import GRDB
import ProbityDomain
public import ProbityLog

/// The outcome of `probity verify`.
public struct VerifyReport: Sendable {
    public let origin: String
    public let size: UInt64
    public let root: Merkle.Hash
    public let checkpointsChecked: Int
    public let auditorCheckpoints: Int
    public let streams: Int
    public let keys: [String]
    public let redacted: [UInt64: UInt64]
    public let failures: [LogVerifier.Failure]
    public let failureCount: Int
    public let warnings: [String]
    public let seconds: Double

    public var intact: Bool { failureCount == 0 }
}

/// What `verify` reads from a store, all in one snapshot: the SQLite store's (`LogReader`), or a
/// PostgreSQL store's, primary or standby. The checks themselves are the same for both (`verifyStore`).
public protocol VerifiableStore: AuditTables {
    var origin: String { get }
    /// Every stored checkpoint note, by size.
    func checkpointNotes() throws -> [String]
    /// One past the highest seq.
    func entryCount() throws -> UInt64
    /// Every entry row, with its payload if stored, in seq order, at most `chunk` rows at a time.
    func scanEntries(chunk: Int, _ body: ([VerifyRow]) throws -> Void) throws
    /// The stored tiles of `level` whose index is in `indices`.
    func tiles(level: Int, indices: Range<UInt64>) throws -> [Tiles.ID: [UInt8]]
    func tile(_ id: Tiles.ID) throws -> [UInt8]?
    func streamCount() throws -> Int
}

/// One stored entry row as verify reads it: the entry, its payload, and the derived columns it checks.
public struct VerifyRow: Sendable {
    public let seq: Int64
    public let bytes: [UInt8]
    public let leaf: [UInt8]
    public let payload: (salt: [UInt8], bytes: [UInt8])?
    public let type: String
    public let time: String

    public init(
        seq: Int64, bytes: [UInt8], leaf: [UInt8], payload: (salt: [UInt8], bytes: [UInt8])?, type: String,
        time: String
    ) {
        self.seq = seq
        self.bytes = bytes
        self.leaf = leaf
        self.payload = payload
        self.type = type
        self.time = time
    }
}

extension LogReader {
    /// Verifies the whole store (see `verifyStore`), in one read transaction.
    public func verify(
        trust: LogVerifier.Trust, auditorCheckpoints: [SignedCheckpoint] = [],
        progress: ((UInt64, UInt64) -> Void)? = nil
    ) throws -> VerifyReport {
        try wrap("verifying") {
            try db.read { db in
                try verifyStore(
                    SQLiteVerifiable(db: db, origin: origin), trust: trust, auditorCheckpoints: auditorCheckpoints,
                    progress: progress)
            }
        }
    }

    /// A multiple of the tile width, so that each chunk fills whole level-0 tiles.
    static let chunkSize = verifyChunk
}

/// A multiple of the tile width, so that each chunk fills whole level-0 tiles.
let verifyChunk = 16 * Tiles.width

/// Verifies a whole store (see `LogVerifier`). Three stages run at once: this thread reads chunks of rows
/// (entries, payloads, and the Merkle tiles they fill), the workers check each entry on all cores, and
/// one consumer thread makes the sequential checks in seq order; then the other tables are audited
/// (`StoreAudit`). `progress` gets (done, total) on the consumer thread.
public func verifyStore(
    _ store: some VerifiableStore, trust: LogVerifier.Trust, auditorCheckpoints: [SignedCheckpoint] = [],
    progress: ((UInt64, UInt64) -> Void)? = nil
) throws -> VerifyReport {
    let started = Date()
    var checkpoints: [SignedCheckpoint] = []
    var unparsed = 0
    for note in try store.checkpointNotes() {
        if let cp = try? SignedCheckpoint(parsing: note) { checkpoints.append(cp) } else { unparsed += 1 }
    }
    let total = try store.entryCount()
    let consumer = SequentialChecks(
        verifier: LogVerifier(
            origin: store.origin, trust: trust, checkpoints: checkpoints, auditorCheckpoints: auditorCheckpoints),
        total: total, progress: progress)
    var storeFailures: [LogVerifier.Failure] = []
    var position: UInt64 = 0
    try store.scanEntries(chunk: verifyChunk) { chunk in
        var rows: [CheckBatch.Row] = []
        rows.reserveCapacity(chunk.count)
        for row in chunk {
            guard row.seq >= 0 else { storeFailures.append(StoreAudit.negativeSeq(row.seq)); continue }
            rows.append(
                CheckBatch.Row(
                    seq: UInt64(row.seq), bytes: row.bytes, leaf: row.leaf, payload: row.payload, type: row.type,
                    time: row.time))
        }
        guard !rows.isEmpty else { return }
        let end = position + UInt64(rows.count)
        var stored: [Tiles.ID: [UInt8]] = [:]
        for level in 0..<Tiles.layout(size: end).count {
            let filled = Tiles.completed(level: level, from: position, to: end)
            guard !filled.isEmpty else { continue }
            stored.merge(try store.tiles(level: level, indices: filled)) { $1 }
        }
        consumer.enqueue(CheckBatch(rows, firstPosition: position, storedTiles: stored))
        position = end
    }
    let (verifier, finished, columnFailures, tally) = try consumer.finish(
        storedPartialTiles: Tiles.layout(size: position).filter { $0.partialWidth > 0 }.map { level in
            let id = Tiles.ID(level: level.level, index: level.fullTiles)
            return (id, try store.tile(id))
        })
    storeFailures += columnFailures
    storeFailures += try StoreAudit.failures(store, verifier: verifier, tally: tally)
    var failures = LogVerifier.ordered(finished + storeFailures.prefix(100))
    for _ in 0..<unparsed {
        failures.append(
            LogVerifier.Failure(
                kind: .checkpointSignature, seq: 0, message: "a stored checkpoint is not a valid signed note"))
    }
    return VerifyReport(
        origin: store.origin, size: verifier.size, root: verifier.root,
        checkpointsChecked: verifier.checkpointsChecked,
        auditorCheckpoints: auditorCheckpoints.count, streams: try store.streamCount(),
        keys: verifier.keys.map { $0.verifier.description }, redacted: verifier.redacted,
        failures: failures, failureCount: verifier.failureCount + unparsed + storeFailures.count,
        warnings: verifier.warnings, seconds: Date().timeIntervalSince(started))
}

/// The SQLite store's rows for `verifyStore`, read in the transaction `db`.
struct SQLiteVerifiable: VerifiableStore {
    let db: Database
    let origin: String

    func checkpointNotes() throws -> [String] {
        try String.fetchAll(db, sql: "SELECT note FROM checkpoints ORDER BY size")
    }

    func entryCount() throws -> UInt64 { try LogReader.size(db) }

    func scanEntries(chunk: Int, _ body: ([VerifyRow]) throws -> Void) throws {
        let entries = try db.makeStatement(
            sql: """
                SELECT e.seq, e.bytes, e.leaf_hash, p.salt, p.bytes, e.type, e.time FROM entries e LEFT JOIN payloads p ON p.seq = e.seq ORDER BY e.seq
                """)
        var more = true
        while more {
            var rows: [VerifyRow] = []
            rows.reserveCapacity(chunk)
            while rows.count < chunk {
                guard try entries.rawStep(db) else { more = false; break }
                let payload = entries.rawIsNull(3) ? nil : (salt: entries.rawBytes(3), bytes: entries.rawBytes(4))
                rows.append(
                    VerifyRow(
                        seq: entries.rawInt64(0), bytes: entries.rawBytes(1), leaf: entries.rawBytes(2),
                        payload: payload, type: entries.rawText(5), time: entries.rawText(6)))
            }
            if !rows.isEmpty { try body(rows) }
        }
    }

    func tiles(level: Int, indices: Range<UInt64>) throws -> [Tiles.ID: [UInt8]] {
        let statement = try db.cachedStatement(
            sql: "SELECT idx, hashes FROM tiles WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx")
        statement.rawReset()
        defer { statement.rawReset() }
        statement.rawBind(1, Int64(level))
        statement.rawBind(2, Int64(indices.lowerBound))
        statement.rawBind(3, Int64(indices.upperBound))
        var stored: [Tiles.ID: [UInt8]] = [:]
        while try statement.rawStep(db) {
            stored[Tiles.ID(level: level, index: UInt64(statement.rawInt64(0)))] = statement.rawBytes(1)
        }
        return stored
    }

    func tile(_ id: Tiles.ID) throws -> [UInt8]? { try LogReader.tile(id, db) }

    func streamCount() throws -> Int { try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM streams") ?? 0 }
}

/// The sequential half of verification (links, streams, checkpoints, stored nodes) on its own serial
/// queue, fed checked chunks in seq order. At most a few chunks wait, so memory stays bounded.
final class SequentialChecks: @unchecked Sendable {
    private var verifier: LogVerifier
    private var expected: UInt64 = 0
    private var done: UInt64 = 0
    private var columnFailures: [LogVerifier.Failure] = []
    private var tally = StoreAudit.Tally()
    /// The tiles the entries give, as they fill.
    private var tiles = TileEdge()
    private let total: UInt64
    private let progress: ((UInt64, UInt64) -> Void)?
    private let stage = SerialStage(label: "probity.verify.sequential")

    init(verifier: LogVerifier, total: UInt64, progress: ((UInt64, UInt64) -> Void)?) {
        self.verifier = verifier
        self.total = total
        self.progress = progress
    }

    /// Queues a chunk; blocks while three are already waiting.
    func enqueue(_ batch: CheckBatch) {
        stage.enqueue(after: batch.checked.group) { [self] in consume(batch) }
    }

    private func consume(_ batch: CheckBatch) {
        for i in 0..<batch.checked.count {
            let (c, row) = batch.checked[i]
            if c.position != expected { verifier.missing(seq: expected, nextPresent: c.position) }
            let position = batch.firstPosition + UInt64(i)
            let created = verifier.consume(c)
            tiles.append(leaf: position, hash: c.leafHash, created: created) { id, hashes in
                verifier.checkStoredTile(id, stored: batch.storedTiles[id], expected: hashes)
            }
            if let problem = row.columnProblem {
                columnFailures.append(LogVerifier.Failure(kind: .derivedTable, seq: c.position, message: problem))
            }
            tally.add(row, seq: c.position)
            expected = c.position + 1
            done += 1
        }
        progress?(done, total)
    }

    /// Waits for every queued chunk and ends the scan; the partial tiles are compared last, as stored.
    func finish(
        storedPartialTiles: [(Tiles.ID, [UInt8]?)]
    ) -> (LogVerifier, [LogVerifier.Failure], columns: [LogVerifier.Failure], tally: StoreAudit.Tally) {
        stage.finish {
            let expected = Dictionary(
                uniqueKeysWithValues: tiles.partialTiles(size: verifier.size).map { ($0.id, $0.hashes) })
            for (id, stored) in storedPartialTiles {
                verifier.checkStoredTile(id, stored: stored, expected: expected[id] ?? [])
            }
            let failures = verifier.finish()
            return (verifier, failures, columnFailures, tally)
        }
    }
}

/// One chunk of rows and the per-entry checks of it, running on the global queue.
final class CheckBatch: @unchecked Sendable {
    struct Row {
        let seq: UInt64
        let bytes: [UInt8]
        let leaf: [UInt8]
        let payload: (salt: [UInt8], bytes: [UInt8])?
        /// The row's derived columns, checked against the entry.
        let type: String
        let time: String
    }

    /// The tree position of the first row, and the stored Merkle tiles its rows fill.
    let firstPosition: UInt64
    let storedTiles: [Tiles.ID: [UInt8]]
    let checked: ParallelChunk<(CheckedEntry, StoreAudit.RowFacts)>

    /// Starts checking `rows` at once, split over the machine's cores.
    init(_ rows: [Row], firstPosition: UInt64, storedTiles: [Tiles.ID: [UInt8]]) {
        self.firstPosition = firstPosition
        self.storedTiles = storedTiles
        checked = ParallelChunk(count: rows.count) { i in
            let r = rows[i]
            let entry = CheckedEntry.check(position: r.seq, bytes: r.bytes, storedLeafHash: r.leaf, payload: r.payload)
            return (
                entry,
                StoreAudit.rowFacts(entry, bytes: r.bytes, type: r.type, time: r.time, hasPayload: r.payload != nil)
            )
        }
    }
}
