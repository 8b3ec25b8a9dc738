import Foundation
import NIOCore
import PostgresNIO
public import ProbityDomain
public import ProbityLog
public import ProbityStore

/// The single writer of a PostgreSQL store. Several processes may open one; only the one that holds the
/// store's advisory lock leads, and each of its commits checks, in the commit's own transaction, that
/// the `leader` row still carries its epoch: a writer that lost the lead (its session ended, another took
/// over) can never commit, so the log never forks. Each append is one transaction with
/// `synchronous_commit = on`; the receipts are handed out only once COMMIT has returned.
public final class PostgresLogWriter: @unchecked Sendable {
    public let location: PostgresLocation
    public let origin: String
    public private(set) var signer: NoteSigner
    let session: PostgresSession
    let sources: WriteSources
    /// This writer's term as leader; a commit under another epoch is refused by the store.
    public let epoch: Int64
    private var tail: LogTail?

    private init(
        session: PostgresSession, origin: String, signer: NoteSigner, sources: WriteSources, epoch: Int64
    ) {
        self.session = session
        self.location = session.location
        self.origin = origin
        self.signer = signer
        self.sources = sources
        self.epoch = epoch
    }

    private var batchCommit: LogCommit { LogCommit(origin: origin, signer: signer, sources: sources) }

    // MARK: Opening

    /// Creates the store's tables in an empty database and appends `log.created` (seq 0), all in one
    /// transaction: a failure leaves the database as it was.
    public static func create(
        location: PostgresLocation, origin: String, signer: NoteSigner, keyPath: String, by principal: String,
        software: String, holder: String, sources: WriteSources = .system
    ) throws -> PostgresLogWriter {
        guard signer.verifier.name == origin else {
            throw StoreError(.badKey, "the signer's key name must be the origin \(origin)")
        }
        let session = try PostgresSession.connect(location)
        try requireDurable(session)
        if try PostgresStore.hasTables(session) {
            throw PostgresStoreError(
                .alreadyExists, "\(location) already holds tables; give Probity a database of its own, empty")
        }
        try session.execute("BEGIN")
        do {
            for statement in PostgresSchema.create { try session.execute(PostgresQuery(unsafeSQL: statement)) }
            for (key, value) in [
                "format": PostgresSchema.formatVersion, "origin": origin, "key_path": keyPath,
                "current_vkey": signer.verifier.description,
            ] {
                try session.execute("INSERT INTO meta (key, value) VALUES (\(key), \(value))")
            }
            let epoch = try lead(session, holder: holder, wait: false)
            let writer = PostgresLogWriter(
                session: session, origin: origin, signer: signer, sources: sources, epoch: epoch)
            let created = EventInput(
                type: LogEventType.logCreated,
                data: [
                    "origin": .string(origin), "verifier_key": .string(signer.verifier.description),
                    "algorithm": .string("ed25519"), "software": .string(software),
                ])
            var tail = try LogTail.load(size: 0, tile: { _ in nil }, lastEntry: nil, streamHeads: [:], facts: [])
            _ = try writer.batchCommit.commitBatch(
                [LogWriter.Submission(events: [created], by: principal)], &tail, PostgresRows(session))[0].get()
            try session.execute("COMMIT")
            writer.tail = tail
            return writer
        } catch {
            try? session.execute("ROLLBACK")
            throw error
        }
    }

    /// Opens the store for appending and takes the lead: at once, or (with `wait`) as soon as the writer
    /// that leads now is gone. `signer` must hold the log's current key. `holder` names this writer in
    /// the `leader` row (host and process), for the operator who wants to know who writes.
    public static func open(
        location: PostgresLocation, signer: NoteSigner, holder: String, wait: Bool = false,
        sources: WriteSources = .system
    ) throws -> PostgresLogWriter {
        let session = try PostgresSession.connect(location)
        try requireDurable(session)
        let meta = try PostgresStore.meta(session)
        let current = meta["current_vkey"]
        guard current == signer.verifier.description else {
            throw StoreError(
                .badKey,
                "the key given (\(signer.verifier)) is not the log's current signing key (\(current ?? "none"))")
        }
        let epoch = try lead(session, holder: holder, wait: wait)
        return PostgresLogWriter(
            session: session, origin: meta["origin"]!, signer: signer, sources: sources, epoch: epoch)
    }

    /// A commit is durable once COMMIT returns only with `synchronous_commit` on (or stronger, with a
    /// synchronous standby): set for the session, read back, refused otherwise.
    private static func requireDurable(_ session: PostgresSession) throws {
        try session.execute("SET synchronous_commit = on")
        let setting = try session.rows("SHOW synchronous_commit") { try $0.decode(String.self) }.first
        let fsync = try session.rows("SHOW fsync") { try $0.decode(String.self) }.first
        guard ["on", "remote_apply", "remote_write"].contains(setting), fsync == "on" else {
            throw PostgresStoreError(
                .server,
                "\(session.location) would not commit durably (synchronous_commit=\(setting ?? "?"), fsync=\(fsync ?? "?")); Probity needs both on"
            )
        }
        let recovering = try session.rows("SELECT pg_is_in_recovery()") { try $0.decode(Bool.self) }.first
        if recovering == true {
            throw PostgresStoreError(
                .readOnly, "\(session.location) is a standby (in recovery): append through the primary")
        }
    }

    /// Takes the advisory lock and starts a new epoch in the `leader` row.
    private static func lead(_ session: PostgresSession, holder: String, wait: Bool) throws -> Int64 {
        let key = PostgresSchema.writerLockKey
        while try session.rows("SELECT pg_try_advisory_lock(\(key))", { try $0.decode(Bool.self) }).first != true {
            guard wait else {
                let current = try? session.rows("SELECT holder FROM leader WHERE id = 1") { try $0.decode(String.self) }
                throw PostgresStoreError(
                    .notLeader,
                    "another writer leads \(session.location) (\(current?.first ?? "unknown")); stop it, or let probityd wait as a standby"
                )
            }
            Thread.sleep(forTimeInterval: 0.25)
        }
        let epoch = try session.rows(
            "UPDATE leader SET epoch = epoch + 1, holder = \(holder), since = now(), beat = now() WHERE id = 1 RETURNING epoch"
        ) { try $0.decode(Int64.self) }
        guard let epoch = epoch.first else {
            throw PostgresStoreError(
                .notAProbityStore, "\(session.location) has no leader row; it is not a Probity store")
        }
        return epoch
    }

    // MARK: Appending

    /// Appends `events` as one batch under one signed checkpoint: all durably, or none.
    public func append(_ events: [EventInput], by principal: String) throws -> LogWriter.Batch {
        guard !events.isEmpty else { throw StoreError(.badArgument, "nothing to append") }
        return try append([LogWriter.Submission(events: events, by: principal)])[0].get()
    }

    /// Group commit: several submissions in one transaction under one signed checkpoint; one outcome each.
    public func append(_ submissions: [LogWriter.Submission]) throws -> [Result<LogWriter.Batch, EventRejection>] {
        try inTransaction { tail, rows in try batchCommit.commitBatch(submissions, &tail, rows) }
    }

    /// As `LogWriter.appendAll`: the batches `next` hands over, each under its own checkpoint, in ONE
    /// transaction — a rejected event or an error appends nothing at all.
    public func appendAll(
        by principal: String, next: () throws -> [EventInput]?, written: (LogWriter.Batch) throws -> Void
    ) throws {
        try inTransaction { tail, rows in
            while let events = try next() {
                guard !events.isEmpty else { continue }
                try written(
                    batchCommit.commitBatch([LogWriter.Submission(events: events, by: principal)], &tail, rows)[0].get()
                )
                LogWriter.releaseElsewhere(events)
            }
        }
    }

    // MARK: Redaction

    /// Erases the payload (and its salt) of entry `seq` and appends `redaction.applied` naming it, in one
    /// transaction, refused while an open legal hold covers the entry (checked in that transaction: only
    /// this writer can place a hold meanwhile). Then `VACUUM FULL payloads` rewrites the payloads table
    /// (and its TOAST table) into new files and drops the old ones, so that the erased bytes are no longer
    /// in the table's files, on the primary and, as the rewrite is replicated, on its standbys. They stay
    /// in the WAL segments until the server recycles them, and in any WAL archive or base backup, for as
    /// long as the operator keeps those (docs/POSTGRES.md).
    public func redact(
        seq: UInt64, legalBasis: String, requestedBy: String, by principal: String
    ) throws
        -> LogWriter.Batch
    {
        let found = try session.rows(
            "SELECT EXISTS (SELECT 1 FROM entries WHERE seq = \(Int64(clamping: seq))), EXISTS (SELECT 1 FROM payloads WHERE seq = \(Int64(clamping: seq)))"
        ) { try $0.decode((Bool, Bool).self) }.first
        guard let (exists, hasPayload) = found, exists else {
            throw StoreError(.notFound, "no entry \(seq) in the log (its size is \(try PostgresStore.size(session)))")
        }
        guard hasPayload else {
            throw StoreError(
                .badArgument, "entry \(seq) has no payload to redact (it had none, or it is already redacted)")
        }
        let event = EventInput(
            type: LogEventType.redactionApplied,
            data: [
                "target_seq": .number(Double(seq)), "scope": .string("payload"),
                "legal_basis": .string(legalBasis), "requested_by": .string(requestedBy),
            ])
        let batch = try inTransaction { tail, rows in
            if let hold = try LegalHolds.covering(seq: seq, holdLookups).first {
                throw LegalHolds.refusal(seq: seq, hold)
            }
            let batch = try batchCommit.commitBatch(
                [LogWriter.Submission(events: [event], by: principal)], &tail, rows)[0]
                .get()
            try session.execute("DELETE FROM payloads WHERE seq = \(Int64(clamping: seq))")
            return batch
        }
        do { try session.execute("VACUUM FULL payloads") } catch {
            throw PostgresStoreError(
                .server,
                "the redaction of entry \(seq) is committed, but the payloads table could not be rewritten, so its files may still hold the erased bytes (\(error)); run VACUUM FULL payloads as the table's owner"
            )
        }
        return batch
    }

    /// The legal-hold check's reads, in this writer's session (inside its transaction).
    private var holdLookups: LegalHolds.Lookups {
        let session = session
        return LegalHolds.Lookups(
            openHolds: {
                try session.rows("SELECT id, seq FROM refs WHERE kind = 'hold' AND detail = 'open' ORDER BY seq") {
                    let (id, seq) = try $0.decode((String, Int64).self)
                    return (id, UInt64(clamping: seq))
                }
            },
            entryBytes: { seq in
                try session.rows("SELECT bytes FROM entries WHERE seq = \(Int64(clamping: seq))") {
                    Array(buffer: try $0.decode(ByteBuffer.self))
                }.first
            },
            sourceSeq: { source in
                try session.rows(
                    "SELECT seq FROM sources WHERE platform = \(source.platform) AND id = \(source.id)"
                ) { UInt64(clamping: try $0.decode(Int64.self)) }.first
            },
            partySeq: { party in
                try session.rows("SELECT seq FROM refs WHERE kind = 'party' AND id = \(party)") {
                    UInt64(clamping: try $0.decode(Int64.self))
                }.first
            })
    }

    /// One transaction, fenced: the `leader` row must still carry this writer's epoch (the update also
    /// locks it, so a takeover waits for this commit and then sees it). The tail is kept only once COMMIT
    /// has returned; after any failure it is reloaded from the store.
    private func inTransaction<T>(_ body: (inout LogTail, PostgresRows) throws -> T) throws -> T {
        do {
            try session.send("BEGIN")  // sent with the fence, one wait for both
            let fenced = try session.rows(
                "UPDATE leader SET beat = now() WHERE id = 1 AND epoch = \(epoch) RETURNING epoch"
            ) { try $0.decode(Int64.self) }.isEmpty
            if fenced {
                throw PostgresStoreError(
                    .fenced, "another writer took the lead of \(location) (epoch \(epoch) ended): nothing was appended")
            }
            var tail = try self.tail ?? loadTail()
            self.tail = nil
            let result = try body(&tail, PostgresRows(session))
            try session.execute("COMMIT")
            self.tail = tail
            return result
        } catch {
            self.tail = nil
            try? session.finishPending()  // a batch still running: its outcome no longer matters
            if !session.isClosed { try? session.execute("ROLLBACK") }
            throw error
        }
    }

    private func loadTail() throws -> LogTail {
        let size = try PostgresStore.size(session)
        let session = session
        let facts = try session.rows("SELECT kind, id, detail FROM refs") { row in
            let (kind, id, detail) = try row.decode((String, String, String).self)
            return ReferenceLedger.Fact.Kind(rawValue: kind).map {
                ReferenceLedger.Fact(kind: $0, id: id, detail: detail)
            }
        }.compactMap { $0 }
        var lastEntry: (leafHash: Merkle.Hash, time: String)?
        if size > 0 {
            let rows = try session.rows("SELECT leaf_hash, time FROM entries WHERE seq = \(Int64(size - 1))") { row in
                let (leaf, time) = try row.decode((ByteBuffer, String).self)
                return (Array(buffer: leaf), time)
            }
            if let (leaf, time) = rows.first {
                lastEntry = (try digest(leaf, "the stored leaf hash of seq \(size - 1)"), time)
            }
        }
        var heads: [String: (seq: UInt64, hash: Merkle.Hash)] = [:]
        for (stream, seq, leaf) in try session.rows(
            "SELECT stream, seq, leaf_hash FROM streams",
            { row in
                let (stream, seq, leaf) = try row.decode((String, Int64, ByteBuffer).self)
                return (stream, seq, Array(buffer: leaf))
            })
        {
            heads[stream] = (UInt64(seq), try digest(leaf, "the head of stream \(stream)"))
        }
        return try LogTail.load(
            size: size, tile: { try PostgresStore.tile($0, session) }, lastEntry: lastEntry, streamHeads: heads,
            facts: facts)
    }
}

extension PostgresLogWriter: LogAppender {
    public func size() throws -> UInt64 { try PostgresStore.size(session) }

    public func appendTimestamp(
        of checkpoint: SignedCheckpoint, token: TrustedTimestamp.Token, by principal: String
    ) throws -> LogWriter.Batch {
        try append([LogWriter.timestampEvent(of: checkpoint, token: token)], by: principal)
    }

    /// Adds witnesses' lines to the stored checkpoint of `size`, in a fenced transaction (row locked).
    @discardableResult
    public func addCosignatures(_ lines: [SignedNote.Signature], size: UInt64) throws -> SignedCheckpoint {
        try inTransaction { _, _ in
            guard
                let note = try session.rows(
                    "SELECT note FROM checkpoints WHERE size = \(Int64(clamping: size)) FOR UPDATE",
                    { try $0.decode(String.self) }
                ).first
            else { throw StoreError(.notFound, "no checkpoint of size \(size) to add cosignatures to") }
            let stored = try PostgresStore.checkpoint(parsing: note)
            let cosigned = try stored.adding(cosignatures: lines)
            if cosigned.note.signatures.count > stored.note.signatures.count {
                try session.execute(
                    "UPDATE checkpoints SET note = \(cosigned.encoded) WHERE size = \(Int64(clamping: size))")
            }
            return cosigned
        }
    }

    /// Everything but a refused submission: the connection may be gone (a new one re-reads the tail), the
    /// lead may be lost (fenced: a new writer waits for it), the server may have refused the batch.
    public func mustReopen(after error: any Error) -> Bool {
        !(error is EventRejection)
    }
}
