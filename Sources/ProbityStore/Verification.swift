import Foundation
import GRDB
import ProbityCore

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
    /// Verifies the whole store (see `LogVerifier`). Entries are read in chunks; the per-entry half of
    /// the work runs on all cores, the sequential half on this thread. `progress` gets (done, total).
    public func verify(trust: LogVerifier.Trust, auditorCheckpoints: [SignedCheckpoint] = [],
                       progress: ((UInt64, UInt64) -> Void)? = nil) throws -> VerifyReport {
        let started = Date()
        return try wrap("verifying") {
            try db.read { db in
                let notes = try String.fetchAll(db, sql: "SELECT note FROM checkpoints ORDER BY size")
                var checkpoints: [SignedCheckpoint] = []
                var unparsed: [String] = []
                for note in notes {
                    if let cp = try? SignedCheckpoint(parsing: note) { checkpoints.append(cp) } else { unparsed.append(note) }
                }
                var verifier = LogVerifier(origin: origin, trust: trust, checkpoints: checkpoints, auditorCheckpoints: auditorCheckpoints)
                let total = UInt64(try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM entries") ?? 0)

                let entries = try db.makeStatement(sql: """
                    SELECT e.seq, e.bytes, e.leaf_hash, p.salt, p.bytes FROM entries e LEFT JOIN payloads p ON p.seq = e.seq ORDER BY e.seq
                    """)
                let nodes = try db.makeStatement(sql: "SELECT id, hash FROM nodes ORDER BY id")
                var nodeRowPending = try nodes.rawStep(db)
                var expected: UInt64 = 0
                var done: UInt64 = 0

                /// The sequential half: links, streams, checkpoints, stored nodes.
                func consume(_ batch: CheckBatch) throws {
                    batch.group.wait()
                    for i in 0..<batch.count {
                        let c = batch[i]
                        if c.position != expected { verifier.missing(seq: expected, nextPresent: c.position) }
                        let position = verifier.size
                        let createdCount = (~position).trailingZeroBitCount
                        var stored: [Merkle.Hash] = []
                        if createdCount > 0 {
                            for level in 1...createdCount {
                                let id = MerkleNodeID.id(level: level, index: position >> level)
                                while nodeRowPending && nodes.rawInt64(0) < id { nodeRowPending = try nodes.rawStep(db) }
                                if nodeRowPending && nodes.rawInt64(0) == id {
                                    stored.append(nodes.rawBytes(1))
                                    nodeRowPending = try nodes.rawStep(db)
                                }
                            }
                        }
                        verifier.consume(c, storedNodes: stored)
                        expected = c.position + 1
                        done += 1
                    }
                    progress?(done, total)
                }

                // Pipeline: while the workers check one chunk, this thread reads the next one and
                // consumes the previous one.
                var inFlight: CheckBatch?
                var more = true
                while more {
                    var rows: [CheckBatch.Row] = []
                    rows.reserveCapacity(Self.chunkSize)
                    while rows.count < Self.chunkSize {
                        guard try entries.rawStep(db) else { more = false; break }
                        let payload = entries.rawIsNull(3) ? nil : (salt: entries.rawBytes(3), bytes: entries.rawBytes(4))
                        rows.append(CheckBatch.Row(seq: UInt64(entries.rawInt64(0)), bytes: entries.rawBytes(1), leaf: entries.rawBytes(2), payload: payload))
                    }
                    let batch = CheckBatch(rows)
                    if let previous = inFlight { try consume(previous) }
                    inFlight = batch
                }
                if let last = inFlight { try consume(last) }
                var failures = verifier.finish()
                for _ in unparsed {
                    failures.append(LogVerifier.Failure(kind: .checkpointSignature, seq: 0, message: "a stored checkpoint is not a valid signed note"))
                }
                let streams = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM streams") ?? 0
                return VerifyReport(origin: origin, size: verifier.size, root: verifier.root, checkpointsChecked: verifier.checkpointsChecked,
                                    auditorCheckpoints: auditorCheckpoints.count, streams: streams,
                                    keys: verifier.keys.map { $0.verifier.description }, redacted: verifier.redacted,
                                    failures: failures, failureCount: verifier.failureCount + unparsed.count,
                                    warnings: verifier.warnings, seconds: Date().timeIntervalSince(started))
            }
        }
    }

    static let chunkSize = 4096
}

/// One chunk of rows and the per-entry checks of it, running on the global queue.
final class CheckBatch: @unchecked Sendable {
    struct Row {
        let seq: UInt64
        let bytes: [UInt8]
        let leaf: [UInt8]
        let payload: (salt: [UInt8], bytes: [UInt8])?
    }

    let group = DispatchGroup()
    /// Written by the workers (each its own indices), read only after `group` is done.
    private let slots: UnsafeMutableBufferPointer<CheckedEntry?>

    /// Starts checking `rows` at once, split over the machine's cores.
    init(_ rows: [Row]) {
        slots = .allocate(capacity: rows.count)
        slots.initialize(repeating: nil)
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, rows.count / 256))
        let per = (rows.count + workers - 1) / workers
        nonisolated(unsafe) let output = slots
        for w in 0..<workers {
            DispatchQueue.global().async(group: group) {
                for i in (w * per)..<min(rows.count, (w + 1) * per) {
                    let r = rows[i]
                    output[i] = CheckedEntry.check(position: r.seq, bytes: r.bytes, storedLeafHash: r.leaf, payload: r.payload)
                }
            }
        }
    }

    deinit {
        group.wait()
        slots.deinitialize()
        slots.deallocate()
    }

    var count: Int { slots.count }

    /// The checked entry of row `i`, once `group` is done.
    subscript(i: Int) -> CheckedEntry { slots[i]! }
}
