import Foundation
import ProbityDomain
import ProbityLog
import ProbityPostgres
import ProbityStore

/// The log in a PostgreSQL store, opened by this process: appends take the lead (refused while another
/// writer, such as probityd, leads), reads work on the primary or a standby.
struct PostgresLog: LogService {
    let location: PostgresLocation
    /// The signing key for appends; nil for the one `probity init` recorded.
    let key: String?
    let author: String?

    func append(_ input: EventStream, receipts: ReceiptOutput) throws -> AppendSummary {
        try reporting {
            let writer = try openPostgresWriter(location, key: key)
            var summary = AppendSummary(destination: "to \(location)")
            var bar = ProgressBar(label: "appending")
            defer { bar.finish() }
            let spool = try ReceiptSpool()
            var place: ((Int) -> String)?
            do {
                try writer.appendAll(by: author ?? defaultPrincipal()) {
                    guard let next = try input.next() else { return nil }
                    place = next.place
                    if let (done, total) = input.progress { bar.update(done, total) }
                    return next.events
                } written: { batch in
                    summary.appended += batch.entries.count
                    summary.duplicates += batch.receiptCount - batch.entries.count
                    try spool.keep(batch, as: receipts)
                }
            } catch let rejection as EventRejection {
                throw CLIError.usage("\(place?(rejection.index) ?? input.name): \(rejection.error)")
            }
            bar.finish()
            try spool.replay(into: receipts)
            summary.size = try PostgresLogReader(location: location).size()
            return summary
        }
    }

    func checkpoint(size: UInt64?) throws -> SignedCheckpoint {
        try reporting { try PostgresLogReader(location: location).checkpoint(size: size) }
    }

    func inclusionProof(seq: UInt64, size: UInt64?) throws -> Receipt {
        try reporting { try PostgresLogReader(location: location).receipt(seq: seq, size: size) }
    }

    func consistencyProof(old: UInt64, new: UInt64?) throws -> ConsistencyProof {
        throw notYet("consistency proofs")
    }

    func streamHead(_ stream: String) throws -> SignedNote { throw notYet("stream heads") }

    private func notYet(_ what: String) -> CLIError {
        CLIError.usage(
            "\(what) are not read from a PostgreSQL store yet; copy the log to a file (probity migrate --from \(location) --to FILE) and ask the copy, or ask probityd"
        )
    }
}

/// The location in `--store`, or a usage error that says what is wrong with it.
func pgLocation(_ text: String) throws -> PostgresLocation {
    do { return try PostgresLocation(parsing: text) } catch { throw CLIError.usage(error.message) }
}

/// A writer of the PostgreSQL store with `key` (or the key path `probity init` recorded there).
func openPostgresWriter(_ location: PostgresLocation, key: String?) throws -> PostgresLogWriter {
    let holder = "probity (cli) pid \(getpid()) on \(ProcessInfo.processInfo.hostName)"
    guard let keyPath = try key ?? PostgresLogReader(location: location).meta("key_path") else {
        throw CLIError.usage("no signing key recorded for \(location); pass --key PEM")
    }
    let origin = try PostgresLogReader(location: location).origin
    let signer = try NoteSigner(name: origin, privateKey: try loadPrivateKey(keyPath))
    return try PostgresLogWriter.open(location: location, signer: signer, holder: holder)
}
