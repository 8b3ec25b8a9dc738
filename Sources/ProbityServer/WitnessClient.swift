import Foundation
import Logging
import ProbityHTTP
public import ProbityLog
import ProbityStore
import Prometheus
import ServiceLifecycle
import Synchronization

/// `[witness]`: the witnesses probityd sends its checkpoints to, and how many must cosign one.
public struct WitnessPolicy: Sendable, Equatable {
    public struct Witness: Sendable, Equatable {
        /// The witness's submission prefix (`POST <url>/add-checkpoint`).
        public let url: String
        public let key: CosignatureVerifier
    }
    public let witnesses: [Witness]
    public let quorum: Int
    /// Longest wait of `?witnessed=1`.
    public let wait: Duration
    /// Least time between two rounds.
    public let interval: Duration

    var rule: WitnessQuorum { WitnessQuorum(witnesses: witnesses.map(\.key), quorum: quorum) }
}

/// The largest checkpoint that met the quorum so far, for the routes that wait for one.
final class WitnessedCheckpoints: Sendable {
    private let largest = Mutex<UInt64>(0)

    func record(_ size: UInt64) { largest.withLock { $0 = max($0, size) } }
    var size: UInt64 { largest.withLock { $0 } }

    /// Waits until a checkpoint of at least `size` entries is witnessed; false after `timeout`.
    func wait(atLeast size: UInt64, for timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while self.size < size {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }
}

/// Sends the latest checkpoint to every witness (C2SP tlog-witness), in rounds: the same checkpoint to
/// all, so that their cosignatures meet on one checkpoint, at most once per `interval`, and only when the
/// log grew. The cosignature lines that verify are added to the stored checkpoint. A witness that is down
/// or refuses is logged, counted in `/metrics` and retried with a growing delay (up to a minute); appends
/// never wait for any of this.
struct WitnessService: Service {
    let policy: WitnessPolicy
    let committer: GroupCommitter
    let readers: StoreReaders
    let witnessed: WitnessedCheckpoints
    let metrics: ServerMetrics
    let logger: Logger

    func run() async throws {
        let peers = policy.witnesses.map { WitnessPeer(witness: $0, metrics: metrics, logger: logger) }
        if let latest = try? await blocking({ [readers] in try readers.log().checkpoint(size: nil) }),
            policy.rule.isMet(by: latest.note)
        {
            witnessed.record(latest.checkpoint.size)
        }
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await round(peers)
                try await Task.sleep(for: policy.interval)
            }
        }
    }

    /// One round: the latest checkpoint to each witness that has not cosigned it and is not waiting out
    /// a failure; then their lines stored together.
    func round(_ peers: [WitnessPeer]) async {
        // Only the writer asks: a standby of a PostgreSQL store could not store the cosignatures.
        guard committer.isWriting else { return }
        let readers = readers
        guard let checkpoint = try? await blocking({ try readers.log().checkpoint(size: nil) }) else { return }
        let size = checkpoint.checkpoint.size
        let due = peers.filter { $0.isDue(for: size) }
        guard !due.isEmpty else { return }
        let started = ContinuousClock.now
        let lines = await withTaskGroup(of: SignedNote.Signature?.self) { group in
            for peer in due {
                group.addTask {
                    await peer.cosign(checkpoint) { old in try readers.log().consistencyProof(from: old, to: size) }
                }
            }
            var lines: [SignedNote.Signature] = []
            for await line in group { if let line { lines.append(line) } }
            return lines
        }
        guard !lines.isEmpty else { return }
        do {
            let stored = try await committer.exclusive { try $0.addCosignatures(lines, size: size) }
            if policy.rule.isMet(by: stored.note) { witnessed.record(size) }
            metrics.witnessRound.record(ContinuousClock.now - started)
        } catch {
            logger.error("the cosignatures of the checkpoint of size \(size) could not be stored: \(error)")
        }
    }
}

/// One witness, as the log sees it: the size it holds, and when to try it again after a failure. Its
/// blocking HTTP requests run on a queue of its own, so that a slow witness holds no shared thread.
final class WitnessPeer: Sendable {
    let witness: WitnessPolicy.Witness
    private let metrics: ServerMetrics
    private let logger: Logger
    private let queue: DispatchQueue

    private struct State {
        /// The size the witness holds, as far as the log knows (0 until it says).
        var known: UInt64 = 0
        var failures = 0
        var retryAt = ContinuousClock.now
    }
    private let state = Mutex(State())

    init(witness: WitnessPolicy.Witness, metrics: ServerMetrics, logger: Logger) {
        self.witness = witness
        self.metrics = metrics
        self.logger = logger
        queue = DispatchQueue(label: "probity.witness.\(witness.key.name)")
    }

    func isDue(for size: UInt64) -> Bool {
        state.withLock { $0.known < size && ContinuousClock.now >= $0.retryAt }
    }

    /// Asks the witness to cosign `checkpoint`; its verified cosignature line, or nil (logged, counted).
    func cosign(
        _ checkpoint: SignedCheckpoint, proof: @escaping @Sendable (UInt64) throws -> [Merkle.Hash]
    ) async -> SignedNote.Signature? {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: self.cosignNow(checkpoint, proof: proof)) }
        }
    }

    private func cosignNow(
        _ checkpoint: SignedCheckpoint, proof: (UInt64) throws -> [Merkle.Hash]
    ) -> SignedNote.Signature? {
        let size = checkpoint.checkpoint.size
        var old = state.withLock { $0.known }
        do {
            let endpoint = try Endpoint(url: witness.url)
            let connection = HTTPConnection(endpoint, timeout: 10)
            defer { connection.close() }
            let target = Self.path(of: witness.url) + "/add-checkpoint"
            // At most twice: a 409 tells the size the witness holds, and the request is made again from it.
            for _ in 0..<2 {
                guard old <= size else {
                    return failed(
                        "conflict",
                        "holds a checkpoint of size \(old), larger than the log's \(size): it saw another history of this log, or the log lost entries"
                    )
                }
                let hashes = old == 0 || old == size ? [] : try proof(old)
                let body = AddCheckpointRequest(oldSize: old, proof: hashes, checkpoint: checkpoint).body
                let response = try connection.request("POST", target, body: body)
                switch response.status {
                case 200:
                    guard let line = verifiedLine(response.text, checkpoint) else {
                        return failed("refused", "answered 200 without a valid cosignature by \(witness.key)")
                    }
                    state.withLock { $0 = State(known: size) }
                    metrics.witness(witness.key.name, outcome: "cosigned", size: size)
                    return line
                case 409:
                    let text = response.text.trimmingCharacters(in: .whitespacesAndNewlines)
                    guard let held = LogNumber.parse(text), held != old else {
                        return failed(
                            "conflict",
                            "refuses the checkpoint of size \(size) (409: \(text)): it holds another root at that size, so the log has shown it another history"
                        )
                    }
                    old = held
                    state.withLock { $0.known = held }
                default:
                    let outcome = response.status == 422 ? "conflict" : "refused"
                    return failed(outcome, "answered \(response.status): \(response.text.prefix(300))")
                }
            }
            return failed("refused", "kept answering 409")
        } catch {
            return failed("unreachable", "\(error)")
        }
    }

    /// The witness's line in a 200 answer, if its cosignature of `checkpoint` verifies.
    private func verifiedLine(_ answer: String, _ checkpoint: SignedCheckpoint) -> SignedNote.Signature? {
        guard let note = try? SignedNote.parse(checkpoint.note.text + "\n" + answer) else { return nil }
        return note.signatures.first { line in
            line.keyID == witness.key.keyID && line.name == witness.key.name
                && witness.key.cosignatureTime(on: SignedNote(text: checkpoint.note.text, signatures: [line])) != nil
        }
    }

    private func failed(_ outcome: String, _ reason: String) -> SignedNote.Signature? {
        let delay = state.withLock { state -> Duration in
            state.failures += 1
            let delay = Duration.seconds(min(60, 1 << min(state.failures - 1, 6)))
            state.retryAt = ContinuousClock.now + delay
            return delay
        }
        metrics.witness(witness.key.name, outcome: outcome, size: nil)
        let message = "witness \(witness.key.name) at \(witness.url) \(reason); trying again in \(delay)"
        if outcome == "conflict" { logger.error("\(message)") } else { logger.warning("\(message)") }
        return nil
    }

    /// `http://host:port/some/prefix` → `/some/prefix` (empty for none).
    static func path(of url: String) -> String {
        let rest = url.dropFirst("http://".count)
        guard let slash = rest.firstIndex(of: "/") else { return "" }
        return String(rest[slash...])
    }
}
