import Foundation
import GRDB
public import ProbityDomain
import ProbityLog

// The commit of a batch: one SQLite transaction that writes the entries and everything derived from
// them, signs one checkpoint and proves every receipt, or rolls back whole.
extension LogWriter {
    private func loadTail(_ db: Database) throws -> Tail {
        let size = try Self.size(db)
        // The right edge of the tree is the decomposition of [0, size) into complete subtrees.
        var tiles = Self.tileHashes(db)
        let hashes = try Merkle.rangeNodes(start: 0, end: size).map { try Self.nodeHash($0, &tiles) }
        var partial: [[UInt8]] = []
        for level in Tiles.layout(size: size) {
            guard level.partialWidth > 0 else { partial.append([]); continue }
            let id = Tiles.ID(level: level.level, index: level.fullTiles)
            guard let stored = try Self.tile(id, db), stored.count == level.partialWidth * 32 else {
                throw StoreError(
                    .inconsistent, "the store's \(id) is missing or has the wrong width; run `probity verify`")
            }
            partial.append(stored)
        }
        let facts = try Row.fetchAll(db, sql: "SELECT kind, id, detail FROM refs").compactMap { row in
            ReferenceLedger.Fact.Kind(rawValue: row["kind"]).map {
                ReferenceLedger.Fact(kind: $0, id: row["id"], detail: row["detail"])
            }
        }
        var tail = Tail(
            range: CompactRange(size: size, hashes: hashes), tiles: TileEdge(partial: partial),
            lastLeafHash: Entry.zeroHash, lastTime: nil,
            streamHeads: [:],
            ledger: ReferenceLedger(facts: facts))
        if size > 0,
            let row = try Row.fetchOne(
                db, sql: "SELECT leaf_hash, time FROM entries WHERE seq = ?", arguments: [Int64(size - 1)])
        {
            tail.lastLeafHash = try SHA256Digest(
                stored: row["leaf_hash"] as Data, "the stored leaf hash of seq \(size - 1)")
            tail.lastTime = Timestamp(entryTime: row["time"])
        }
        for row in try Row.fetchAll(db, sql: "SELECT stream, seq, leaf_hash FROM streams") {
            let stream: String = row["stream"]
            tail.streamHeads[stream] = (
                UInt64(row["seq"] as Int64),
                try SHA256Digest(stored: row["leaf_hash"] as Data, "the head of stream \(stream)")
            )
        }
        return tail
    }

    /// An event's place in the batch being built: new (its index among the new entries) or a duplicate.
    private enum Placement {
        case new(Int)
        case stored(UInt64)
    }

    /// What a commit has written so far, beyond the tail.
    private struct Written {
        var entries: [Appended] = []
        /// New entries by source, so that the same message twice in one batch is written once.
        var sources: [SourceKey: Int] = [:]
        var counts = CountsProjection()
    }

    /// Writes `submissions` in one transaction (with `alsoInTransaction`, which may throw to roll it back).
    /// The tail is taken, not copied: its dictionaries are then updated in place (no copy on write); it is
    /// put back only once the transaction has committed, and reloaded from the store after a failure.
    func commit(
        _ submissions: [Submission], alsoInTransaction: ((Database) throws -> Void)?
    ) throws -> [Result<Batch, EventRejection>] {
        try inTransaction { tail, db in try commitBatch(submissions, &tail, alsoInTransaction, db) }
    }

    /// Appends the batches `next` hands over, until it returns nil, in ONE transaction: each batch is signed
    /// under its own checkpoint, but none is durable until the last has been written — a rejected event,
    /// or an error thrown by `next` or `written`, appends nothing at all. `written` gets each batch while the
    /// transaction is still open: its receipts may be kept, not handed out, until this returns.
    public func appendAll(
        by principal: String, next: () throws -> [EventInput]?, written: (Batch) throws -> Void
    ) throws {
        try inTransaction { tail, db in
            while let events = try next() {
                guard !events.isEmpty else { continue }
                try written(commitBatch([Submission(events: events, by: principal)], &tail, nil, db)[0].get())
                Self.releaseElsewhere(events)
            }
        }
    }

    /// Frees a written batch's parsed events on another thread: thousands of small allocations whose
    /// freeing would otherwise take the writer's thread, the one an append waits on, ~8 % of its time.
    static func releaseElsewhere(_ events: [EventInput]) {
        disposal.async { withExtendedLifetime(events) {} }
    }

    private static let disposal = DispatchQueue(label: "probity.writer.disposal", qos: .utility)

    /// Runs `body` in one write transaction with the writer's tail; errors other than the store's and the
    /// database's (a rejection, the caller's own) pass through unchanged, after the rollback.
    private func inTransaction<T>(_ body: (inout Tail, Database) throws -> T) throws -> T {
        do {
            return try queue.write { db in
                var tail = try self.tail ?? loadTail(db)
                self.tail = nil
                let result = try body(&tail, db)
                self.tail = tail
                return result
            }
        } catch {
            self.tail = nil  // the transaction rolled back: reload the tail from the store next time
            if error is StoreError || !(error is DatabaseError) { throw error }
            throw StoreError.writeFailure(error, path: path, doing: "append")
        }
    }

    /// One batch inside the open transaction: its entries, derived rows and signed checkpoint, and one
    /// outcome per submission.
    private func commitBatch(
        _ submissions: [Submission], _ tail: inout Tail, _ alsoInTransaction: ((Database) throws -> Void)?,
        _ db: Database
    ) throws -> [Result<Batch, EventRejection>] {
        let before = tail.range
        let statements = try Statements(db)
        // References are checked first, submission by submission: one that fails is left out whole.
        var ledger = tail.ledger
        tail.ledger = ReferenceLedger()
        var pendingSources = Set<SourceKey>()
        let plans = try submissions.map { submission in
            try ReferencePlanner.plan(submission.events, ledger: &ledger, pendingSources: &pendingSources) {
                try statements.storedSeq(of: $0, db)
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
                    try write(event, by: submission.by, at: time, &tail, &written, &salts, statements, db)
                }
            }
            placements.append(placed)
        }
        var checkpoint: SignedCheckpoint?
        if !written.entries.isEmpty {
            for (id, hashes) in tail.tiles.partialTiles(size: tail.range.size) {
                try statements.putTile.run(db, Int64(id.level), Int64(id.index), hashes)
            }
            try updateProjections(written.counts, tail: tail, db)
            checkpoint = try signCheckpoint(tail.range, at: time, db)
        }
        try alsoInTransaction?(db)
        let batches = try receipts(placements, plans, written.entries, before: before, checkpoint: checkpoint, db)
        tail.ledger = ledger
        return batches
    }

    /// Writes one new entry and what derives from it: its payload, its source, the tiles it
    /// fills, the references it makes, and the heads of its streams.
    private func write(
        _ event: EventInput, by principal: String, at time: BatchTime, _ tail: inout Tail, _ written: inout Written,
        _ salts: inout SaltSource, _ statements: Statements, _ db: Database
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
        try statements.insertEntry.run(
            db, Int64(seq), bytes, leafHash, event.type, time.text)
        if let payload = event.payload { try statements.insertPayload.run(db, Int64(seq), salt, payload) }
        if let source = event.source {
            try statements.insertSource.run(db, source.platform, source.id, Int64(seq))
            written.sources[source] = written.entries.count
        }
        // Full tiles are written as they fill; the partial ones once, at the end of the batch.
        try tail.tiles.append(leaf: seq, hash: leafHash, created: tail.range.append(leafHash)) { id, hashes in
            try statements.putTile.run(db, Int64(id.level), Int64(id.index), hashes)
        }
        for fact in ReferenceLedger.facts(of: event) {
            try statements.upsertFact.run(db, fact.kind.rawValue, fact.id, fact.detail, Int64(seq))
        }
        for stream in event.streams { tail.streamHeads[stream] = (seq, leafHash) }
        tail.lastLeafHash = leafHash
        tail.lastTime = time.time
        written.counts.apply(type: event.type, streams: event.streams)
        written.entries.append(Appended(seq: seq, leafHash: leafHash, bytes: bytes))
    }

    /// Signs the checkpoint of the tree as it now is and stores it with the batch.
    private func signCheckpoint(_ range: CompactRange, at time: BatchTime, _ db: Database) throws -> SignedCheckpoint {
        let signed = try SignedCheckpoint.sign(
            Checkpoint(origin: origin, size: range.size, root: range.root), with: signer)
        try db.execute(
            sql: "INSERT INTO checkpoints (size, note, time) VALUES (?, ?, ?)",
            arguments: [Int64(range.size), signed.encoded, time.text])
        return signed
    }

    /// One outcome per submission: new entries are proven (when their receipts are read) in memory against
    /// the batch's checkpoint; duplicates get their original receipt, read from the store now.
    private func receipts(
        _ placements: [[Placement]?], _ plans: [Result<[UInt64?], EventRejection>], _ entries: [Appended],
        before: CompactRange, checkpoint: SignedCheckpoint?, _ db: Database
    ) throws -> [Result<Batch, EventRejection>] {
        let proofs = entries.isEmpty ? nil : BatchProofs(before: before, leaves: entries.map(\.leafHash))
        var proven = [Bool](repeating: false, count: entries.count)
        var storedTiles = Self.tileHashes(db)  // for duplicates' original receipts
        return try zip(placements, plans).map { placed, plan -> Result<Batch, EventRejection> in
            guard let placed else {
                guard case .failure(let rejection) = plan else {
                    preconditionFailure("a submission is either placed or rejected")
                }
                return .failure(rejection)
            }
            var own: [Appended] = []
            let outcomes = try placed.map { placement -> Batch.Outcome in
                switch placement {
                case .new(let index):
                    let entry = entries[index]
                    if proven[index] { return .new(entry, again: true) }
                    own.append(entry)
                    proven[index] = true
                    return .new(entry, again: false)
                case .stored(let seq):
                    return .stored(try originalReceipt(seq: seq, &storedTiles, db))
                }
            }
            return .success(Batch(entries: own, checkpoint: checkpoint, outcomes: outcomes, proofs: proofs))
        }
    }

    private func updateProjections(_ counts: CountsProjection, tail: Tail, _ db: Database) throws {
        let upsertStream = try db.cachedStatement(
            sql: """
                INSERT INTO streams (stream, seq, leaf_hash, entries) VALUES (?, ?, ?, ?)
                ON CONFLICT (stream) DO UPDATE SET seq = excluded.seq, leaf_hash = excluded.leaf_hash, entries = entries + excluded.entries
                """)
        for (stream, added) in counts.streamCounts {
            let head = tail.streamHeads[stream]!
            upsertStream.rawReset()
            upsertStream.rawBind(1, stream); upsertStream.rawBind(2, Int64(head.seq));
            upsertStream.rawBind(3, head.hash)
            upsertStream.rawBind(4, Int64(added))
            try upsertStream.rawExecute(db)
        }
        let upsertType = try db.cachedStatement(
            sql: """
                INSERT INTO type_counts (type, entries) VALUES (?, ?) ON CONFLICT (type) DO UPDATE SET entries = entries + excluded.entries
                """)
        for (type, added) in counts.typeCounts {
            upsertType.rawReset()
            upsertType.rawBind(1, type); upsertType.rawBind(2, Int64(added))
            try upsertType.rawExecute(db)
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

/// The statements a commit runs per entry, prepared once per connection (GRDB caches them).
private struct Statements {
    let insertEntry: Statement
    let insertPayload: Statement
    /// Writes a tile, full or partial (a partial tile is replaced as it grows).
    let putTile: Statement
    let findSource: Statement
    let insertSource: Statement
    let upsertFact: Statement

    init(_ db: Database) throws {
        insertEntry = try db.cachedStatement(
            sql: "INSERT INTO entries (seq, bytes, leaf_hash, type, time) VALUES (?, ?, ?, ?, ?)")
        insertPayload = try db.cachedStatement(sql: "INSERT INTO payloads (seq, salt, bytes) VALUES (?, ?, ?)")
        putTile = try db.cachedStatement(sql: "INSERT OR REPLACE INTO tiles (level, idx, hashes) VALUES (?, ?, ?)")
        findSource = try db.cachedStatement(sql: "SELECT seq FROM sources WHERE platform = ? AND id = ?")
        insertSource = try db.cachedStatement(sql: "INSERT INTO sources (platform, id, seq) VALUES (?, ?, ?)")
        upsertFact = try db.cachedStatement(
            sql: """
                INSERT INTO refs (kind, id, detail, seq) VALUES (?, ?, ?, ?)
                ON CONFLICT (kind, id) DO UPDATE SET detail = excluded.detail, seq = excluded.seq
                """)
    }

    /// The seq of the entry already recording `source`, if any.
    func storedSeq(of source: SourceKey, _ db: Database) throws -> UInt64? {
        findSource.rawReset()
        defer { findSource.rawReset() }
        findSource.rawBind(1, source.platform)
        findSource.rawBind(2, source.id)
        return try findSource.rawStep(db) ? UInt64(findSource.rawInt64(0)) : nil
    }
}
