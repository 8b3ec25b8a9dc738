import ArgumentParser
import Foundation
import ProbityLog
import ProbityPostgres
import ProbityStore

struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract:
            "Bring a store up to this Probity's format (keeping a backup), or copy a log between SQLite and PostgreSQL.",
        discussion: """
            Format 1 (Probity 0.4 and before) kept the Merkle tree as one row per node; format 2 keeps it as \
            C2SP tlog-tiles. Takes the writer lock (stop probityd first, or let probityd migrate at start), \
            copies the store to the backup, then migrates in one transaction: the old Merkle nodes, leaf hashes \
            and checkpoints are checked against the entries first, and any disagreement refuses the migration \
            with nothing changed. The migrated store must give the same size, root and checkpoints; it is then \
            verified in full, as `probity verify` would (with --vkey or --pubkey, against that key).

            With --from and --to, copies a log from a SQLite store to an empty PostgreSQL database \
            (postgres://USER@HOST:PORT/DATABASE), or from PostgreSQL (the primary or a standby) to a new SQLite \
            file: every row of every table, byte for byte, read in one snapshot and written in one transaction \
            (the target holds the whole log or nothing). The copy is then verified in full, and its size, root \
            and latest checkpoint compared with the source's. Stop the source's writer first, or the copy \
            holds the log as it was when the copy began.

            Exit codes: 0 migrated (or copied) and intact (or already current), 1 the result does not verify \
            or differs from the source (the backup, or the source, holds the log as it was), 2 usage or I/O \
            error, or migration refused.

            Examples:
              probity migrate --db var/log.sqlite --vkey "$(cat var/log.vkey)"
              PGPASSFILE=/etc/probity/pgpass probity migrate --from var/log.sqlite --to postgres://probity@db.example:5432/probity --vkey "$(cat var/log.vkey)"
              probity migrate --from postgres://probity@replica.example:5432/probity --to copy.sqlite
            """
    )

    @Option(name: .long, help: ArgumentHelp("The SQLite store to bring up to this format.", valueName: "PATH"))
    var db: String?
    @Option(
        help: ArgumentHelp("Copy the log from this store: a SQLite file or a postgres:// URL.", valueName: "PATH|URL"))
    var from: String?
    @Option(
        help: ArgumentHelp("…to this one: an empty PostgreSQL database, or a new SQLite file.", valueName: "PATH|URL"))
    var to: String?
    @Option(
        help: ArgumentHelp(
            "Where to keep the store as it was (default: beside it, named after the old format and the time).",
            valueName: "PATH"))
    var backup: String?
    @OptionGroup var trusted: TrustedKey
    @OptionGroup var output: JSONFlag

    func validate() throws {
        switch (db, from, to) {
        case (_?, nil, nil): break
        case (nil, let from?, let to?):
            guard PostgresLocation.isURL(from) != PostgresLocation.isURL(to) else {
                throw ValidationError(
                    "--from and --to copy between SQLite and PostgreSQL: give one file and one postgres:// URL")
            }
            if backup != nil { throw ValidationError("--backup is for --db; a copy leaves its source as it is") }
        default:
            throw ValidationError(
                "give --db PATH (bring a store up to this format), or both --from and --to (copy a log)")
        }
    }

    func run() throws {
        if let from, let to { return try copy(from: from, to: to) }
        let db = db!
        let trust = try trusted.trust()
        let backupPath = backup ?? Self.defaultBackup(for: db)
        let outcome = try reporting { try StoreMigration.migrate(path: db, backup: backupPath) }
        guard let outcome else {
            if output.json {
                Output.json(.object(["migrated": .bool(false), "format": .string(StoreMigration.currentFormat)]))
            } else {
                Output.line("\(db) is already of format \(StoreMigration.currentFormat): nothing to do")
            }
            return
        }
        let report = try reporting {
            let reader = try LogReader.open(path: db)
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
                "migrated \(db) from format \(outcome.fromFormat) to \(outcome.toFormat) in \(String(format: "%.1f", outcome.seconds)) s; the store as it was is kept in \(outcome.backup)"
            )
            Output.line(
                "same log before and after: size \(outcome.after.size), root \(Base64.encode(outcome.after.root)), \(outcome.after.checkpoints) checkpoints (the latest unchanged, byte for byte)"
            )
            VerifyCommand.printReport(report)
        }
        if !report.intact { throw ExitCode(1) }
    }

    /// `--from A --to B`: the copy, then the target verified and compared with the source.
    private func copy(from: String, to: String) throws {
        let trust = try trusted.trust()
        let started = Date()
        let toPostgres = PostgresLocation.isURL(to)
        let source = try reporting {
            try toPostgres
                ? LogReader.open(path: from).checkpoint() : PostgresLogReader(location: pgLocation(from)).checkpoint()
        }
        let copied = try reporting {
            var bar = ProgressBar(label: "copying")
            defer { bar.finish() }
            return try toPostgres
                ? PostgresStore.copy(from: LogReader.open(path: from), to: pgLocation(to)) { bar.update($0, $1) }
                : PostgresStore.copy(from: pgLocation(from), toSQLite: to) { bar.update($0, $1) }
        }
        let seconds = Date().timeIntervalSince(started)
        // The target verified as `probity verify` would.
        let report = try reporting {
            var bar = ProgressBar(label: "verifying the copy")
            defer { bar.finish() }
            return try toPostgres
                ? PostgresLogReader(location: pgLocation(to)).verify(trust: trust) { bar.update($0, $1) }
                : LogReader.open(path: to).verify(trust: trust) { bar.update($0, $1) }
        }
        let target = try reporting {
            try toPostgres
                ? PostgresLogReader(location: pgLocation(to)).checkpoint() : LogReader.open(path: to).checkpoint()
        }
        let same = target.encoded == source.encoded
        if output.json {
            Output.json(
                .object([
                    "copied": .bool(true), "from": .string(from), "to": .string(to),
                    "rows": .object(copied.rows.mapValues { .number(Double($0)) }),
                    "size": .number(Double(copied.size)), "same_checkpoint": .bool(same),
                    "seconds": .number((seconds * 1000).rounded() / 1000),
                    "verify": VerifyCommand.json(report),
                ]))
        } else {
            Output.line(
                "copied \(copied.rows.values.reduce(0, +)) rows (\(copied.size) entries) from \(from) to \(to) in \(String(format: "%.1f", seconds)) s"
            )
            Output.line(
                same
                    ? "same log: size \(target.checkpoint.size), root \(Base64.encode(target.checkpoint.root)), the latest checkpoint identical byte for byte"
                    : "FAILED: the copy's latest checkpoint differs from the source's (size \(target.checkpoint.size) vs \(source.checkpoint.size))"
            )
            VerifyCommand.printReport(report)
        }
        if !report.intact || !same { throw ExitCode(1) }
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
