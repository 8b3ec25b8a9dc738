import Foundation
import GRDB
import ProbityLog

/// The outcome of a `probity verify` run, kept in the store's `verifications` table for the console's
/// dashboard ("last verified"). Recorded on a connection of its own, beside a running writer; a read-only
/// store (a copy, a replica) simply keeps none.
public struct VerificationRecord: Sendable, Equatable {
    public let time: String
    public let size: UInt64
    public let intact: Bool
    public let failures: Int
    /// Which key the run trusted: `vkey given`, `public key given`, or `key in log.created`.
    public let trust: String

    public init(time: String, size: UInt64, intact: Bool, failures: Int, trust: String) {
        self.time = time
        self.size = size
        self.intact = intact
        self.failures = failures
        self.trust = trust
    }

    /// Records `self` in the store at `path`; false (and nothing written) if the store cannot be written or
    /// has no table for it yet (no writer opened it since Probity learnt to keep it).
    @discardableResult
    public func record(path: String) -> Bool {
        var config = Configuration()
        config.label = "probity.verifications"
        config.busyMode = .timeout(10)
        guard let queue = try? DatabaseQueue(path: path, configuration: config),
            (try? queue.read({ try $0.tableExists("verifications") })) == true
        else { return false }
        do {
            try queue.write { db in
                try db.execute(
                    sql:
                        "INSERT OR REPLACE INTO verifications (time, size, intact, failures, trust) VALUES (?, ?, ?, ?, ?)",
                    arguments: [time, Int64(clamping: size), intact, failures, trust])
            }
            return true
        } catch { return false }
    }
}

extension LogReader {
    /// The latest recorded `probity verify` outcome, if any.
    public func lastVerification() throws -> VerificationRecord? {
        try wrap("reading the verifications") {
            try db.read { db in
                guard try db.tableExists("verifications"),
                    let row = try Row.fetchOne(
                        db,
                        sql: "SELECT time, size, intact, failures, trust FROM verifications ORDER BY time DESC LIMIT 1")
                else { return nil }
                return VerificationRecord(
                    time: row["time"], size: UInt64(row["size"] as Int64), intact: row["intact"],
                    failures: row["failures"],
                    trust: row["trust"])
            }
        }
    }
}
