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
        try reporting {
            let reader = try PostgresLogReader(location: location)
            let newSize = try new ?? reader.checkpoint().checkpoint.size
            let (oldRoot, newRoot, hashes) = try reader.consistency(from: old, to: newSize)
            return ConsistencyProof(oldSize: old, newSize: newSize, oldRoot: oldRoot, newRoot: newRoot, hashes: hashes)
        }
    }

    func streamHead(_ stream: String) throws -> SignedNote {
        try reporting {
            let reader = try PostgresLogReader(location: location)
            return try reader.streamHead(stream, signer: try postgresSigner(reader, key: key))
        }
    }
}

/// The location in `--store`, or a usage error that says what is wrong with it.
func pgLocation(_ text: String) throws -> PostgresLocation {
    do { return try PostgresLocation(parsing: text) } catch { throw CLIError.usage(error.message) }
}

/// The log's signing key: `key`, or the key path `probity init` recorded in the store.
func postgresSigner(_ reader: PostgresLogReader, key: String?) throws -> NoteSigner {
    guard let keyPath = try key ?? reader.meta("key_path"), !keyPath.isEmpty else {
        throw CLIError.usage("no signing key recorded for \(reader.location); pass --key PEM")
    }
    return try NoteSigner(name: reader.origin, privateKey: try loadPrivateKey(keyPath))
}

/// A writer of the PostgreSQL store with `key` (or the key path `probity init` recorded there).
func openPostgresWriter(_ location: PostgresLocation, key: String?) throws -> PostgresLogWriter {
    let holder = "probity (cli) pid \(getpid()) on \(ProcessInfo.processInfo.hostName)"
    let signer = try postgresSigner(PostgresLogReader(location: location), key: key)
    return try PostgresLogWriter.open(location: location, signer: signer, holder: holder)
}
