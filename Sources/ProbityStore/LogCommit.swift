public import ProbityDomain
public import ProbityLog

/// Where a commit writes one batch's rows, inside a transaction its store has opened: the SQLite store's
/// prepared statements, or a PostgreSQL transaction. The rows are those of the tables Schema describes;
/// both stores hold the same bytes, so roots, checkpoints and proofs are the same whichever holds the log.
public protocol CommitRows {
    /// Called once per batch, before any look-up: a store far away (PostgreSQL) looks up every source the
    /// submissions name in one round trip, where SQLite looks each up when asked.
    func prefetchSources(of submissions: [LogWriter.Submission]) throws
    /// The seq of the entry already recording `source` (in the store, or earlier in this transaction).
    func storedSeq(of source: SourceKey) throws -> UInt64?
    func entry(seq: UInt64, bytes: [UInt8], leafHash: Merkle.Hash, type: String, time: String) throws
    func payload(seq: UInt64, salt: [UInt8], bytes: [UInt8]) throws
    func source(_ source: SourceKey, seq: UInt64) throws
    /// A tile, full or partial: a partial tile is replaced as it grows.
    func tile(_ id: Tiles.ID, hashes: [UInt8]) throws
    /// The latest fact of (kind, id), replacing an earlier one.
    func fact(_ fact: ReferenceLedger.Fact, seq: UInt64) throws
    /// A stream's new head, and how many entries this batch added to it.
    func streamHead(_ stream: String, seq: UInt64, leafHash: Merkle.Hash, added: Int) throws
    func typeCount(_ type: String, added: Int) throws
    func checkpoint(size: UInt64, note: String, time: String) throws
    /// Called once the batch's rows are all given (PostgreSQL sends what it buffered).
    func batchWritten() throws
    /// The receipt entry `seq` got when it was appended, for an event that duplicates it.
    func originalReceipt(seq: UInt64) throws -> Receipt
}

/// What the writer must know about the tail of the log; reloaded from the store whenever a transaction fails.
public struct LogTail: Sendable {
    var range: CompactRange
    /// The tiles not yet full, as stored at the end of the last batch.
    var tiles: TileEdge
    var lastLeafHash: Merkle.Hash
    var lastTime: Timestamp?
    var streamHeads: [String: (seq: UInt64, hash: Merkle.Hash)]
    /// Parties, procedures and legal holds events may refer to.
    var ledger: ReferenceLedger

    public var size: UInt64 { range.size }

    /// The tail of a store of `size` entries, from what it holds: its tiles (the right edge of the tree is
    /// the decomposition of [0, size) into complete subtrees), its last entry, stream heads and facts.
    public static func load(
        size: UInt64, tile: @escaping (Tiles.ID) throws -> [UInt8]?, lastEntry: (leafHash: Merkle.Hash, time: String)?,
        streamHeads: [String: (seq: UInt64, hash: Merkle.Hash)], facts: [ReferenceLedger.Fact]
    ) throws -> LogTail {
        var tiles = TileHashReader(fetch: tile)
        let hashes = try Merkle.rangeNodes(start: 0, end: size).map { try LogReader.nodeHash($0, &tiles) }
        var partial: [[UInt8]] = []
        for level in Tiles.layout(size: size) {
            guard level.partialWidth > 0 else { partial.append([]); continue }
            let id = Tiles.ID(level: level.level, index: level.fullTiles)
            guard let stored = try tile(id), stored.count == level.partialWidth * 32 else {
                throw StoreError(
                    .inconsistent, "the store's \(id) is missing or has the wrong width; run `probity verify`")
            }
            partial.append(stored)
        }
        guard (size == 0) == (lastEntry == nil) else {
            throw StoreError(.inconsistent, "the store's last entry is missing; run `probity verify`")
        }
        return LogTail(
            range: CompactRange(size: size, hashes: hashes), tiles: TileEdge(partial: partial),
            lastLeafHash: lastEntry?.leafHash ?? Entry.zeroHash,
            lastTime: lastEntry.map { Timestamp(entryTime: $0.time) } ?? nil,
            streamHeads: streamHeads, ledger: ReferenceLedger(facts: facts))
    }
}

/// The commit of a batch, whatever the store: it plans every submission's references, builds each entry
/// (RFC 8785 bytes, previous hash, stream heads, salted payload commitment), appends its leaf to the
/// tiles, signs one checkpoint for the batch and proves every receipt — writing the rows to `CommitRows`.
/// The store makes it one transaction, and commits or rolls back.
public struct LogCommit: Sendable {
    public let origin: String
    public let signer: NoteSigner
    /// The clock and the random bytes of this writer's entries.
    public let sources: WriteSources

    public init(origin: String, signer: NoteSigner, sources: WriteSources) {
        self.origin = origin
        self.signer = signer
        self.sources = sources
    }

    /// An event's place in the batch being built: new (its index among the new entries) or a duplicate.
    private enum Placement {
        case new(Int)
        case stored(UInt64)
    }

    /// What a commit has written so far, beyond the tail.
    private struct Written {
        var entries: [LogWriter.Appended] = []
        /// New entries by source, so that the same message twice in one batch is written once.
        var sources: [SourceKey: Int] = [:]
        var counts = CountsProjection()
    }

    /// One batch inside the open transaction: its entries, derived rows and signed checkpoint, and one
    /// outcome per submission. `tail` is updated in place; the store keeps it only once the transaction
    /// has committed.
    public func commitBatch<Rows: CommitRows>(
        _ submissions: [LogWriter.Submission], _ tail: inout LogTail, _ rows: Rows
    ) throws -> [Result<LogWriter.Batch, EventRejection>] {
        let before = tail.range
        try rows.prefetchSources(of: submissions)
        // References are checked first, submission by submission: one that fails is left out whole.
        var ledger = tail.ledger
        tail.ledger = ReferenceLedger()
        var pendingSources = Set<SourceKey>()
        let plans = try submissions.map { submission in
            try ReferencePlanner.plan(submission.events, ledger: &ledger, pendingSources: &pendingSources) {
                try rows.storedSeq(of: $0)
            }
        }
        // One time for the whole batch: it commits at once, and time never goes backwards.
        let now = sources.now()
        let time = BatchTime(max(now, tail.lastTime ?? now))
        var salts = try SaltSource(
            count: zip(submissions, plans).reduce(0) { total, pair in
                guard case .success = pair.1 else { return total }
                return total + pair.0.events.count { $0.payload != nil }
            },
            from: sources.randomBytes)
        var written = Written()
        var placements: [[Placement]?] = []
        for (submission, plan) in zip(submissions, plans) {
            guard case .success(let storedSeqs) = plan else { placements.append(nil); continue }
            var placed: [Placement] = []
            placed.reserveCapacity(submission.events.count)
            for (event, storedSeq) in zip(submission.events, storedSeqs) {
                if let storedSeq {
                    placed.append(.stored(storedSeq))
                } else if let source = event.source, let index = written.sources[source] {
                    placed.append(.new(index))
                } else {
                    placed.append(.new(written.entries.count))
                    try write(event, by: submission.by, at: time, &tail, &written, &salts, rows)
                }
            }
            placements.append(placed)
        }
        var checkpoint: SignedCheckpoint?
        if !written.entries.isEmpty {
            for (id, hashes) in tail.tiles.partialTiles(size: tail.range.size) {
                try rows.tile(id, hashes: hashes)
            }
            for (stream, added) in written.counts.streamCounts {
                let head = tail.streamHeads[stream]!
                try rows.streamHead(stream, seq: head.seq, leafHash: head.hash, added: added)
            }
            for (type, added) in written.counts.typeCounts { try rows.typeCount(type, added: added) }
            let signed = try SignedCheckpoint.sign(
                Checkpoint(origin: origin, size: tail.range.size, root: tail.range.root), with: signer)
            try rows.checkpoint(size: tail.range.size, note: signed.encoded, time: time.text)
            checkpoint = signed
        }
        try rows.batchWritten()
        let batches = try receipts(placements, plans, written.entries, before: before, checkpoint: checkpoint, rows)
        tail.ledger = ledger
        return batches
    }

    /// Writes one new entry and what derives from it: its payload, its source, the tiles it
    /// fills, the references it makes, and the heads of its streams.
    private func write<Rows: CommitRows>(
        _ event: EventInput, by principal: String, at time: BatchTime, _ tail: inout LogTail,
        _ written: inout Written, _ salts: inout SaltSource, _ rows: Rows
    ) throws {
        let seq = tail.range.size
        let streams = event.streams.map { ($0, tail.streamHeads[$0]?.hash ?? Entry.zeroHash) }
        var commitment: PayloadCommitment?
        var salt: [UInt8] = []
        if let payload = event.payload {
            salt = salts.next()
            commitment = PayloadCommitment(salt: salt, payload: payload)
        }
        let bytes = Entry.encode(
            log: origin, seq: seq, prev: tail.lastLeafHash, time: time.bytes, type: event.type, by: principal,
            data: event.dataBytes, payload: commitment, streams: streams)
        let leafHash = Merkle.leafHash(bytes)
        try rows.entry(seq: seq, bytes: bytes, leafHash: leafHash, type: event.type, time: time.text)
        if let payload = event.payload { try rows.payload(seq: seq, salt: salt, bytes: payload) }
        if let source = event.source {
            try rows.source(source, seq: seq)
            written.sources[source] = written.entries.count
        }
        // Full tiles are written as they fill; the partial ones once, at the end of the batch.
        try tail.tiles.append(leaf: seq, hash: leafHash, created: tail.range.append(leafHash)) { id, hashes in
            try rows.tile(id, hashes: hashes)
        }
        for fact in ReferenceLedger.facts(of: event) { try rows.fact(fact, seq: seq) }
        for stream in event.streams { tail.streamHeads[stream] = (seq, leafHash) }
        tail.lastLeafHash = leafHash
        tail.lastTime = time.time
        written.counts.apply(type: event.type, streams: event.streams)
        written.entries.append(LogWriter.Appended(seq: seq, leafHash: leafHash, bytes: bytes))
    }

    /// One outcome per submission: new entries are proven (when their receipts are read) in memory against
    /// the batch's checkpoint; duplicates get their original receipt, read from the store now.
    private func receipts<Rows: CommitRows>(
        _ placements: [[Placement]?], _ plans: [Result<[UInt64?], EventRejection>], _ entries: [LogWriter.Appended],
        before: CompactRange, checkpoint: SignedCheckpoint?, _ rows: Rows
    ) throws -> [Result<LogWriter.Batch, EventRejection>] {
        let proofs = entries.isEmpty ? nil : LogWriter.BatchProofs(before: before, leaves: entries.map(\.leafHash))
        var proven = [Bool](repeating: false, count: entries.count)
        return try zip(placements, plans).map { placed, plan -> Result<LogWriter.Batch, EventRejection> in
            guard let placed else {
                guard case .failure(let rejection) = plan else {
                    preconditionFailure("a submission is either placed or rejected")
                }
                return .failure(rejection)
            }
            var own: [LogWriter.Appended] = []
            let outcomes = try placed.map { placement -> LogWriter.Batch.Outcome in
                switch placement {
                case .new(let index):
                    let entry = entries[index]
                    if proven[index] { return .new(entry, again: true) }
                    own.append(entry)
                    proven[index] = true
                    return .new(entry, again: false)
                case .stored(let seq):
                    return .stored(try rows.originalReceipt(seq: seq))
                }
            }
            return .success(
                LogWriter.Batch(entries: own, checkpoint: checkpoint, outcomes: outcomes, proofs: proofs))
        }
    }
}

/// The batch's payload salts, drawn from the random source in one call rather than one per event.
struct SaltSource {
    private let bytes: [UInt8]
    private var offset = 0

    init(count: Int, from random: (Int) throws -> [UInt8]) throws {
        bytes = try random(count * PayloadCommitment.saltLength)
    }

    /// The next salt; the source was sized for the batch's payloads, so running out is a bug.
    mutating func next() -> [UInt8] {
        precondition(offset + PayloadCommitment.saltLength <= bytes.count, "more payloads than salts drawn")
        defer { offset += PayloadCommitment.saltLength }
        return Array(bytes[offset..<(offset + PayloadCommitment.saltLength)])
    }
}

/// The one time of a batch's entries, in the forms the entries and the store's columns hold it.
private struct BatchTime {
    let time: Timestamp
    let bytes: [UInt8]
    let text: String

    init(_ time: Timestamp) {
        self.time = time
        bytes = time.entryBytes
        text = String(decoding: bytes, as: UTF8.self)
    }
}
