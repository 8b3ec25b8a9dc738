public import ProbityLog

/// What the group committer needs of a store's single writer, whichever store holds the log: the SQLite
/// file (`LogWriter`) or a PostgreSQL database (`PostgresLogWriter`). Both commit through `LogCommit`, so
/// the bytes appended, hashed, signed and proved are the same.
///
/// A writer is used from one thread at a time (the committer's writer thread), never concurrently.
public protocol LogAppender: AnyObject, Sendable {
    /// Group commit: the submissions in one durable transaction under one signed checkpoint; one outcome
    /// each (a rejected submission appends nothing, the others still commit).
    func append(_ submissions: [LogWriter.Submission]) throws -> [Result<LogWriter.Batch, EventRejection>]

    /// The log's size as this writer sees it.
    func size() throws -> UInt64

    /// Erases entry `seq`'s payload and appends `redaction.applied`, refused under an open legal hold.
    func redact(seq: UInt64, legalBasis: String, requestedBy: String, by principal: String) throws -> LogWriter.Batch

    /// Appends `checkpoint.timestamped` for an RFC 3161 token the caller checked.
    func appendTimestamp(
        of checkpoint: SignedCheckpoint, token: TrustedTimestamp.Token, by principal: String
    ) throws -> LogWriter.Batch

    /// Adds verified witness cosignature lines to the stored checkpoint of `size`; returns it as stored.
    @discardableResult
    func addCosignatures(_ lines: [SignedNote.Signature], size: UInt64) throws -> SignedCheckpoint

    /// Whether, after `error` failed a commit, this writer must be dropped and a new one opened before the
    /// next commit: its connection is broken, the store became unwritable, or it lost the lead. Errors of
    /// the submissions themselves (a rejected reference) keep the writer.
    func mustReopen(after error: any Error) -> Bool
}

extension LogWriter: LogAppender {
    public func mustReopen(after error: any Error) -> Bool {
        // After an I/O failure, start again from a fresh connection: it re-reads the tail and notices a
        // store that became writable again.
        guard let error = error as? StoreError else { return false }
        return [.io, .readOnly, .diskFull, .durability].contains(error.code)
    }
}
