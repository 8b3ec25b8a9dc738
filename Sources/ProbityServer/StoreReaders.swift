import Foundation
import HTTPTypes
import ProbityDomain
import ProbityLog
import ProbityPostgres
import ProbityStore
import Synchronization

/// The reads of the log that probityd answers from either store: checkpoints, proofs and entries.
protocol LogReads: Sendable {
    func size() throws -> UInt64
    func checkpoint(size: UInt64?) throws -> SignedCheckpoint
    func receipt(seq: UInt64, size: UInt64?) throws -> LogWriter.Receipt
    func consistency(
        from old: UInt64, toCheckpoint size: UInt64?
    ) throws -> (checkpoint: SignedCheckpoint, oldRoot: Merkle.Hash, proof: [Merkle.Hash])
    func entries(from first: UInt64, limit: Int) throws -> [LogReader.StoredEntry]
    func entry(seq: UInt64) throws -> LogReader.StoredEntry?
    /// The latest checkpoint's size and `stream`'s head then, read together.
    func streamPosition(_ stream: String) throws -> (treeSize: UInt64, head: LogReader.StreamPosition?)
    /// The hashes of the consistency proof from tree size `old` to `new`.
    func consistencyProof(from old: UInt64, to new: UInt64) throws -> [Merkle.Hash]
    /// The first event the writer would refuse if `events` were appended now, or nil.
    func checkReferences(_ events: [EventInput]) throws -> EventRejection?
    /// C2SP tlog-tiles: a hash tile (full, or its first `width` hashes) and an entry bundle.
    func servedTile(level: Int, index: UInt64, width: Int?) throws -> [UInt8]?
    func entryBundle(index: UInt64, width: Int?) throws -> [UInt8]?
}

extension LogReader: LogReads {}

/// What the procedure, timeline and export routes read: the projections, kept up to date between
/// requests, and the entries and proofs an export holds.
protocol ProjectionReads: EvidenceReads {
    /// The projections after the last entry.
    func domainState() throws -> DomainState
    /// `state` brought up to date with the entries appended since.
    func update(_ state: inout DomainState) throws
}

extension LogReader: ProjectionReads {}

/// What the web console reads besides the projections and the evidence: its dashboard and entry pages.
protocol ConsoleReads: ProjectionReads, LogReads {
    func checkpointTime(size: UInt64) throws -> String?
    func lastVerification() throws -> VerificationRecord?
    func tlogProof(seq: UInt64, size: UInt64?) throws -> TlogProof
}

extension LogReader: ConsoleReads {}

extension PostgresReadPool: LogReads {
    func size() throws -> UInt64 { try withReader { try $0.size() } }
    func checkpoint(size: UInt64?) throws -> SignedCheckpoint { try withReader { try $0.checkpoint(size: size) } }
    func receipt(seq: UInt64, size: UInt64?) throws -> LogWriter.Receipt {
        try withReader { try $0.receipt(seq: seq, size: size) }
    }
    func consistency(
        from old: UInt64, toCheckpoint size: UInt64?
    ) throws -> (checkpoint: SignedCheckpoint, oldRoot: Merkle.Hash, proof: [Merkle.Hash]) {
        try withReader { try $0.consistency(from: old, toCheckpoint: size) }
    }
    func entries(from first: UInt64, limit: Int) throws -> [LogReader.StoredEntry] {
        try withReader { try $0.entries(from: first, limit: limit) }
    }
    func entry(seq: UInt64) throws -> LogReader.StoredEntry? { try withReader { try $0.entry(seq: seq) } }
    func streamPosition(_ stream: String) throws -> (treeSize: UInt64, head: LogReader.StreamPosition?) {
        try withReader { try $0.streamPosition(stream) }
    }
    func servedTile(level: Int, index: UInt64, width: Int?) throws -> [UInt8]? {
        try withReader { try $0.servedTile(level: level, index: index, width: width) }
    }
    func checkReferences(_ events: [EventInput]) throws -> EventRejection? {
        try withReader { try $0.checkReferences(events) }
    }
    func entryBundle(index: UInt64, width: Int?) throws -> [UInt8]? {
        try withReader { try $0.entryBundle(index: index, width: width) }
    }
}

/// Each read on a connection of the pool; a bundle reads at one tree size, so its reads agree.
extension PostgresReadPool: ProjectionReads {
    func domainState() throws -> DomainState { try withReader { try $0.domainState() } }
    func update(_ state: inout DomainState) throws { try withReader { try $0.update(&state) } }
    func entries(seqs: [UInt64]) throws -> [LogReader.StoredEntry] { try withReader { try $0.entries(seqs: seqs) } }
    func checkpointAndStreamHeads(
        _ streams: [String]
    ) throws -> (SignedCheckpoint, [String: LogReader.StreamPosition]) {
        try withReader { try $0.checkpointAndStreamHeads(streams) }
    }
    func keyChain() throws -> [LogReader.KeyLink] { try withReader { try $0.keyChain() } }
    func firstCheckpoint(covering seq: UInt64) throws -> SignedCheckpoint {
        try withReader { try $0.firstCheckpoint(covering: seq) }
    }
    func timestampEntries(below size: UInt64) throws -> [(seq: UInt64, treeSize: UInt64)] {
        try withReader { try $0.timestampEntries(below: size) }
    }
    func seqRange(appendedFrom from: Timestamp, to: Timestamp, below size: UInt64) throws -> Range<UInt64> {
        try withReader { try $0.seqRange(appendedFrom: from, to: to, below: size) }
    }
    func consistencyProof(from old: UInt64, to new: UInt64) throws -> [Merkle.Hash] {
        try withReader { try $0.consistencyProof(from: old, to: new) }
    }
    func inclusionProofs(seqs: [UInt64], size: UInt64) throws -> [[Merkle.Hash]] {
        try withReader { try $0.inclusionProofs(seqs: seqs, size: size) }
    }
    func payloadSeqs() throws -> [UInt64] { try withReader { try $0.payloadSeqs() } }
}

extension PostgresReadPool: ConsoleReads {
    func checkpointTime(size: UInt64) throws -> String? { try withReader { try $0.checkpointTime(size: size) } }
    func lastVerification() throws -> VerificationRecord? { try withReader { try $0.lastVerification() } }
    func tlogProof(seq: UInt64, size: UInt64?) throws -> TlogProof {
        try withReader { try $0.tlogProof(seq: seq, size: size) }
    }
}

/// The daemon's read connections to the store (entries and proofs; tokens), opened on first use.
///
/// On SQLite they are closed while the writer is opened: SQLite shares one WAL index per file among a
/// process's connections, and an index first opened while the file was read-only stays read-only for all
/// of them, so a writer opened beside such readers could never write, even once the file is writable again.
///
/// On PostgreSQL, the log's reads (`log()`, `projections()`) and tokens go to the server through a pool of
/// connections; `reader()`, the SQLite reader that live capture uses, throws there (capture is refused at
/// start on PostgreSQL).
final class StoreReaders: Sendable {
    private struct Connections {
        var log: LogReader?
        var tokens: TokenStore?
        var closedForWriter = false
    }
    enum Backend: Sendable {
        case sqlite(path: String)
        case postgres(PostgresReadPool)
    }
    let backend: Backend
    private let connections = Mutex(Connections())

    init(path: String) { backend = .sqlite(path: path) }
    init(postgres pool: PostgresReadPool) { backend = .postgres(pool) }

    var isPostgres: Bool {
        if case .postgres = backend { return true }
        return false
    }

    private func open<T: Sendable>(_ slot: WritableKeyPath<Connections, T?>, _ make: () throws -> T) throws -> T {
        try connections.withLock { connections in
            guard !connections.closedForWriter else {
                throw StoreError(.readOnly, "the store is being re-opened for writing; retry in a moment")
            }
            if let open = connections[keyPath: slot] { return open }
            let made = try make()
            connections[keyPath: slot] = made
            return made
        }
    }

    /// The log's checkpoints, proofs and entries, on either store.
    func log() throws -> any LogReads {
        switch backend {
        case .sqlite: return try reader()
        case .postgres(let pool): return pool
        }
    }

    /// The projections, entries and proofs the procedure, timeline, export and console routes read, on
    /// either store.
    func projections() throws -> any ConsoleReads {
        switch backend {
        case .sqlite: return try reader()
        case .postgres(let pool): return pool
        }
    }

    /// The SQLite store's reader, for what runs on a file only (live capture).
    func reader() throws -> LogReader {
        switch backend {
        case .sqlite(let path): return try open(\.log) { try LogReader.open(path: path) }
        case .postgres(let pool):
            throw APIError(
                .notImplemented, "not_on_postgres",
                "\(pool.location) is a PostgreSQL store; this needs a SQLite store: copy the log to a file (probity migrate --from URL --to FILE) and run it there"
            )
        }
    }

    /// The stored token with this id (the daemon only reads tokens: `probity tokens` writes them).
    func token(id: String) throws -> TokenInfo? {
        switch backend {
        case .sqlite(let path):
            return try open(\.tokens) { try TokenStore.open(path: path, readOnly: true) }.token(id: id)
        case .postgres(let pool): return try pool.token(id: id)
        }
    }

    /// Runs `body` (opening the writer) with every read connection closed; they re-open on next use.
    func closed<T>(_ body: () throws -> T) rethrows -> T {
        connections.withLock { $0 = Connections(closedForWriter: true) }
        defer { connections.withLock { $0.closedForWriter = false } }
        return try body()
    }
}
