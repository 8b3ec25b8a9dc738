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
                let chunkSize = 4096
                var rows: [(seq: UInt64, bytes: [UInt8], leaf: [UInt8], payload: (salt: [UInt8], bytes: [UInt8])?)] = []
                rows.reserveCapacity(chunkSize)
                var more = true
                while more {
                    rows.removeAll(keepingCapacity: true)
                    while rows.count < chunkSize {
                        guard try entries.rawStep(db) else { more = false; break }
                        let payload = entries.rawIsNull(3) ? nil : (salt: entries.rawBytes(3), bytes: entries.rawBytes(4))
                        rows.append((UInt64(entries.rawInt64(0)), entries.rawBytes(1), entries.rawBytes(2), payload))
                    }
                    let checked = Self.checkInParallel(rows)
                    for c in checked {
                        if c.position != expected { verifier.missing(seq: expected, nextPresent: c.position) }
                        let position = verifier.size
                        let createdCount = (~position).trailingZeroBitCount
                        var stored: [Merkle.Hash] = []
                        for level in 1...max(1, createdCount) where createdCount > 0 {
                            let id = MerkleNodeID.id(level: level, index: position >> level)
                            while nodeRowPending && nodes.rawInt64(0) < id { nodeRowPending = try nodes.rawStep(db) }
                            if nodeRowPending && nodes.rawInt64(0) == id {
                                stored.append(nodes.rawBytes(1))
                                nodeRowPending = try nodes.rawStep(db)
                            }
                        }
                        verifier.consume(c, storedNodes: stored)
                        expected = c.position + 1
                        done += 1
                    }
                    progress?(done, total)
                }
                var failures = verifier.finish()
                for _ in unparsed {
                    failures.append(LogVerifier.Failure(kind: .checkpointSignature, seq: 0, message: "a stored checkpoint is not a valid signed note"))
                }
                let streams = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM stream_heads") ?? 0
                return VerifyReport(origin: origin, size: verifier.size, root: verifier.root, checkpointsChecked: verifier.checkpointsChecked,
                                    auditorCheckpoints: auditorCheckpoints.count, streams: streams,
                                    keys: verifier.keys.map { $0.verifier.description }, redacted: verifier.redacted,
                                    failures: failures, failureCount: verifier.failureCount + unparsed.count,
                                    warnings: verifier.warnings, seconds: Date().timeIntervalSince(started))
            }
        }
    }

    static func checkInParallel(_ rows: [(seq: UInt64, bytes: [UInt8], leaf: [UInt8], payload: (salt: [UInt8], bytes: [UInt8])?)]) -> [CheckedEntry] {
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, rows.count / 256))
        if workers == 1 {
            return rows.map { CheckedEntry.check(position: $0.seq, bytes: $0.bytes, storedLeafHash: $0.leaf, payload: $0.payload) }
        }
        let results = UnsafeMutableBufferPointer<CheckedEntry?>.allocate(capacity: rows.count)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        let per = (rows.count + workers - 1) / workers
        nonisolated(unsafe) let output = results
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            for i in (w * per)..<min(rows.count, (w + 1) * per) {
                let r = rows[i]
                output[i] = CheckedEntry.check(position: r.seq, bytes: r.bytes, storedLeafHash: r.leaf, payload: r.payload)
            }
        }
        return results.map { $0! }
    }
}
