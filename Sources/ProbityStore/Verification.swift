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
    func scanEntries(chunk: Int, _ body: (VerifyRows) throws -> Void) throws
    /// The stored tiles of `level` whose index is in `indices`.
    func tiles(level: Int, indices: Range<UInt64>) throws -> [Tiles.ID: [UInt8]]
    func tile(_ id: Tiles.ID) throws -> [UInt8]?
    func streamCount() throws -> Int
}

/// A chunk of stored entry rows as verify reads them: each row's entry, payload and derived columns,
/// all copied into one buffer, so that a chunk of thousands of rows costs two allocations, not six
/// per row (allocation and freeing across threads was most of verify's CPU).
public struct VerifyRows: Sendable {
    /// Where one row's columns lie in `bytes`.
    public struct Row: Sendable {
        public let seq: Int64
        let entry: Range<Int>
        let leaf: Range<Int>
        /// The payload's salt and bytes; nil when no payload is stored.
        let payload: (salt: Range<Int>, bytes: Range<Int>)?
        let type: Range<Int>
        let time: Range<Int>
    }

    public private(set) var rows: [Row] = []
    private(set) var bytes: [UInt8] = []

    public init(capacity: Int) {
        rows.reserveCapacity(capacity)
        bytes.reserveCapacity(capacity * 1_600)
    }

    public var count: Int { rows.count }
    public var isEmpty: Bool { rows.isEmpty }

    /// Copies one row's columns in.
    public mutating func append(
        seq: Int64, entry: UnsafeRawBufferPointer, leaf: UnsafeRawBufferPointer,
        payload: (salt: UnsafeRawBufferPointer, bytes: UnsafeRawBufferPointer)?, type: UnsafeRawBufferPointer,
        time: UnsafeRawBufferPointer
    ) {
        func keep(_ column: UnsafeRawBufferPointer) -> Range<Int> {
            let start = bytes.count
            bytes.append(contentsOf: column)
            return start..<bytes.count
        }
        rows.append(
            Row(
                seq: seq, entry: keep(entry), leaf: keep(leaf),
                payload: payload.map { (keep($0.salt), keep($0.bytes)) }, type: keep(type), time: keep(time)))
    }

    /// The rows `isIncluded` keeps, copied into a chunk of their own.
    public func filter(_ isIncluded: (Row) -> Bool) -> VerifyRows {
        var kept = VerifyRows(capacity: rows.count)
        bytes.withUnsafeBytes { b in
            func column(_ range: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: b[range]) }
            for r in rows where isIncluded(r) {
                kept.append(
                    seq: r.seq, entry: column(r.entry), leaf: column(r.leaf),
                    payload: r.payload.map { (column($0.salt), column($0.bytes)) }, type: column(r.type),
                    time: column(r.time))
            }
        }
        return kept
    }

    /// Calls `body` with the buffer the rows' ranges index.
    func withBytes<T>(_ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T {
        try bytes.withUnsafeBufferPointer(body)
    }

    /// The entry bytes of row `i`, copied out (for the rare caller that keeps them).
    public func entryBytes(_ i: Int) -> [UInt8] { Array(bytes[rows[i].entry]) }

    /// The stored type column of row `i`.
    public func type(_ i: Int) -> String { String(decoding: bytes[rows[i].type], as: UTF8.self) }
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
        var kept = chunk
        if chunk.rows.contains(where: { $0.seq < 0 }) {
            // A negative seq is no tree position: reported, and the row left out of the tree.
            storeFailures += chunk.rows.filter { $0.seq < 0 }.map { StoreAudit.negativeSeq($0.seq) }
            kept = chunk.filter { $0.seq >= 0 }
        }
        guard !kept.isEmpty else { return }
        let end = position + UInt64(kept.count)
        var stored: [Tiles.ID: [UInt8]] = [:]
        for level in 0..<Tiles.layout(size: end).count {
            let filled = Tiles.completed(level: level, from: position, to: end)
            guard !filled.isEmpty else { continue }
            stored.merge(try store.tiles(level: level, indices: filled)) { $1 }
        }
        consumer.enqueue(CheckBatch(kept, firstPosition: position, storedTiles: stored))
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

    func scanEntries(chunk: Int, _ body: (VerifyRows) throws -> Void) throws {
        let entries = try db.makeStatement(
            sql: """
                SELECT e.seq, e.bytes, e.leaf_hash, p.salt, p.bytes, e.type, e.time FROM entries e LEFT JOIN payloads p ON p.seq = e.seq ORDER BY e.seq
                """)
        var more = true
        while more {
            var rows = VerifyRows(capacity: chunk)
            while rows.count < chunk {
                guard try entries.rawStep(db) else { more = false; break }
                rows.append(
                    seq: entries.rawInt64(0), entry: entries.rawBuffer(1), leaf: entries.rawBuffer(2),
                    payload: entries.rawIsNull(3) ? nil : (entries.rawBuffer(3), entries.rawBuffer(4)),
                    type: entries.rawBuffer(5), time: entries.rawBuffer(6))
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
    /// The tree position of the first row, and the stored Merkle tiles its rows fill.
    let firstPosition: UInt64
    let storedTiles: [Tiles.ID: [UInt8]]
    let checked: ParallelChunk<(CheckedEntry, StoreAudit.RowFacts)>

    /// Starts checking `rows` at once, split over the machine's cores.
    init(_ rows: VerifyRows, firstPosition: UInt64, storedTiles: [Tiles.ID: [UInt8]]) {
        self.firstPosition = firstPosition
        self.storedTiles = storedTiles
        checked = ParallelChunk(count: rows.count) { i in
            rows.withBytes { b in
                let r = rows.rows[i]
                func column(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
                    UnsafeBufferPointer(rebasing: b[range])
                }
                let entryBytes = column(r.entry)
                let entry = CheckedEntry.check(
                    position: UInt64(r.seq), bytes: entryBytes, storedLeafHash: column(r.leaf),
                    payload: r.payload.map { (column($0.salt), column($0.bytes)) })
                return (
                    entry,
                    StoreAudit.rowFacts(
                        entry, bytes: entryBytes, type: column(r.type), time: column(r.time),
                        hasPayload: r.payload != nil)
                )
            }
        }
    }
}
