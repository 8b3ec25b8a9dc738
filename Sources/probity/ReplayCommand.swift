import ArgumentParser
import Foundation
import ProbityDomain
import ProbityLog
import ProbityPostgres
import ProbityStore
import ProbityWire

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Rebuild the projections from the entries alone and report any drift from the stored ones.",
        discussion: """
            Reads every entry in order, checking the prev chain as it goes, and rebuilds the projections from \
            nothing: entries per type, per procedure and per party, and the procurement projections (procedures \
            with their phases, dates and candidates, timelines, disclosure coverage). A full replay saves a \
            snapshot of the procurement projections in the store, which `findings`, `timeline` and probityd start \
            from. With --until, shows the state as it was after that seq or at that time (RFC 3339, the log's \
            time: what the log held then) and saves nothing. A PostgreSQL store (--store postgres://…, the primary \
            or a standby) is replayed in one snapshot; the projections' snapshot is saved on the primary.

            Exit codes: 0 no drift, 1 chain break or drift, 2 usage or I/O error.

            Example:
              probity replay --db var/log.sqlite
              probity replay --db var/log.sqlite --until 2026-03-01T00:00:00+01:00 --json
              probity replay --store postgres://probity@replica.example/probity
            """
    )
    @OptionGroup var store: StoreOption
    @Option(help: ArgumentHelp("Stop after this seq, or at this RFC 3339 time.", valueName: "SEQ|TIME")) var until:
        String?
    @OptionGroup var output: JSONFlag

    func run() throws {
        var limit: ReplayLimit?
        if let until {
            if let seq = LogNumber.parse(until) {
                limit = .seq(seq)
            } else if let time = Timestamp(rfc3339: until) {
                limit = .time(time)
            } else {
                throw CLIError.usage(
                    "--until must be a seq or an RFC 3339 time such as 2026-03-01T00:00:00Z, got \"\(until)\"")
            }
        }
        let report = try reporting {
            var bar = ProgressBar(label: "replaying")
            defer { bar.finish() }
            if PostgresLocation.isURL(store.db) {
                return try PostgresLogReader(location: pgLocation(store.db)).replay(until: limit) { bar.update($0, $1) }
            }
            return try LogReader.open(path: store.db).replay(until: limit) { bar.update($0, $1) }
        }
        let projection = report.projection
        if output.json {
            var object: [String: JSONValue] = [
                "entries": .number(Double(report.entries)),
                "last_seq": report.lastSeq.map { .number(Double($0)) } ?? .null,
                "failure": report.failure.map {
                    .object([
                        "seq": .number(Double($0.seq)), "kind": .string($0.kind.rawValue),
                        "message": .string($0.message),
                    ])
                } ?? .null,
                "drift": report.drift.map { .array($0.map { .string($0) }) } ?? .null,
            ]
            for kind in CountsProjection.Kind.allCases {
                object["by_\(kind.rawValue)"] = .object(
                    (projection.counts[kind] ?? [:]).mapValues { .number(Double($0)) })
            }
            object["parties"] = .number(Double(report.domain.parties.count))
            Self.printJSON(object, procedures: report.domain)
        } else {
            Output.line(
                "replayed \(report.entries) entries" + (report.lastSeq.map { " (up to seq \($0))" } ?? "")
                    + String(format: " in %.2f s", report.seconds))
            for kind in CountsProjection.Kind.allCases {
                let counts = (projection.counts[kind] ?? [:]).sorted { $0.key < $1.key }
                Output.line(
                    "\(kind.rawValue): "
                        + (counts.isEmpty ? "none" : counts.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")))
            }
            printProcedures(report.domain)
            if let failure = report.failure {
                Output.line("FAILED at seq \(failure.seq): \(failure.kind.rawValue): \(failure.message)")
            }
            if let drift = report.drift {
                Output.line(
                    drift.isEmpty
                        ? "stored projections match the replay" : "DRIFT between the stored projections and the replay:"
                )
                for line in drift { Output.line("  \(line)") }
            }
        }
        if limit == nil, report.failure == nil {
            // The snapshot is a cache: a store this user cannot write (or a standby) still replays, without it.
            do {
                if PostgresLocation.isURL(store.db) {
                    try PostgresLogReader(location: pgLocation(store.db)).saveSnapshot(report.domain)
                } else {
                    try SnapshotWriter.save(report.domain, path: store.db)
                }
            } catch {
                Output.info(
                    "note: \(error) (the snapshot is a cache: findings and timelines replay the entries instead)")
            }
        }
        if report.failure != nil || !(report.drift ?? []).isEmpty { throw ExitCode(1) }
    }

    /// Prints `object` with `"procedures"` added, each with its `"coverage"`, written as it is made.
    static func printJSON(_ object: [String: JSONValue], procedures domain: DomainState) {
        let out = StreamedJSON()
        out.object(
            object,
            arrays: [
                "procedures": { out in
                    for procedure in domain.procedures.values.sorted(by: { $0.ref < $1.ref }) {
                        guard case .object(let members) = DomainJSON.procedure(procedure) else { continue }
                        out.object(
                            members, arrays: ["coverage": { $0.coverage(of: procedure, in: domain) }])
                    }
                }
            ])
        out.finish()
    }

    private func printProcedures(_ domain: DomainState) {
        let procedures = domain.procedures.values.sorted { $0.ref < $1.ref }
        Output.line("procedures:" + (procedures.isEmpty ? " none" : ""))
        for p in procedures {
            let counts = QuestionCoverage.statusCounts(p, in: domain)
            let statuses = counts.map { "\($0.value) \($0.key.rawValue)" }.sorted()
            Output.line(
                "  \(p.ref) (\(p.kind.rawValue)): phase \(p.currentPhase?.rawValue ?? "none"), "
                    + "candidates \(p.candidates.isEmpty ? "none" : p.candidates.map(\.party).joined(separator: ", ")), "
                    + "questions \(counts.values.reduce(0, +))"
                    + (statuses.isEmpty ? "" : " (\(statuses.joined(separator: ", ")))")
            )
        }
    }
}
