public import Foundation
import GRDB
import GRDBSQLite
public import ProbityDomain
public import ProbityLog
import Synchronization

/// The single writer of a store. Holds the writer lock for its lifetime.
///
/// Each `append` is one SQLite transaction: the batch's entries, payloads, Merkle tiles, stream heads,
/// projection counts and one signed checkpoint commit together, durably (WAL, `synchronous=FULL`),
/// or not at all. Only after the commit returns are the receipts handed out.
public final class LogWriter: LogReader, @unchecked Sendable {
    private let lock: FileLock
    /// The writer's one connection; `db` (the reader's) is the same queue.
    let queue: DatabaseQueue
    public internal(set) var signer: NoteSigner
    /// The clock and the random bytes of this writer's entries (the system's, unless a test fixes them).
    let sources: WriteSources

    /// The tail of the log as the last commit left it; nil until loaded, and after a failed transaction.
    var tail: LogTail?

    /// The commit of a batch, with this writer's origin, current key and sources.
    var batchCommit: LogCommit { LogCommit(origin: origin, signer: signer, sources: sources) }

    init(path: String, db: DatabaseQueue, lock: FileLock, signer: NoteSigner, sources: WriteSources) throws {
        self.lock = lock
        self.queue = db
        self.signer = signer
        self.sources = sources
        try super.init(path: path, db: db)
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
        /// One receipt per event submitted, in order. The new entries' inclusion proofs are made when the
        /// receipts are read, by the thread that reads them (a request's task, the receipt spool): the
        /// writer's thread, which every append waits on, only keeps what proves them.
        public var receipts: [Receipt] {
            outcomes.map { outcome in
                switch outcome {
                case .new(let entry, let again):
                    let proof = TlogProof(
                        index: entry.seq, proof: proofs!.proof(index: entry.seq), checkpoint: checkpoint!)
                    return Receipt(seq: entry.seq, leafHash: entry.leafHash, proof: proof, duplicate: again)
                case .stored(let receipt): return receipt
                }
            }
        }
        /// How many events were submitted (one receipt each).
        public var receiptCount: Int { outcomes.count }
        /// For each event submitted, whether it was already in the log (its receipt's `duplicate`), without
        /// proving anything.
        public var duplicates: [Bool] {
            outcomes.map { outcome in
                switch outcome {
                case .new(_, let again): again
                case .stored: true
                }
            }
        }
        /// For each event submitted, the seq of its entry (the original one for a duplicate).
        public var seqs: [UInt64] {
            outcomes.map { outcome in
                switch outcome {
                case .new(let entry, _): entry.seq
                case .stored(let receipt): receipt.seq
                }
            }
        }
        /// The entries appended (duplicates excluded).
        public let entries: [Appended]
        /// The checkpoint signed for the batch; nil when every event was a duplicate.
        public let checkpoint: SignedCheckpoint?

        enum Outcome: Sendable {
            /// Appended by this transaction; `again` for a second event of the same source in it.
            case new(Appended, again: Bool)
            /// Already in the log before: its original receipt.
            case stored(Receipt)
        }
        let outcomes: [Outcome]
        /// Shared by the transaction's batches; nil when nothing new was appended.
        let proofs: BatchProofs?
    }

    /// The inclusion proofs of one transaction's new entries against its checkpoint, made on demand from
    /// the tree's edge before it and its leaf hashes, by any thread (the subtree hashes found are kept).
    final class BatchProofs: Sendable {
        private let prover: Mutex<BatchInclusionProver>
        init(before: CompactRange, leaves: [Merkle.Hash]) {
            prover = Mutex(BatchInclusionProver(before: before, leaves: leaves))
        }
        func proof(index: UInt64) -> [Merkle.Hash] { prover.withLock { $0.proof(index: index) } }
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

}

/// Why a submission was refused by the writer: event `index` (0-based, within its submission) refers
/// to something the log does not hold. Nothing of the submission was appended.
public struct EventRejection: Error, CustomStringConvertible, Sendable {
    public let index: Int
    public let error: EventInputError
    public var description: String { "event \(index + 1): \(error)" }
}
