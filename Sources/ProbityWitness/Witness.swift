import Foundation
public import ProbityLog
import Synchronization

/// A C2SP tlog-witness: checks each `add-checkpoint` request against the log's keys and the checkpoint it
/// holds, and cosigns what passes, after persisting it. Requests are handled one at a time: checking the
/// old size and recording the new checkpoint must be one step, or two racing requests could roll the
/// witness back (the spec's example).
public final class Witness: Sendable {
    public let signer: CosignatureSigner
    /// Log origin → the keys whose signature on its checkpoints the witness accepts.
    public let trusted: [String: [NoteVerifier]]
    private let state: Mutex<WitnessState>
    /// The cosignatures' clock (POSIX seconds); the system's unless a test fixes it.
    private let now: @Sendable () -> UInt64

    public init(
        signer: CosignatureSigner, trusted: [String: [NoteVerifier]], state: WitnessState,
        now: (@Sendable () -> UInt64)? = nil
    ) {
        self.signer = signer
        self.trusted = trusted
        self.state = Mutex(state)
        self.now = now ?? { UInt64(max(0, time(nil))) }
    }

    public struct Answer: Sendable, Equatable {
        public let status: Int
        public let contentType: String
        public let body: [UInt8]
        /// For the operator's log: what was decided and why.
        public let summary: String
    }

    /// Answers one `POST /add-checkpoint` body.
    public func addCheckpoint(_ body: [UInt8]) -> Answer {
        let request: AddCheckpointRequest
        do { request = try AddCheckpointRequest(parsing: body) } catch {
            return Self.text(400, "bad request: \(error.message)")
        }
        let checkpoint = request.checkpoint.checkpoint
        return state.withLock { state in
            let held = state.latest(checkpoint.origin)
            switch WitnessVerdict.check(request, trusted: trusted, latest: held?.checkpoint) {
            case .refuse(let status, let reason, let knownSize):
                if let knownSize {
                    return Answer(
                        status: status, contentType: "text/x.tlog.size", body: Array("\(knownSize)\n".utf8),
                        summary: "\(checkpoint.origin) at \(checkpoint.size): \(status), \(reason)")
                }
                return Self.text(status, "\(checkpoint.origin) at \(checkpoint.size): \(reason)")
            case .cosign:
                do {
                    if held?.checkpoint != checkpoint { try state.record(request.checkpoint) }
                    let line = try signer.cosign(request.checkpoint, time: now())
                    let note = SignedNote(text: request.checkpoint.note.text, signatures: [line])
                    // The note's encoding minus its text and blank line: the signature line alone.
                    let encoded = note.encoded.utf8.dropFirst(note.text.utf8.count + 1)
                    return Answer(
                        status: 200, contentType: "text/plain; charset=utf-8", body: Array(encoded),
                        summary:
                            "\(checkpoint.origin) at \(checkpoint.size): cosigned (held \(held?.checkpoint.size ?? 0))")
                } catch {
                    return Self.text(500, "cannot record or cosign the checkpoint: \(error)")
                }
            }
        }
    }

    private static func text(_ status: Int, _ message: String) -> Answer {
        Answer(
            status: status, contentType: "text/plain; charset=utf-8", body: Array((message + "\n").utf8),
            summary: message)
    }
}
