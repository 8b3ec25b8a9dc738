import Foundation
import GRDB
import ProbityCore

/// The outcome of `probity replay`.
public struct ReplayReport: Sendable {
    public let entries: UInt64
    /// The last seq replayed, if any.
    public let lastSeq: UInt64?
    public let projection: CountsProjection
    /// The procurement projections, as of the last entry replayed.
    public let domain: DomainState
    /// Chain breaks met on the way (replay stops at the first).
    public let failure: LogVerifier.Failure?
    /// Differences from the stored projections; only computed for a full replay.
    public let drift: [String]?
    public let seconds: Double
}

public enum ReplayLimit: Sendable {
    case seq(UInt64)
    case time(Timestamp)
}

extension LogReader {
    /// Reads every entry in seq order, checking the `prev` chain as it goes, and rebuilds the projections
    /// from nothing. Stops after `until` if given. Stops at the first chain break: state built past a
    /// broken chain would be state no one can vouch for.
    public func replay(until limit: ReplayLimit? = nil, progress: ((UInt64, UInt64) -> Void)? = nil) throws -> ReplayReport {
        let started = Date()
        return try wrap("replaying") {
            try db.read { db in
                let total = try Self.size(db)
                let statement = try db.makeStatement(sql: "SELECT seq, bytes FROM entries ORDER BY seq")
                var projection = CountsProjection()
                var domain = DomainState()
                var previous = Entry.zeroHash
                var expected: UInt64 = 0
                var failure: LogVerifier.Failure?
                var lastSeq: UInt64?
                scan: while try statement.rawStep(db) {
                    let seq = UInt64(statement.rawInt64(0))
                    let bytes = statement.rawBytes(1)
                    guard seq == expected else {
                        failure = .init(kind: .sequence, seq: expected, message: "seq \(expected) is missing")
                        break
                    }
                    let entry: EntryHeader
                    do throws(EntryFormatError) { entry = try EntryHeader(bytes: bytes) } catch {
                        failure = .init(kind: error.code == .notCanonical ? .notCanonical : .malformedEntry, seq: seq, message: error.message)
                        break
                    }
                    guard entry.seq == seq, entry.prev == previous else {
                        failure = .init(kind: .chain, seq: seq == 0 ? 0 : seq - 1, message: "the prev chain breaks between seq \(seq == 0 ? 0 : seq - 1) and \(seq)")
                        break
                    }
                    guard DomainProjection.within(entry, limit) else { break scan }
                    projection.apply(entry)
                    try DomainProjection.apply(entry, bytes, to: &domain)
                    previous = Merkle.leafHash(bytes)
                    lastSeq = seq
                    expected += 1
                    if expected % 65536 == 0 { progress?(expected, total) }
                }
                progress?(expected, total)
                var drift: [String]?
                if limit == nil, failure == nil {
                    drift = projection.drift(from: try storedProjection(db))
                }
                return ReplayReport(entries: expected, lastSeq: lastSeq, projection: projection, domain: domain, failure: failure, drift: drift,
                                    seconds: Date().timeIntervalSince(started))
            }
        }
    }

    func storedProjection(_ db: Database) throws -> CountsProjection {
        CountsProjection(
            typeCounts: Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT type, entries FROM type_counts").map { ($0["type"], $0["entries"]) }),
            streamCounts: Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT stream, entries FROM streams").map { ($0["stream"], $0["entries"]) }))
    }
}
