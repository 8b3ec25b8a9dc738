import Foundation
import GRDB
public import ProbityDomain
public import ProbityLog

// Entries the log writes for itself: key rotations, redactions, trusted timestamps; and stream heads.
extension LogWriter {
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
            type: LogEventType.keyRotated,
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
            type: LogEventType.redactionApplied,
            data: [
                "target_seq": .number(Double(seq)), "scope": .string("payload"),
                "legal_basis": .string(legalBasis), "requested_by": .string(requestedBy),
            ])
        let batch = try commit([Submission(events: [event], by: principal)]) { db in
            if let hold = try LegalHolds.covering(seq: seq, db).first { throw LegalHolds.refusal(seq: seq, hold) }
            try db.execute(sql: "DELETE FROM payloads WHERE seq = ?", arguments: [Int64(clamping: seq)])
        }[0].get()
        try eraseWAL(after: "the redaction of entry \(seq)")
        return batch
    }

    /// Copies the WAL into the database and truncates it to zero bytes. With `secure_delete` the database
    /// pages no longer hold an erased payload, but the WAL still holds the pages as they were before;
    /// this removes them. It waits (the busy timeout) for readers of older snapshots to finish.
    func eraseWAL(after what: String) throws {
        let result = try wrap("checkpointing the WAL after \(what)") {
            try queue.writeWithoutTransaction { db in
                try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            }
        }
        guard let result, (result[0] as Int?) == 0 else {
            throw StoreError(
                .io,
                "\(what) is committed, but readers kept the WAL from being emptied, so it may still hold the erased bytes; they leave it at a checkpoint with no reader open (`sqlite3 STORE 'PRAGMA wal_checkpoint(TRUNCATE)'`)"
            )
        }
    }

    /// Appends `checkpoint.timestamped`: the RFC 3161 token a TSA returned for `checkpoint` (its signed note's
    /// SHA-256). The token goes in the payload; `data` names the checkpoint, the TSA, its time and the token's
    /// SHA-256. The caller has checked the token (`TrustedTimestamp.verify`).
    public func appendTimestamp(
        of checkpoint: SignedCheckpoint, token: TrustedTimestamp.Token, by principal: String
    ) throws -> Batch {
        try commit(
            [Submission(events: [Self.timestampEvent(of: checkpoint, token: token)], by: principal)],
            alsoInTransaction: nil)[0].get()
    }

    /// The `checkpoint.timestamped` event for `token`, whichever store appends it.
    public static func timestampEvent(of checkpoint: SignedCheckpoint, token: TrustedTimestamp.Token) -> EventInput {
        EventInput(
            type: LogEventType.checkpointTimestamped,
            data: [
                "tree_size": .number(Double(checkpoint.checkpoint.size)),
                "root": .string(Base64.encode(checkpoint.checkpoint.root)),
                "tsa": .string(token.signer), "gen_time": .string(token.genTime),
                "token_sha256": .string(Hex.encode(SHA256.hash(token.der))),
            ], payload: .object(["token": .string(Base64.encode(token.der))]))
    }

    /// A signed stream-head note for `stream` at the current size.
    public func signedStreamHead(_ stream: String) throws -> SignedNote {
        try Self.signedStreamHead(stream, at: streamPosition(stream), origin: origin, signer: signer)
    }
}

extension LogWriter {
    /// Adds witnesses' cosignature lines to the stored checkpoint of `size` (the caller verified them):
    /// a line whose witness (name and key ID) already cosigned that checkpoint is not added twice. The
    /// checkpoint's text and the log's signature are unchanged, so every proof and receipt stays valid;
    /// what changes is who else vouches for it. Returns the stored note as it now is.
    @discardableResult
    public func addCosignatures(_ lines: [SignedNote.Signature], size: UInt64) throws -> SignedCheckpoint {
        try wrap("storing cosignatures") {
            try queue.write { db in
                guard
                    let note = try String.fetchOne(
                        db, sql: "SELECT note FROM checkpoints WHERE size = ?", arguments: [Int64(clamping: size)])
                else { throw StoreError(.notFound, "no checkpoint of size \(size) to add cosignatures to") }
                let stored = try SignedCheckpoint(parsing: note)
                let cosigned = try stored.adding(cosignatures: lines)
                if cosigned.note.signatures.count > stored.note.signatures.count {
                    try db.execute(
                        sql: "UPDATE checkpoints SET note = ? WHERE size = ?",
                        arguments: [cosigned.encoded, Int64(clamping: size)])
                }
                return cosigned
            }
        }
    }
}

extension SignedCheckpoint {
    /// This checkpoint with `lines` added, except a line whose witness (name and key ID) already cosigned
    /// it: the text and the log's signature are unchanged, so every proof against it stays valid.
    public func adding(cosignatures lines: [SignedNote.Signature]) throws -> SignedCheckpoint {
        var signatures = note.signatures
        for line in lines where !signatures.contains(where: { $0.keyID == line.keyID && $0.name == line.name }) {
            signatures.append(line)
        }
        return try SignedCheckpoint(note: SignedNote(text: note.text, signatures: signatures))
    }
}
