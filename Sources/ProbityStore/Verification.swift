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

extension LogReader {
    /// Verifies the whole store (see `LogVerifier`). Three stages run at once: this thread reads chunks
    /// of rows (entries, payloads, and the Merkle nodes they complete), the workers check each entry on
    /// all cores, and one consumer thread makes the sequential checks in seq order. `progress` gets
    /// (done, total) on the consumer thread.
    public func verify(
        trust: LogVerifier.Trust, auditorCheckpoints: [SignedCheckpoint] = [],
        progress: ((UInt64, UInt64) -> Void)? = nil
    ) throws -> VerifyReport {
        let started = Date()
        return try wrap("verifying") {
            try db.read { db in
                let notes = try String.fetchAll(db, sql: "SELECT note FROM checkpoints ORDER BY size")
                var checkpoints: [SignedCheckpoint] = []
                var unparsed = 0
                for note in notes {
                    if let cp = try? SignedCheckpoint(parsing: note) { checkpoints.append(cp) } else { unparsed += 1 }
                }
                let total = try Self.size(db)
                let consumer = SequentialChecks(
                    verifier: LogVerifier(
                        origin: origin, trust: trust, checkpoints: checkpoints, auditorCheckpoints: auditorCheckpoints),
                    total: total, progress: progress)

                let entries = try db.makeStatement(
                    sql: """
                        SELECT e.seq, e.bytes, e.leaf_hash, p.salt, p.bytes, e.type, e.time FROM entries e LEFT JOIN payloads p ON p.seq = e.seq ORDER BY e.seq
                        """)
                var storeFailures: [LogVerifier.Failure] = []
                let nodes = try db.makeStatement(sql: "SELECT id, hash FROM nodes WHERE id >= ? AND id < ? ORDER BY id")
                var position: UInt64 = 0
                var more = true
                while more {
                    var rows: [CheckBatch.Row] = []
                    rows.reserveCapacity(Self.chunkSize)
                    while rows.count < Self.chunkSize {
                        guard try entries.rawStep(db) else { more = false; break }
                        let seq = entries.rawInt64(0)
                        guard seq >= 0 else { storeFailures.append(StoreAudit.negativeSeq(seq)); continue }
                        let payload =
                            entries.rawIsNull(3) ? nil : (salt: entries.rawBytes(3), bytes: entries.rawBytes(4))
                        rows.append(
                            CheckBatch.Row(
                                seq: UInt64(seq), bytes: entries.rawBytes(1), leaf: entries.rawBytes(2),
                                payload: payload,
                                type: entries.rawText(5), time: entries.rawText(6)))
                    }
                    guard !rows.isEmpty else { break }
                    // The nodes these rows complete have consecutive ids (ids follow completion order).
                    var stored: [(id: Int64, hash: [UInt8])] = []
                    nodes.rawReset()
                    nodes.rawBind(1, MerkleNodeID.count(forSize: position))
                    nodes.rawBind(2, MerkleNodeID.count(forSize: position + UInt64(rows.count)))
                    while try nodes.rawStep(db) { stored.append((nodes.rawInt64(0), nodes.rawBytes(1))) }
                    consumer.enqueue(CheckBatch(rows, firstPosition: position, storedNodes: stored))
                    position += UInt64(rows.count)
                }
                let (verifier, finished, columnFailures, tally) = consumer.finish()
                storeFailures += columnFailures
                storeFailures += try StoreAudit.failures(db, verifier: verifier, tally: tally)
                var failures = LogVerifier.ordered(finished + storeFailures.prefix(100))
                for _ in 0..<unparsed {
                    failures.append(
                        LogVerifier.Failure(
                            kind: .checkpointSignature, seq: 0,
                            message: "a stored checkpoint is not a valid signed note"))
                }
                let streams = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM streams") ?? 0
                return VerifyReport(
                    origin: origin, size: verifier.size, root: verifier.root,
                    checkpointsChecked: verifier.checkpointsChecked,
                    auditorCheckpoints: auditorCheckpoints.count, streams: streams,
                    keys: verifier.keys.map { $0.verifier.description }, redacted: verifier.redacted,
                    failures: failures, failureCount: verifier.failureCount + unparsed + storeFailures.count,
                    warnings: verifier.warnings, seconds: Date().timeIntervalSince(started))
            }
        }
    }

    static let chunkSize = 4096
}

/// The sequential half of verification (links, streams, checkpoints, stored nodes) on its own serial
/// queue, fed checked chunks in seq order. At most a few chunks wait, so memory stays bounded.
final class SequentialChecks: @unchecked Sendable {
    private var verifier: LogVerifier
    private var expected: UInt64 = 0
    private var done: UInt64 = 0
    private var columnFailures: [LogVerifier.Failure] = []
    private var tally = StoreAudit.Tally()
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
        var nodeIndex = 0
        for i in 0..<batch.checked.count {
            let (c, row) = batch.checked[i]
            if c.position != expected { verifier.missing(seq: expected, nextPresent: c.position) }
            let position = batch.firstPosition + UInt64(i)
            let createdCount = (~position).trailingZeroBitCount
            var stored: [Merkle.Hash] = []
            if createdCount > 0 {
                for level in 1...createdCount {
                    let id = MerkleNodeID.id(level: level, index: position >> level)
                    while nodeIndex < batch.storedNodes.count && batch.storedNodes[nodeIndex].id < id { nodeIndex += 1 }
                    if nodeIndex < batch.storedNodes.count && batch.storedNodes[nodeIndex].id == id {
                        stored.append(batch.storedNodes[nodeIndex].hash)
                        nodeIndex += 1
                    }
                }
            }
            if let problem = row.columnProblem {
                columnFailures.append(LogVerifier.Failure(kind: .derivedTable, seq: c.position, message: problem))
            }
            tally.add(row, seq: c.position)
            verifier.consume(c, storedNodes: stored)
            expected = c.position + 1
            done += 1
        }
        progress?(done, total)
    }

    /// Waits for every queued chunk and ends the scan.
    func finish() -> (LogVerifier, [LogVerifier.Failure], columns: [LogVerifier.Failure], tally: StoreAudit.Tally) {
        stage.finish {
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

    /// The tree position of the first row, and the stored Merkle nodes its rows complete.
    let firstPosition: UInt64
    let storedNodes: [(id: Int64, hash: [UInt8])]
    let checked: ParallelChunk<(CheckedEntry, StoreAudit.RowFacts)>

    /// Starts checking `rows` at once, split over the machine's cores.
    init(_ rows: [Row], firstPosition: UInt64, storedNodes: [(id: Int64, hash: [UInt8])]) {
        self.firstPosition = firstPosition
        self.storedNodes = storedNodes
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
