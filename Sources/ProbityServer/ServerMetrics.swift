import ProbityCapture
public import ProbityStore
public import Prometheus

/// The daemon's Prometheus metrics, served at `GET /metrics`. The registry is owned here and passed
/// around, rather than bootstrapped into the global MetricsSystem, so tests can run several servers.
public final class ServerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let appended: Counter
    let duplicates: Counter
    let batchEvents: ValueHistogram
    let commitLatency: DurationHistogram
    let commitFailures: Counter
    let treeSize: Gauge
    let witnessRound: DurationHistogram

    private static func name(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "probity", metricName: name, unitName: unit, helpText: help)
    }

    public init() {
        appended = registry.makeCounter(
            descriptor: Self.name("appended_events", "total", "Events appended to the log (duplicates excluded)."))
        duplicates = registry.makeCounter(
            descriptor: Self.name(
                "duplicate_events", "total", "Events received again (same platform and source id): nothing appended."))
        batchEvents = registry.makeValueHistogram(
            descriptor: Self.name(
                "commit_batch", "events", "Events per group commit (one SQLite transaction, one signed checkpoint)."),
            buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384])
        commitLatency = registry.makeDurationHistogram(
            descriptor: Self.name(
                "commit_duration", "seconds",
                "Time from the first queued event of a group commit to its durable commit."),
            buckets: [
                .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                .milliseconds(20),
                .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
            ])
        commitFailures = registry.makeCounter(
            descriptor: Self.name(
                "commit_failures", "total", "Group commits that failed (nothing of them was appended)."))
        witnessRound = registry.makeDurationHistogram(
            descriptor: Self.name(
                "witness_round_duration", "seconds",
                "Time from sending a checkpoint to the witnesses to storing their cosignatures (rounds with one or more)."
            ),
            buckets: [
                .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(20),
                .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
                .seconds(15),
            ])
        treeSize = registry.makeGauge(
            descriptor: Self.name("tree_size", "entries", "Entries in the log (size of the latest signed checkpoint)."))
    }

    /// Counts a request to a witness by outcome (cosigned, refused, conflict, unreachable); on a
    /// cosignature, sets the size that witness last cosigned.
    func witness(_ name: String, outcome: String, size: UInt64?) {
        registry.makeCounter(
            descriptor: Self.name(
                "witness_requests", "total", "Checkpoints sent to witnesses, by witness and outcome."),
            labels: [("witness", name), ("outcome", outcome)]
        ).increment()
        if let size {
            registry.makeGauge(
                descriptor: Self.name(
                    "witness_cosigned_size", "entries", "Size of the last checkpoint each witness cosigned."),
                labels: [("witness", name)]
            ).set(Double(size))
        }
    }

    /// Counts what a capture scan did with the items it read, by outcome.
    func captured(_ capture: String, _ report: CaptureReport) {
        for (outcome, count) in [
            ("recorded", report.recorded), ("already_recorded", report.alreadyRecorded), ("failed", report.failed),
        ] where count > 0 {
            registry.makeCounter(
                descriptor: Self.name(
                    "capture_items", "total", "Messages and dropped files a capture handled, by capture and outcome."),
                labels: [("capture", capture), ("outcome", outcome)]
            ).increment(by: Int64(count))
        }
        if report.untagged > 0 {
            registry.makeCounter(
                descriptor: Self.name(
                    "capture_untagged", "total", "Captured exchanges no tagging rule assigned to a procedure."),
                labels: [("capture", capture)]
            ).increment(by: Int64(report.untagged))
        }
    }

    /// Counts a capture scan that failed as a whole (the store, the folder or the mapping).
    func captureFailed(_ capture: String) {
        registry.makeCounter(
            descriptor: Self.name("capture_scan_failures", "total", "Capture scans that failed as a whole."),
            labels: [("capture", capture)]
        ).increment()
    }

    /// Counts a rejected request; `reason` is the error code sent to the client.
    func rejected(_ reason: String) {
        registry.makeCounter(
            descriptor: Self.name("rejected_requests", "total", "Requests answered with an error, by error code."),
            labels: [("reason", reason)]
        ).increment()
    }
}

extension ServerMetrics: CommitObserver {
    public func committed(appended: Int, duplicates: Int, latency: Duration) {
        self.appended.increment(by: Int64(appended))
        self.duplicates.increment(by: Int64(duplicates))
        if appended + duplicates > 0 { batchEvents.record(Double(appended + duplicates)) }
        commitLatency.record(latency)
    }

    public func commitFailed() { commitFailures.increment() }

    public func treeSizeChanged(_ size: UInt64) { treeSize.set(Double(size)) }
}
