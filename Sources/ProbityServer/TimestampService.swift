import Foundation
import Logging
import ProbityDomain
import ProbityLog
import ProbityStore
import ProbityTSA
import ServiceLifecycle

/// RFC 3161 timestamps on a schedule (`[timestamp]`): at start and then every interval, if the log grew
/// since its last timestamp, the latest checkpoint is sent to the TSA and `checkpoint.timestamped` is
/// appended between two group commits. A TSA that is down or answers badly is logged and tried again at
/// the next interval; appends never wait for it.
struct TimestampService: Service {
    let authority: TimestampAuthority
    let interval: Duration
    let committer: GroupCommitter
    let readers: StoreReaders
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await stampIfGrown()
                try await Task.sleep(for: interval)
            }
        }
    }

    func stampIfGrown() async {
        // Only the writer stamps: a standby of a PostgreSQL store could not append the token.
        guard committer.isWriting else { return }
        let (authority, readers) = (authority, readers)
        do {
            let token: (SignedCheckpoint, TrustedTimestamp.Token)? = try await blocking {
                let reader = try readers.projections()
                let checkpoint = try reader.checkpoint(size: nil)
                let size = checkpoint.checkpoint.size
                // The entry before the checkpoint is its own timestamp when nothing was appended since.
                guard let last = try reader.timestampEntries(below: size).last,
                    last.seq == size - 1 || last.treeSize == size
                else {
                    return (checkpoint, try authority.stamp(checkpoint.logSigned))
                }
                return nil
            }
            guard let (checkpoint, stamp) = token else { return }
            let batch = try await committer.exclusive {
                try $0.appendTimestamp(of: checkpoint, token: stamp, by: "probityd")
            }
            logger.notice(
                "the TSA \(stamp.signer) dated the checkpoint of size \(checkpoint.checkpoint.size) at \(stamp.genTime); checkpoint.timestamped is seq \(batch.receipts[0].seq)"
            )
        } catch {
            logger.error("timestamp not taken: \(error); trying again in \(interval)")
        }
    }
}
