import Foundation
import Logging
import ProbityCapture
import ProbityDomain
import ProbityStore
import ServiceLifecycle
import Synchronization

/// Runs each `[[capture]]` on a thread of its own: a scan, then a wait for inotify or the rescan timer,
/// until shutdown. Appends go through the group committer like any client's, so a capture never holds
/// up the API; a scan that fails (the store is degraded, the mapping does not parse) is logged, counted
/// and tried again at the next wake.
struct CaptureService: Service {
    let captures: [CaptureSource]
    let committer: GroupCommitter
    let storePath: String
    let readers: StoreReaders
    let metrics: ServerMetrics
    let logger: Logger

    func run() async throws {
        let stop = StopFlag()
        let ledger = try CaptureLedger.open(path: storePath)
        let threads = captures.map { source in
            let thread = Thread { [committer, readers, metrics, logger] in
                Self.loop(
                    source, ledger: ledger, committer: committer, readers: readers, metrics: metrics, logger: logger,
                    stop: stop)
            }
            thread.name = "probity.capture.\(source.name)"
            thread.start()
            return thread
        }
        try? await gracefulShutdown()
        stop.set()
        // A scan in progress finishes its batch: what it appended is marked before the committer stops.
        while threads.contains(where: { $0.isExecuting }) { try? await Task.sleep(for: .milliseconds(50)) }
    }

    private static func loop(
        _ source: CaptureSource, ledger: CaptureLedger, committer: GroupCommitter, readers: StoreReaders,
        metrics: ServerMetrics, logger: Logger, stop: StopFlag
    ) {
        let watcher: DirectoryWatcher?
        do { watcher = try DirectoryWatcher(source.watched) } catch {
            logger.warning("capture \(source.name): \(error); rescanning every \(source.rescan) instead")
            watcher = nil
        }
        let capture = Capture(
            source: source, ledger: ledger, reader: { try readers.reader() },
            append: { events in
                try committer.submitAndWait(LogWriter.Submission(events: events, by: "capture:\(source.name)"))
            })
        var lastRescan = ContinuousClock.now
        var wake = true
        while !stop.isSet {
            if wake || ContinuousClock.now - lastRescan >= source.rescan {
                lastRescan = ContinuousClock.now
                do {
                    let report = try capture.scan()
                    metrics.captured(source.name, report)
                    if report.recorded + report.alreadyRecorded + report.failed > 0 {
                        logger.info(
                            "capture \(source.name): \(report.recorded) recorded, \(report.alreadyRecorded) already in the log, \(report.failed) failed, \(report.untagged) without a procedure"
                        )
                    }
                    if report.failed > 0 {
                        logger.warning(
                            "capture \(source.name): \(report.failed) item(s) failed; see `probity capture status --failed`"
                        )
                    }
                } catch {
                    metrics.captureFailed(source.name)
                    logger.error("capture \(source.name): the scan failed: \(error); trying again at the next wake")
                }
            }
            // Short waits, so that shutdown is noticed quickly; a wake triggers a scan a little later,
            // when a burst of deliveries has settled.
            wake =
                watcher?.wait(timeout: .milliseconds(250))
                ?? {
                    Thread.sleep(forTimeInterval: 0.25); return false
                }()
        }
    }
}

/// Tells the capture threads to stop after their current scan.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
}

extension GroupCommitter {
    /// Submits and waits on this (non-cooperative) thread: for the capture threads.
    func submitAndWait(_ submission: LogWriter.Submission) throws -> LogWriter.Batch {
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<Result<LogWriter.Batch, any Error>?>(nil)
        submit(submission) { outcome in
            result.withLock { $0 = outcome }
            done.signal()
        }
        done.wait()
        return try result.withLock { $0! }.get()
    }
}
