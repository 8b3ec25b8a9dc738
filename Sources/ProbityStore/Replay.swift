import Foundation
import GRDB
public import ProbityDomain
public import ProbityLog
import Synchronization

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
    ///
    /// Like verify, it runs in stages: this thread reads chunks of rows, workers decode and hash the
    /// entries on all cores, and one consumer applies them to the projections in seq order.
    public func replay(
        until limit: ReplayLimit? = nil, progress: ((UInt64, UInt64) -> Void)? = nil
    ) throws -> ReplayReport {
        try wrap("replaying") {
            try db.read { db in
                let statement = try db.makeStatement(sql: "SELECT seq, bytes FROM entries ORDER BY seq")
                return try Replay.run(
                    total: try Self.size(db), until: limit, progress: progress,
                    nextRows: { count in
                        var rows: [(seq: UInt64, bytes: [UInt8])] = []
                        rows.reserveCapacity(count)
                        while rows.count < count, try statement.rawStep(db) {
                            rows.append((UInt64(statement.rawInt64(0)), statement.rawBytes(1)))
                        }
                        return rows
                    },
                    storedProjection: { try storedProjection(db) })
            }
        }
    }

    /// Smaller than verify's chunks: replay keeps the projections in memory beside the chunks in flight,
    /// and 1,024 rows are still enough to keep both cores busy.
    static let replayChunkSize = 1024

    func storedProjection(_ db: Database) throws -> CountsProjection {
        CountsProjection(
            typeCounts: Dictionary(
                uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT type, entries FROM type_counts").map {
                    ($0["type"], $0["entries"])
                }),
            streamCounts: Dictionary(
                uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT stream, entries FROM streams").map {
                    ($0["stream"], $0["entries"])
                }))
    }
}

/// Replay over any store's rows (the SQLite file's, a PostgreSQL database's), read in one snapshot.
public enum Replay {
    /// Feeds the rows `nextRows` hands over (up to the count asked, in seq order; fewer at the end) to the
    /// decoding workers and the sequential consumer, and compares the result with `storedProjection` after
    /// a full replay without a chain break. `total` is the log's size in that snapshot.
    public static func run(
        total: UInt64, until limit: ReplayLimit?, progress: ((UInt64, UInt64) -> Void)?,
        nextRows: (Int) throws -> [(seq: UInt64, bytes: [UInt8])],
        storedProjection: () throws -> CountsProjection
    ) throws -> ReplayReport {
        let started = Date()
        let consumer = ReplayConsumer(limit: limit, total: total, progress: progress)
        while !consumer.stopped {
            let rows = try nextRows(LogReader.replayChunkSize)
            if !rows.isEmpty { consumer.enqueue(DecodedChunk(rows)) }
            if rows.count < LogReader.replayChunkSize { break }
        }
        let state = consumer.finish()
        var drift: [String]?
        if limit == nil, state.failure == nil { drift = state.projection.drift(from: try storedProjection()) }
        return ReplayReport(
            entries: state.expected, lastSeq: state.lastSeq, projection: state.projection, domain: state.domain,
            failure: state.failure, drift: drift, seconds: Date().timeIntervalSince(started))
    }
}

/// The sequential half of replay, on its own serial queue: the chain check and the reducers, fed
/// decoded chunks in seq order (at most three waiting, so memory stays bounded).
final class ReplayConsumer: @unchecked Sendable {
    struct State {
        var projection = CountsProjection()
        var domain = DomainState()
        var previous = Entry.zeroHash
        var expected: UInt64 = 0
        var lastSeq: UInt64?
        var failure: LogVerifier.Failure?
        var done = false
    }

    private var state = State()
    private let limit: ReplayLimit?
    private let total: UInt64
    private let progress: ((UInt64, UInt64) -> Void)?
    private let stage = SerialStage(label: "probity.replay.sequential")
    private let stop = Atomic<Bool>(false)

    init(limit: ReplayLimit?, total: UInt64, progress: ((UInt64, UInt64) -> Void)?) {
        self.limit = limit
        self.total = total
        self.progress = progress
        // At most one record per entry: reserved once rather than grown by doubling copies.
        if case .seq(let last)? = limit {
            state.domain.reserveCapacity(records: Int(min(total, last + 1)))
        } else {
            state.domain.reserveCapacity(records: Int(total))
        }
    }

    /// Whether the consumer has met the limit or a failure: reading more is useless.
    var stopped: Bool { stop.load(ordering: .acquiring) }

    func enqueue(_ chunk: DecodedChunk) {
        stage.enqueue(after: chunk.decoded.group) { [self] in consume(chunk) }
    }

    private func consume(_ chunk: DecodedChunk) {
        guard !state.done else { return }
        for i in 0..<chunk.rows.count {
            let (seq, bytes) = chunk.rows[i]
            guard seq == state.expected else {
                state.failure = .init(kind: .sequence, seq: state.expected, message: "seq \(state.expected) is missing")
                break
            }
            let entry: EntryHeader, leafHash: Merkle.Hash
            switch chunk.decoded[i] {
            case .failure(let error):
                state.failure = .init(
                    kind: error.code == .notCanonical ? .notCanonical : .malformedEntry, seq: seq,
                    message: error.message)
            case .success(let decoded):
                (entry, leafHash) = decoded
                guard entry.seq == seq, entry.prev == state.previous else {
                    state.failure = .init(
                        kind: .chain, seq: seq == 0 ? 0 : seq - 1,
                        message: "the prev chain breaks between seq \(seq == 0 ? 0 : seq - 1) and \(seq)")
                    break
                }
                guard DomainProjection.within(entry, limit) else { state.done = true; break }
                state.projection.apply(entry)
                DomainProjection.apply(entry, bytes, to: &state.domain)
                state.previous = leafHash
                state.lastSeq = seq
                state.expected += 1
                continue
            }
            break
        }
        if state.failure != nil { state.done = true }
        if state.done { stop.store(true, ordering: .releasing) }
        progress?(state.expected, total)
    }

    /// Waits for every queued chunk and returns the result.
    func finish() -> State { stage.finish { state } }
}

/// One chunk of rows, decoded and hashed by workers on all cores as soon as it is made.
final class DecodedChunk: Sendable {
    let rows: [(seq: UInt64, bytes: [UInt8])]
    let decoded: ParallelChunk<Result<(EntryHeader, Merkle.Hash), EntryFormatError>>

    init(_ rows: [(seq: UInt64, bytes: [UInt8])]) {
        self.rows = rows
        decoded = ParallelChunk(count: rows.count) { i in
            let bytes = rows[i].bytes
            return Result { () throws(EntryFormatError) in (try EntryHeader(bytes: bytes), Merkle.leafHash(bytes)) }
        }
    }
}
