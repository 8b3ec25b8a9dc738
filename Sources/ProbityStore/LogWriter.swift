public import Foundation
import GRDB
import GRDBSQLite
public import ProbityDomain
public import ProbityLog

/// The single writer of a store. Holds the writer lock for its lifetime.
///
/// Each `append` is one SQLite transaction: the batch's entries, payloads, Merkle nodes, stream heads,
/// projection counts and one signed checkpoint commit together, durably (WAL, `synchronous=FULL`),
/// or not at all. Only after the commit returns are the receipts handed out.
public final class LogWriter: LogReader, @unchecked Sendable {
    private let lock: FileLock
    public private(set) var signer: NoteSigner

    /// What the writer must know about the tail of the log; reloaded whenever a transaction fails.
    private struct Tail {
        var range: CompactRange
        var lastLeafHash: Merkle.Hash
        var lastTime: Timestamp?
        var streamHeads: [String: (seq: UInt64, hash: Merkle.Hash)]
        /// Parties, procedures and legal holds events may refer to.
        var ledger: ReferenceLedger
    }
    private var tail: Tail?

    private init(path: String, db: DatabaseQueue, lock: FileLock, signer: NoteSigner) throws {
        self.lock = lock
        self.signer = signer
        try super.init(path: path, db: db)
    }

    /// SQLite creates `-wal` and `-shm` with the database file's mode of the moment: if a reader opened the
    /// store while the file was read-only, they stay read-only after the file was made writable again.
    /// Ours (same owner), they get the file's write bits back.
    static func restoreCompanionModes(_ path: String) {
        var file = stat()
        guard stat(path, &file) == 0 else { return }
        for suffix in ["-wal", "-shm"] {
            var companion = stat()
            if stat(path + suffix, &companion) == 0, companion.st_uid == geteuid(), companion.st_mode & 0o200 == 0 {
                chmod(path + suffix, (companion.st_mode | (file.st_mode & 0o222)) & 0o7777)
            }
        }
    }

    /// Takes the store's writer lock, for a caller that opens writers itself (see `open`).
    public static func lockStore(path: String) throws -> FileLock { try WriterLock.take(storePath: path) }

    static func openDatabase(path: String) throws -> DatabaseQueue {
        // Checked before SQLite opens the file: SQLite would silently open it read-only, and may keep that
        // descriptor for later connections of this process even once the file is writable again.
        if FileManager.default.fileExists(atPath: path) && access(path, W_OK) != 0 {
            throw StoreError(
                .readOnly,
                "the store \(path) is read-only (\(String(cString: strerror(errno)))); make it writable by the daemon's user"
            )
        }
        restoreCompanionModes(path)
        var config = Configuration()
        config.label = "probity.writer"
        config.busyMode = .timeout(5)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
        }
        let queue = try DatabaseQueue(path: path, configuration: config)
        // Durability: every commit fsyncs the WAL. Set after opening and read back, because a
        // setting that silently did not take would void "nothing acknowledged is ever lost".
        try queue.writeWithoutTransaction { db in
            // SQLite silently opens a file it may not write read-only; say so now, not at the first append.
            guard sqlite3_db_readonly(db.sqliteConnection, "main") == 0 else {
                throw StoreError(
                    .readOnly,
                    "the store \(path) is read-only (file or filesystem); make it writable by the daemon's user")
            }
            try db.execute(sql: "PRAGMA synchronous = FULL")
            let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode")
            let sync = try Int.fetchOne(db, sql: "PRAGMA synchronous")
            guard mode == "wal", sync == 2 else {
                throw StoreError(
                    .durability,
                    "SQLite refused durable settings on \(path) (journal_mode=\(mode ?? "?"), synchronous=\(sync ?? -1)); the filesystem may not support WAL"
                )
            }
        }
        return queue
    }

    /// Creates a new store and appends `log.created` (seq 0) carrying the first verifier key.
    /// The store's mode: payloads hold personal data, so only its owner may read it. SQLite creates the
    /// `-wal` and `-shm` files with the database file's mode, so they are 0600 too.
    public static let fileMode: mode_t = 0o600

    public static func create(
        path: String, origin: String, signer: NoteSigner, keyPath: String, by principal: String,
        software: String
    ) throws -> LogWriter {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw StoreError(.alreadyExists, "\(path) already exists; choose another path or remove it first")
        }
        guard signer.verifier.name == origin else {
            throw StoreError(.badKey, "the signer's key name must be the origin \(origin)")
        }
        let lock = try WriterLock.take(storePath: path)
        do {
            try createPrivateFile(path, mode: fileMode)
            let queue = try openDatabase(path: path)
            try Schema.migrator.migrate(queue)
            try queue.write { db in
                for (key, value) in [
                    "format": Schema.formatVersion, "origin": origin, "key_path": keyPath,
                    "current_vkey": signer.verifier.description,
                ] {
                    try db.execute(sql: "INSERT INTO meta (key, value) VALUES (?, ?)", arguments: [key, value])
                }
            }
            let writer = try LogWriter(path: path, db: queue, lock: lock, signer: signer)
            let created = EventInput(
                type: "log.created",
                data: [
                    "origin": .string(origin),
                    "verifier_key": .string(signer.verifier.description),
                    "algorithm": .string("ed25519"),
                    "software": .string(software),
                ])
            _ = try writer.append([created], by: principal)
            return writer
        } catch {
            // Nothing half-made remains: a failed init leaves no store behind.
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            if let error = error as? StoreError { throw error }
            throw StoreError(.io, "cannot create the store at \(path): \(error)")
        }
    }

    /// Opens an existing store for appending. `signer` must hold the log's current key.
    /// `lock` is the store's writer lock when the caller holds it already (`lockStore`), as a daemon
    /// does to stay the store's only writer while it re-opens the database after an I/O failure.
    public static func open(path: String, signer: NoteSigner, lock: FileLock? = nil) throws -> LogWriter {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError(
                .notFound, "no store at \(path); create one with `probity init --db \(path) --origin NAME`")
        }
        let lock = try lock ?? WriterLock.take(storePath: path)
        let queue: DatabaseQueue
        do {
            queue = try openDatabase(path: path)
            try Schema.migrator.migrate(queue)
        } catch let error as StoreError { throw error } catch {
            throw StoreError.writeFailure(error, path: path, doing: "open it for writing")
        }
        let writer = try LogWriter(path: path, db: queue, lock: lock, signer: signer)
        let current = try writer.meta("current_vkey")
        guard current == signer.verifier.description else {
            throw StoreError(
                .badKey,
                "the key given (\(signer.verifier)) is not the log's current signing key (\(current ?? "none"))")
        }
        return writer
    }

    // MARK: Append

    public struct Appended: Sendable {
        public let seq: UInt64
        public let leafHash: Merkle.Hash
        public let bytes: [UInt8]
    }

    /// What one event got (see `Receipt`).
    public typealias Receipt = ProbityLog.Receipt

    /// One client's events, appended together (all or none) under one principal.
    public struct Submission: Sendable {
        public let events: [EventInput]
        public let by: String
        public init(events: [EventInput], by: String) { self.events = events; self.by = by }
    }

    public struct Batch: Sendable {
        /// One receipt per event submitted, in order.
        public let receipts: [Receipt]
        /// The entries appended (duplicates excluded).
        public let entries: [Appended]
        /// The checkpoint signed for the batch; nil when every event was a duplicate.
        public let checkpoint: SignedCheckpoint?
    }

    private func loadTail(_ db: Database) throws -> Tail {
        let size = try Self.size(db)
        // The right edge of the tree is the decomposition of [0, size) into complete subtrees.
        let hashes = try Merkle.rangeNodes(start: 0, end: size).map { try nodeHash($0, db) }
        let facts = try Row.fetchAll(db, sql: "SELECT kind, id, detail FROM refs").compactMap { row in
            ReferenceLedger.Fact.Kind(rawValue: row["kind"]).map {
                ReferenceLedger.Fact(kind: $0, id: row["id"], detail: row["detail"])
            }
        }
        var tail = Tail(
            range: CompactRange(size: size, hashes: hashes), lastLeafHash: Entry.zeroHash, lastTime: nil,
            streamHeads: [:],
            ledger: ReferenceLedger(facts: facts))
        if size > 0,
            let row = try Row.fetchOne(
                db, sql: "SELECT leaf_hash, time FROM entries WHERE seq = ?", arguments: [Int64(size - 1)])
        {
            tail.lastLeafHash = [UInt8](row["leaf_hash"] as Data)
            tail.lastTime = Timestamp(entryTime: row["time"])
        }
        for row in try Row.fetchAll(db, sql: "SELECT stream, seq, leaf_hash FROM streams") {
            tail.streamHeads[row["stream"]] = (UInt64(row["seq"] as Int64), [UInt8](row["leaf_hash"] as Data))
        }
        return tail
    }

    /// Appends `events` as one batch under one signed checkpoint. Either all new events are appended,
    /// durably, or none is (and the error says why).
    /// An event that refers to what the log does not hold (an unregistered party, an unknown procedure)
    /// throws `EventRejection` and nothing is appended.
    public func append(_ events: [EventInput], by principal: String) throws -> Batch {
        guard !events.isEmpty else { throw StoreError(.badArgument, "nothing to append") }
        return try commit([Submission(events: events, by: principal)], alsoInTransaction: nil)[0].get()
    }

    /// Group commit: several clients' submissions in one transaction under one signed checkpoint.
    /// Returns one outcome per submission, in order: its batch (all batches share the checkpoint), or why
    /// it was rejected — a rejected submission appends nothing and does not affect the others.
    public func append(_ submissions: [Submission]) throws -> [Result<Batch, EventRejection>] {
        guard submissions.contains(where: { !$0.events.isEmpty }) else {
            throw StoreError(.badArgument, "nothing to append")
        }
        return try commit(submissions, alsoInTransaction: nil)
    }

    /// An event's place in the batch being built: new (its index among the new entries) or a duplicate.
    private enum Placement {
        case new(Int)
        case stored(UInt64)
    }

    private func commit(
        _ submissions: [Submission], alsoInTransaction: ((Database) throws -> Void)?
    ) throws -> [Result<Batch, EventRejection>] {
        do {
            return try db.write { db in
                // Taken, not copied: the tail's dictionaries are then updated in place (no copy on write);
                // it is put back only once the transaction has committed.
                var tail = try self.tail ?? loadTail(db)
                self.tail = nil
                let before = tail.range
                let insertEntry = try db.cachedStatement(
                    sql: "INSERT INTO entries (seq, bytes, leaf_hash, type, time) VALUES (?, ?, ?, ?, ?)")
                let insertPayload = try db.cachedStatement(
                    sql: "INSERT INTO payloads (seq, salt, bytes) VALUES (?, ?, ?)")
                let insertNode = try db.cachedStatement(sql: "INSERT INTO nodes (id, hash) VALUES (?, ?)")
                let findSource = try db.cachedStatement(sql: "SELECT seq FROM sources WHERE platform = ? AND id = ?")
                let insertSource = try db.cachedStatement(
                    sql: "INSERT INTO sources (platform, id, seq) VALUES (?, ?, ?)")
                let upsertFact = try db.cachedStatement(
                    sql:
                        "INSERT INTO refs (kind, id, detail, seq) VALUES (?, ?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET detail = excluded.detail, seq = excluded.seq"
                )
                var appended: [Appended] = []
                var placements: [[Placement]?] = []
                var sourcesInBatch: [SourceKey: Int] = [:]
                // References are checked first, submission by submission: one that fails is left out whole.
                var ledger = tail.ledger
                tail.ledger = ReferenceLedger()
                var pendingSources = Set<SourceKey>()
                let plans = try submissions.map { submission in
                    try ReferencePlanner.plan(submission.events, ledger: &ledger, pendingSources: &pendingSources) {
                        source in
                        findSource.rawReset()
                        defer { findSource.rawReset() }
                        findSource.rawBind(1, source.platform); findSource.rawBind(2, source.id)
                        return try findSource.rawStep(db) ? UInt64(findSource.rawInt64(0)) : nil
                    }
                }
                var counts = CountsProjection()
                // One time for the whole batch: it commits at once, and time never goes backwards.
                let now = Timestamp.now()
                let time = max(now, tail.lastTime ?? now)
                let timeBytes = time.entryBytes
                let timeText = String(decoding: timeBytes, as: UTF8.self)
                var salts = try SaltSource(
                    count: zip(submissions, plans).reduce(0) { total, pair in
                        guard case .success = pair.1 else { return total }
                        return total + pair.0.events.count { $0.payload != nil }
                    })
                for (submission, plan) in zip(submissions, plans) {
                    guard case .success(let storedSeqs) = plan else { placements.append(nil); continue }
                    var placed: [Placement] = []
                    placed.reserveCapacity(submission.events.count)
                    for (event, storedSeq) in zip(submission.events, storedSeqs) {
                        if let storedSeq { placed.append(.stored(storedSeq)); continue }
                        if let source = event.source, let index = sourcesInBatch[source] {
                            placed.append(.new(index)); continue
                        }
                        let seq = tail.range.size
                        let streams = event.streams.map { ($0, tail.streamHeads[$0]?.hash ?? Entry.zeroHash) }
                        var commitment: PayloadCommitment?
                        var salt: [UInt8] = []
                        if let payload = event.payload {
                            salt = salts.next()
                            commitment = PayloadCommitment(salt: salt, payload: payload)
                        }
                        let bytes = Entry.encode(
                            log: origin, seq: seq, prev: tail.lastLeafHash, time: timeBytes, type: event.type,
                            by: submission.by,
                            data: event.dataBytes, payload: commitment, streams: streams)
                        let leafHash = Merkle.leafHash(bytes)

                        insertEntry.rawReset()
                        insertEntry.rawBind(1, Int64(seq)); insertEntry.rawBind(2, bytes);
                        insertEntry.rawBind(3, leafHash)
                        insertEntry.rawBind(4, event.type); insertEntry.rawBind(5, timeText)
                        try insertEntry.rawExecute(db)
                        if let payload = event.payload {
                            insertPayload.rawReset()
                            insertPayload.rawBind(1, Int64(seq)); insertPayload.rawBind(2, salt);
                            insertPayload.rawBind(3, payload)
                            try insertPayload.rawExecute(db)
                        }
                        if let source = event.source {
                            insertSource.rawReset()
                            insertSource.rawBind(1, source.platform); insertSource.rawBind(2, source.id);
                            insertSource.rawBind(3, Int64(seq))
                            try insertSource.rawExecute(db)
                            sourcesInBatch[source] = appended.count
                        }
                        for (node, hash) in tail.range.append(leafHash) {
                            insertNode.rawReset()
                            insertNode.rawBind(1, MerkleNodeID.id(level: node.level, index: node.index));
                            insertNode.rawBind(2, hash)
                            try insertNode.rawExecute(db)
                        }
                        for fact in ReferenceLedger.facts(of: event) {
                            upsertFact.rawReset()
                            upsertFact.rawBind(1, fact.kind.rawValue); upsertFact.rawBind(2, fact.id);
                            upsertFact.rawBind(3, fact.detail); upsertFact.rawBind(4, Int64(seq))
                            try upsertFact.rawExecute(db)
                        }
                        for stream in event.streams { tail.streamHeads[stream] = (seq, leafHash) }
                        tail.lastLeafHash = leafHash
                        tail.lastTime = time
                        counts.apply(type: event.type, streams: event.streams)
                        placed.append(.new(appended.count))
                        appended.append(Appended(seq: seq, leafHash: leafHash, bytes: bytes))
                    }
                    placements.append(placed)
                }
                var checkpoint: SignedCheckpoint?
                if !appended.isEmpty {
                    try updateProjections(counts, tail: tail, db)
                    let signed = try SignedCheckpoint.sign(
                        Checkpoint(origin: origin, size: tail.range.size, root: tail.range.root), with: signer)
                    try db.execute(
                        sql: "INSERT INTO checkpoints (size, note, time) VALUES (?, ?, ?)",
                        arguments: [Int64(tail.range.size), signed.encoded, timeText])
                    checkpoint = signed
                }
                try alsoInTransaction?(db)

                // Receipts: new entries are proven in memory against the batch's checkpoint; duplicates get
                // their original receipt, read from the store.
                var prover = BatchInclusionProver(before: before, leaves: appended.map(\.leafHash))
                var newReceipts: [Receipt?] = Array(repeating: nil, count: appended.count)
                let batches = try zip(placements, plans).map { placed, plan -> Result<Batch, EventRejection> in
                    guard let placed else {
                        guard case .failure(let rejection) = plan else {
                            preconditionFailure("a submission is either placed or rejected")
                        }
                        return .failure(rejection)
                    }
                    var own: [Appended] = []
                    let receipts = try placed.map { placement -> Receipt in
                        switch placement {
                        case .new(let index):
                            let entry = appended[index]
                            if let receipt = newReceipts[index] { return receipt.asDuplicate }
                            own.append(entry)
                            let receipt = Receipt(
                                seq: entry.seq, leafHash: entry.leafHash,
                                proof: TlogProof(
                                    index: entry.seq, proof: prover.proof(index: entry.seq), checkpoint: checkpoint!),
                                duplicate: false)
                            newReceipts[index] = receipt
                            return receipt
                        case .stored(let seq):
                            return try originalReceipt(seq: seq, db)
                        }
                    }
                    return .success(Batch(receipts: receipts, entries: own, checkpoint: checkpoint))
                }
                tail.ledger = ledger
                self.tail = tail
                return batches
            }
        } catch {
            self.tail = nil  // the transaction rolled back: reload the tail from the store next time
            if let error = error as? StoreError { throw error }
            throw StoreError.writeFailure(error, path: path, doing: "append")
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

    // MARK: Keys

    /// Appends `key.rotated` for `newSigner` as its own batch, covered by a checkpoint signed with the
    /// current key; from then on the new key signs. `newKeyPath` must already hold the new key, durably.
    public func rotateKey(
        to newSigner: NoteSigner, newKeyPath: String, reason: String, by principal: String
    ) throws -> Batch {
        guard newSigner.verifier.name == origin else {
            throw StoreError(.badKey, "the new key's name must be the origin \(origin)")
        }
        guard newSigner.verifier != signer.verifier else { throw StoreError(.badKey, "the new key is the current key") }
        let event = EventInput(
            type: "key.rotated",
            data: ["verifier_key": .string(newSigner.verifier.description), "reason": .string(reason)])
        // The rotation and the switch of the store's current key commit together: a crash cannot leave
        // the log saying one key while the writer signs with the other.
        let batch = try commit([Submission(events: [event], by: principal)]) { db in
            try db.execute(
                sql: "UPDATE meta SET value = ? WHERE key = 'current_vkey'", arguments: [newSigner.verifier.description]
            )
            try db.execute(sql: "UPDATE meta SET value = ? WHERE key = 'key_path'", arguments: [newKeyPath])
        }[0].get()
        signer = newSigner
        return batch
    }

    // MARK: Redaction

    /// Erases the payload (and its salt) of entry `seq` and appends `redaction.applied` naming it, in one
    /// transaction: the entry keeps its commitment, so every proof still holds, and `verify` reports it
    /// redacted by the new entry. Refused with `.legalHold` while an open legal hold covers the entry
    /// (checked in the same transaction, see `LegalHolds`).
    public func redact(seq: UInt64, legalBasis: String, requestedBy: String, by principal: String) throws -> Batch {
        let (exists, hasPayload) = try wrap("reading entry \(seq)") {
            try db.read { db in
                (
                    try Bool.fetchOne(db, sql: "SELECT 1 FROM entries WHERE seq = ?", arguments: [Int64(clamping: seq)])
                        ?? false,
                    try Bool.fetchOne(
                        db, sql: "SELECT 1 FROM payloads WHERE seq = ?", arguments: [Int64(clamping: seq)]) ?? false
                )
            }
        }
        guard exists else { throw StoreError(.notFound, "no entry \(seq) in the log (its size is \(try size()))") }
        guard hasPayload else {
            throw StoreError(
                .badArgument, "entry \(seq) has no payload to redact (it had none, or it is already redacted)")
        }
        let event = EventInput(
            type: "redaction.applied",
            data: [
                "target_seq": .number(Double(seq)), "scope": .string("payload"),
                "legal_basis": .string(legalBasis), "requested_by": .string(requestedBy),
            ])
        return try commit([Submission(events: [event], by: principal)]) { db in
            if let hold = try LegalHolds.covering(seq: seq, db).first {
                throw StoreError(
                    .legalHold,
                    "entry \(seq) is under legal hold \"\(hold.id)\" (placed at seq \(hold.placedSeq): \(hold.reason)); "
                        + "it cannot be redacted until the hold is released (legal_hold.released)")
            }
            try db.execute(sql: "DELETE FROM payloads WHERE seq = ?", arguments: [Int64(clamping: seq)])
        }[0].get()
    }

    /// Appends `checkpoint.timestamped`: the RFC 3161 token a TSA returned for `checkpoint` (its signed note's
    /// SHA-256). The token goes in the payload; `data` names the checkpoint, the TSA, its time and the token's
    /// SHA-256. The caller has checked the token (`TrustedTimestamp.verify`).
    public func appendTimestamp(
        of checkpoint: SignedCheckpoint, token: TrustedTimestamp.Token, by principal: String
    ) throws -> Batch {
        let event = EventInput(
            type: "checkpoint.timestamped",
            data: [
                "tree_size": .number(Double(checkpoint.checkpoint.size)),
                "root": .string(Base64.encode(checkpoint.checkpoint.root)),
                "tsa": .string(token.signer), "gen_time": .string(token.genTime),
                "token_sha256": .string(Hex.encode(SHA256.hash(token.der))),
            ], payload: .object(["token": .string(Base64.encode(token.der))]))
        return try commit([Submission(events: [event], by: principal)], alsoInTransaction: nil)[0].get()
    }

    /// A signed stream-head note for `stream` at the current size.
    public func signedStreamHead(_ stream: String) throws -> SignedNote {
        let (size, head) = try wrap("reading a stream head") {
            try db.read { db -> (UInt64, (UInt64, Merkle.Hash)?) in
                let size = UInt64(try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(size), 0) FROM checkpoints") ?? 0)
                let head = try Row.fetchOne(
                    db, sql: "SELECT seq, leaf_hash FROM streams WHERE stream = ?", arguments: [stream]
                ).map {
                    (UInt64($0["seq"] as Int64), [UInt8]($0["leaf_hash"] as Data))
                }
                return (size, head)
            }
        }
        return try StreamHead(
            origin: origin, treeSize: size, stream: stream, lastSeq: head?.0, lastLeafHash: head?.1 ?? Entry.zeroHash
        ).sign(with: signer)
    }
}

/// Why a submission was refused by the writer: event `index` (0-based, within its submission) refers
/// to something the log does not hold. Nothing of the submission was appended.
public struct EventRejection: Error, CustomStringConvertible, Sendable {
    public let index: Int
    public let error: EventInputError
    public var description: String { "event \(index + 1): \(error)" }
}

/// The batch's payload salts, drawn from OpenSSL's RNG in one call rather than one per event.
struct SaltSource {
    private let bytes: [UInt8]
    private var offset = 0

    init(count: Int) throws { bytes = try SecureRandom.bytes(count * PayloadCommitment.saltLength) }

    /// The next salt; the source was sized for the batch's payloads, so running out is a bug.
    mutating func next() -> [UInt8] {
        precondition(offset + PayloadCommitment.saltLength <= bytes.count, "more payloads than salts drawn")
        defer { offset += PayloadCommitment.saltLength }
        return Array(bytes[offset..<(offset + PayloadCommitment.saltLength)])
    }
}
