import ArgumentParser
import Foundation
import ProbityLog
import ProbityStore

struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Bring a store of an older format up to this Probity's format, keeping a backup.",
        discussion: """
            Format 1 (Probity 0.4 and before) kept the Merkle tree as one row per node; format 2 keeps it as \
            C2SP tlog-tiles. Takes the writer lock (stop probityd first, or let probityd migrate at start), \
            copies the store to the backup, then migrates in one transaction: the old Merkle nodes, leaf hashes \
            and checkpoints are checked against the entries first, and any disagreement refuses the migration \
            with nothing changed. The migrated store must give the same size, root and checkpoints; it is then \
            verified in full, as `probity verify` would (with --vkey or --pubkey, against that key).

            Exit codes: 0 migrated and intact (or already current), 1 the migrated store does not verify (the \
            backup holds the store as it was), 2 usage or I/O error, or migration refused.

            Example:
              probity migrate --db var/log.sqlite --vkey "$(cat var/log.vkey)"
            """
    )

    @OptionGroup var store: StoreOption
    @Option(
        help: ArgumentHelp(
            "Where to keep the store as it was (default: beside it, named after the old format and the time).",
            valueName: "PATH"))
    var backup: String?
    @OptionGroup var trusted: TrustedKey
    @OptionGroup var output: JSONFlag

    func run() throws {
        let trust = try trusted.trust()
        let backupPath = backup ?? Self.defaultBackup(for: store.db)
        let outcome = try reporting { try StoreMigration.migrate(path: store.db, backup: backupPath) }
        guard let outcome else {
            if output.json {
                Output.json(.object(["migrated": .bool(false), "format": .string(StoreMigration.currentFormat)]))
            } else {
                Output.line("\(store.db) is already of format \(StoreMigration.currentFormat): nothing to do")
            }
            return
        }
        let report = try reporting {
            let reader = try LogReader.open(path: store.db)
            var bar = ProgressBar(label: "verifying the migrated store")
            defer { bar.finish() }
            return try reader.verify(trust: trust) { bar.update($0, $1) }
        }
        if output.json {
            Output.json(
                .object([
                    "migrated": .bool(true), "from_format": .string(outcome.fromFormat),
                    "to_format": .string(outcome.toFormat), "backup": .string(outcome.backup),
                    "size": .number(Double(outcome.after.size)), "root": .string(Base64.encode(outcome.after.root)),
                    "checkpoints": .number(Double(outcome.after.checkpoints)),
                    "seconds": .number((outcome.seconds * 1000).rounded() / 1000),
                    "verify": VerifyCommand.json(report),
                ]))
        } else {
            Output.line(
                "migrated \(store.db) from format \(outcome.fromFormat) to \(outcome.toFormat) in \(String(format: "%.1f", outcome.seconds)) s; the store as it was is kept in \(outcome.backup)"
            )
            Output.line(
                "same log before and after: size \(outcome.after.size), root \(Base64.encode(outcome.after.root)), \(outcome.after.checkpoints) checkpoints (the latest unchanged, byte for byte)"
            )
            VerifyCommand.printReport(report)
        }
        if !report.intact { throw ExitCode(1) }
    }

    /// `var/log.sqlite` → `var/log.format1-20261202T181700Z.sqlite` (format 1 is the only older one).
    static func defaultBackup(for path: String) -> String {
        let now = Timestamp(microsecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1_000_000))
        let stamp = now.description.prefix(19).filter { $0 != "-" && $0 != ":" }
        let url = URL(fileURLWithPath: path)
        let ext = url.pathExtension.isEmpty ? "" : "." + url.pathExtension
        return url.deletingPathExtension().path + ".format1-\(stamp)Z" + ext
    }
}
