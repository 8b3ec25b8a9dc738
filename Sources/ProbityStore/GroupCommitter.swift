import Foundation
import ProbityDomain
public import ProbityLog

/// Group commit: appends that arrive while a transaction is being made durable wait, and then go
/// together into the next transaction, under one signed checkpoint. Each submitter is resumed only
/// after its transaction committed (WAL + `synchronous=FULL`: fsynced), so an acknowledged event is
/// never lost.
///
/// The store is written from one dedicated thread, the only thread Probity starts itself (see "Concurrency"
/// in docs/ARCHITECTURE.md): SQLite and fsync block, and must not hold up the server's event loops or
/// Swift's cooperative thread pool. The thread owns the writer; other threads reach it only through the
/// queue below, so the writer needs no lock of its own.
public final class GroupCommitter: @unchecked Sendable {
    public struct Limits: Sendable {
        /// Most events in one transaction (a single submission may exceed it; it is never split).
        public var maxBatchEvents: Int
        /// How long the writer waits for more submissions before committing; 0 commits at once
        /// (submissions still group while the previous commit is being fsynced).
        public var window: Duration
        public init(maxBatchEvents: Int = 10_000, window: Duration = .zero) {
            self.maxBatchEvents = maxBatchEvents
            self.window = window
        }
    }

    /// Raised to submitters once shutdown has begun.
    public struct ShuttingDown: Error, CustomStringConvertible {
        public var description: String { "probityd is shutting down; retry once it is back" }
    }

    private struct Pending {
        let submission: LogWriter.Submission
        let done: @Sendable (Result<LogWriter.Batch, any Error>) -> Void
        let queued: ContinuousClock.Instant
    }

    /// nil while the store cannot be opened for writing (or, on PostgreSQL, while another writer leads);
    /// re-opened (by the writer thread) before the next commit. Guarded by `condition`.
    private var writer: (any LogAppender)?
    private let openWriter: @Sendable () throws -> any LogAppender
    /// After a failed open, the next attempt waits this long: submissions meanwhile fail at once with the
    /// last failure (a standby answers 503 without connecting to the server for each request).
    private let reopenInterval: Duration
    private let limits: Limits
    private let metrics: any CommitObserver
    private let condition = NSCondition()
    // Guarded by `condition`:
    private var queue: [Pending] = []
    /// Work that must see the store between two commits (a redaction checks legal holds, then writes).
    private var exclusiveJobs: [(Result<any LogAppender, any Error>) -> Void] = []
    /// Callers of `openIfClosed`, answered together by one attempt.
    private var openRequests: [CheckedContinuation<Bool, Never>] = []
    private var stopping = false
    private var stopped: [CheckedContinuation<Void, Never>] = []
    private var finished = false
    private var commitStarted: ContinuousClock.Instant?
    private var lastFailure: (any Error)?
    /// When opening the writer last failed, and how (for `reopenInterval`).
    private var failedOpen: (at: ContinuousClock.Instant, error: any Error)?

    /// `writer` is the open writer, or nil if it could not be opened (yet); `openWriter` opens a new one
    /// after a failure, so that the daemon recovers once the store is writable again (or, on PostgreSQL,
    /// takes the lead once the writer that held it is gone).
    public init(
        writer: (any LogAppender)?, openWriter: @escaping @Sendable () throws -> any LogAppender, limits: Limits,
        metrics: any CommitObserver,
        openFailure: (any Error)? = nil, reopenInterval: Duration = .zero
    ) {
        self.writer = writer
        lastFailure = openFailure
        failedOpen = openFailure.map { (.now, $0) }
        self.openWriter = openWriter
        self.reopenInterval = reopenInterval
        self.limits = limits
        self.metrics = metrics
        if let size = try? writer?.size() { metrics.treeSizeChanged(size) }
    }

    /// Starts the writer thread.
    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = "probity-writer"
        thread.start()
    }

    /// Appends `submission` in the next group commit; returns once it is durable.
    public func submit(_ submission: LogWriter.Submission) async throws -> LogWriter.Batch {
        try await withCheckedThrowingContinuation { continuation in
            submit(submission) { continuation.resume(with: $0) }
        }
    }

    /// Appends `submission` in the next group commit and calls `done` once it is durable (or failed), on the
    /// writer thread: `done` must hand its work elsewhere at once, since the next commit waits for it. For
    /// callers that are not Swift tasks (probityd's event loops answer appends without one).
    public func submit(
        _ submission: LogWriter.Submission, then done: @escaping @Sendable (Result<LogWriter.Batch, any Error>) -> Void
    ) {
        condition.lock()
        guard !stopping else {
            condition.unlock()
            return done(.failure(ShuttingDown()))
        }
        queue.append(Pending(submission: submission, done: done, queued: .now))
        condition.signal()
        condition.unlock()
    }

    /// Runs `work` on the writer thread between two group commits, with the writer: nothing is appended
    /// while it runs, so what it reads is still true when it writes.
    public func exclusive<T: Sendable>(_ work: @escaping @Sendable (any LogAppender) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            guard !stopping else { return continuation.resume(throwing: ShuttingDown()) }
            exclusiveJobs.append { writer in continuation.resume(with: Result { try work(writer.get()) }) }
            condition.signal()
        }
    }

    /// Stops taking submissions, commits those already queued, and returns when the writer thread is done.
    public func shutdown() async {
        await withCheckedContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            stopping = true
            if finished { return continuation.resume() }
            stopped.append(continuation)
            condition.broadcast()
        }
    }

    /// Opens the writer now if there is none (on the writer thread, between commits): a standby takes the
    /// lead as soon as it is free, without waiting for an append. Returns whether a writer is open. Called
    /// while `isWriting` is false.
    public func openIfClosed() async -> Bool {
        await withCheckedContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            guard !stopping else { return continuation.resume(returning: false) }
            openRequests.append(continuation)
            condition.signal()
        }
    }

    /// Whether a writer is open now (false while the store is unwritable, or another writer leads).
    public var isWriting: Bool {
        condition.lock()
        defer { condition.unlock() }
        return writer != nil
    }

    /// Whether the writer is idle or has been committing for less than `limit` (for the watchdog: a
    /// commit stuck on a dead disk must not be hidden from systemd).
    public func isResponsive(within limit: Duration) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard let started = commitStarted else { return true }
        return ContinuousClock.now - started < limit
    }

    /// The error of the last commit (or of opening the writer), if it failed (cleared by the next
    /// successful one).
    public var failure: String? { failureCause.map { "\($0)" } }

    /// The same error, for callers that tell causes apart (a standby from a broken store).
    public var failureCause: (any Error)? {
        condition.lock()
        defer { condition.unlock() }
        return lastFailure
    }

    private enum Work {
        case group([Pending])
        case exclusive((Result<any LogAppender, any Error>) -> Void)
        case open([CheckedContinuation<Bool, Never>])
    }

    private func nextWork() -> Work? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && exclusiveJobs.isEmpty && openRequests.isEmpty && !stopping { condition.wait() }
        if !openRequests.isEmpty {
            defer { openRequests = [] }
            return .open(openRequests)
        }
        if !exclusiveJobs.isEmpty { return .exclusive(exclusiveJobs.removeFirst()) }
        if queue.isEmpty { return nil }
        if limits.window > .zero && !stopping
            && queue.reduce(0, { $0 + $1.submission.events.count }) < limits.maxBatchEvents
        {
            let deadline = Date().addingTimeInterval(
                Double(limits.window.components.attoseconds) / 1e18 + Double(limits.window.components.seconds))
            while !stopping && condition.wait(until: deadline) {}
        }
        var events = 0
        var count = 0
        for pending in queue {
            if count > 0 && events + pending.submission.events.count > limits.maxBatchEvents { break }
            events += pending.submission.events.count
            count += 1
        }
        let group = Array(queue.prefix(count))
        queue.removeFirst(count)
        commitStarted = .now
        return .group(group)
    }

    /// The writer, opened anew if the last one failed (not before `reopenInterval` after a failed open).
    private func currentWriter(waitingInterval: Bool = true) throws -> any LogAppender {
        condition.lock()
        let current = writer
        let failed = failedOpen
        condition.unlock()
        if let current { return current }
        if waitingInterval, let failed, ContinuousClock.now - failed.at < reopenInterval { throw failed.error }
        let opened: any LogAppender
        do { opened = try openWriter() } catch {
            condition.lock()
            failedOpen = (.now, error)
            condition.unlock()
            throw error
        }
        condition.lock()
        writer = opened
        failedOpen = nil
        condition.unlock()
        return opened
    }

    private func run() {
        while let work = nextWork() {
            let group: [Pending]
            switch work {
            case .group(let pending): group = pending
            case .exclusive(let job):
                job(Result { try currentWriter() })
                continue
            case .open(let callers):
                // A failure to open is over once a writer opens; a failed commit's stays until one commits
                // (a full disk is only found by writing).
                condition.lock()
                let openHadFailed = failedOpen != nil
                condition.unlock()
                let opened = Result { try currentWriter(waitingInterval: false) }
                condition.lock()
                switch opened {
                case .success: if openHadFailed { lastFailure = nil }
                case .failure(let error): lastFailure = error
                }
                condition.unlock()
                for caller in callers { caller.resume(returning: (try? opened.get()) != nil) }
                continue
            }
            let outcome = Result { try currentWriter().append(group.map(\.submission)) }
            condition.lock()
            commitStarted = nil
            switch outcome {
            case .success: lastFailure = nil
            case .failure(let error):
                lastFailure = error
                if let current = writer, current.mustReopen(after: error) { writer = nil }
            }
            condition.unlock()
            switch outcome {
            case .success(let outcomes):
                let batches = outcomes.compactMap { try? $0.get() }
                let appended = batches.reduce(0) { $0 + $1.entries.count }
                let received = batches.reduce(0) { $0 + $1.receiptCount }
                metrics.committed(
                    appended: appended, duplicates: received - appended, latency: ContinuousClock.now - group[0].queued)
                if let size = batches.first?.checkpoint?.checkpoint.size { metrics.treeSizeChanged(size) }
                for (pending, outcome) in zip(group, outcomes) {
                    pending.done(outcome.mapError { $0 as any Error })
                }
            case .failure(let error):
                metrics.commitFailed()
                for pending in group { pending.done(.failure(error)) }
            }
        }
        condition.lock()
        finished = true
        let waiting = stopped
        stopped = []
        condition.unlock()
        for continuation in waiting { continuation.resume() }
    }
}

/// What the group committer reports after each commit (probityd's metrics); called on the writer thread.
public protocol CommitObserver: Sendable {
    /// A commit made durable: events appended, events found to be duplicates, time since the first was queued.
    func committed(appended: Int, duplicates: Int, latency: Duration)
    /// A commit failed; nothing of it was appended.
    func commitFailed()
    /// The log's size, once known and after each commit that grew it.
    func treeSizeChanged(_ size: UInt64)
}
