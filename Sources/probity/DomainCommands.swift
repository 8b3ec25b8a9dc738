import ArgumentParser
import Foundation
import ProbityDomain
import ProbityLog
import ProbityPostgres
import ProbityStore
import ProbityWire

/// `--lang` and `--tz`, for views people read.
struct ReadingOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Language of the text: en or fr.", valueName: "LANG"))
    var lang: String = "en"
    @Option(
        help: ArgumentHelp(
            "Time zone for times shown (IANA name, e.g. Europe/Paris). Default: the buyer's, else UTC.",
            valueName: "ZONE"))
    var tz: String?

    func language() throws -> FindingText.Language {
        guard let language = FindingText.Language(rawValue: lang) else {
            throw CLIError.usage("--lang must be en or fr, got \"\(lang)\"")
        }
        return language
    }

    /// The zone given, or the time zone registered for the procedure's buyer (or the buyer's organisation).
    func localTime(for procedure: DomainState.Procedure?, in state: DomainState) throws -> LocalTime {
        if let tz {
            guard let time = LocalTime(identifier: tz) else {
                throw CLIError.usage("--tz: \"\(tz)\" is not a time zone; use an IANA name such as Europe/Paris")
            }
            return time
        }
        return procedure.map { LocalTime.buyers($0, in: state) } ?? .utc
    }
}

/// The store `db` names (a SQLite file, or a PostgreSQL primary or standby) and its procurement projections:
/// the file's snapshot brought up to date, or, on PostgreSQL, a replay of the entries.
func loadDomain(_ db: String) throws -> (any EvidenceReads, DomainState) {
    try reporting {
        if PostgresLocation.isURL(db) {
            let reader = try PostgresLogReader(location: try pgLocation(db))
            return (reader, try reader.domainState())
        }
        let reader = try LogReader.open(path: db)
        return (reader, try reader.domainState())
    }
}

func requireProcedure(_ ref: String, in state: DomainState) throws -> DomainState.Procedure {
    guard let procedure = state.procedures[ref] else {
        let known = state.procedures.keys.sorted()
        throw CLIError.usage(
            "no procedure \"\(ref)\" in the log"
                + (known.isEmpty ? "" : "; procedures: \(known.joined(separator: ", "))"))
    }
    return procedure
}

struct FindingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "findings",
        abstract: "Flag possible breaches of equal treatment and transparency (rules R1–R6).",
        discussion: """
            Replays the procurement projections and applies the rules of docs/EVENTS.md: R1 private answer not \
            disclosed, R2 late information, R3 contact in the silence period, R4 undisclosed sourcing, R5 channel \
            asymmetry, R6 public post naming a candidate. Each finding gives its rule, legal reference, severity, \
            the seqs that support it (read them with `probity show`) and a plain explanation. Findings are \
            signals to examine, not verdicts.

            Exit codes: 0 the report was made (with or without findings), 2 usage or I/O error.

            Example:
              probity findings --db var/log.sqlite --procedure 2026-057 --lang fr
              probity findings --db var/log.sqlite --json
            """
    )
    @OptionGroup var store: StoreOption
    @Option(help: ArgumentHelp("Only this procedure.", valueName: "REF")) var procedure: String?
    @OptionGroup var reading: ReadingOptions
    @OptionGroup var output: JSONFlag

    func run() throws {
        let (_, state) = try loadDomain(store.db)
        let language = try reading.language()
        let scoped = try procedure.map { try requireProcedure($0, in: state) }
        let findings = FindingRules.evaluate(state, procedure: procedure)
        if output.json {
            Output.json(
                .object([
                    "procedure": procedure.map(JSONValue.string) ?? .null,
                    "entries": .number(Double(state.entries)),
                    "findings": .array(
                        try findings.map { f in
                            FindingText.json(
                                f, language, time: try reading.localTime(for: state.procedures[f.procedure], in: state))
                        }),
                ]))
            return
        }
        let french = language == .fr
        let count = state.procedures.count
        let scope =
            scoped.map { (french ? "la procédure " : "procedure ") + $0.ref }
            ?? (french ? "\(count) procédure\(count == 1 ? "" : "s")" : "\(count) procedure\(count == 1 ? "" : "s")")
        if findings.isEmpty {
            Output.line(
                french
                    ? "Aucun signalement pour \(scope) (\(state.entries) entrées)."
                    : "No findings for \(scope) (\(state.entries) entries).")
            return
        }
        Output.line(
            french
                ? "\(findings.count) signalement(s) pour \(scope) (\(state.entries) entrées) :"
                : "\(findings.count) finding\(findings.count == 1 ? "" : "s") for \(scope) (\(state.entries) entries):")
        for finding in findings {
            let time = try reading.localTime(for: state.procedures[finding.procedure], in: state)
            Output.line("")
            Output.line(
                "[\(finding.rule.rawValue)] \(FindingText.title(finding.rule, language)) — \(finding.procedure)")
            let colon = french ? " : " : ": "  // French typography: a space before the colon
            Output.line(
                "  " + (french ? "gravité" : "severity") + colon + FindingText.severity(finding.severity, language)
                    + "   "
                    + (french ? "références" : "legal basis") + colon + FindingText.legalReference(finding.rule))
            Output.line(
                "  seqs" + colon + finding.seqs.map(String.init).joined(separator: ", ") + "   ("
                    + (french ? "heures" : "times") + colon + time.zone.identifier + ")")
            for line in wrap(FindingText.explanation(finding, language, time: time), width: 96) {
                Output.line("  \(line)")
            }
        }
    }
}

struct TimelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timeline",
        abstract: "Print the chronology of a procedure or a party, day by day.",
        discussion: """
            Times are shown in the buyer's time zone (the time_zone registered for the buyer or its \
            organisation), or --tz. Exchanges show channel, visibility, who wrote to whom, and the start of \
            their text (from the payload; redacted payloads are shown as such). With --json: the header data \
            only, no personal data.

            Example:
              probity timeline --db var/log.sqlite --procedure 2026-057
              probity timeline --db var/log.sqlite --party sup-eclairage-ouest --tz UTC
            """
    )
    @OptionGroup var store: StoreOption
    @Option(help: ArgumentHelp("The procedure to show.", valueName: "REF")) var procedure: String?
    @Option(help: ArgumentHelp("The party to show (an organisation includes its people).", valueName: "ID")) var party:
        String?
    @OptionGroup var reading: ReadingOptions
    @OptionGroup var output: JSONFlag

    func validate() throws {
        guard (procedure == nil) != (party == nil) else {
            throw ValidationError("give one of --procedure REF or --party ID")
        }
    }

    func run() throws {
        let (reader, state) = try loadDomain(store.db)
        let language = try reading.language()
        let scoped = try procedure.map { try requireProcedure($0, in: state) }
        if let party, state.party(party) == nil {
            throw CLIError.usage("no party \"\(party)\" is registered in the log")
        }
        let records = scoped.map(state.records(of:)) ?? state.records(involving: party!)
        let time = try reading.localTime(for: scoped, in: state)
        if output.json {
            // Written as it is made: a procedure may hold a million entries and questions.
            var object: [String: JSONValue] = ["time_zone": .string(time.zone.identifier)]
            var arrays: [String: StreamedJSON.ArrayContent] = [
                "entries": { out in
                    for record in records {
                        out.element(DomainJSON.record(record, redactedBy: state.redactions[record.seq]))
                    }
                }
            ]
            if let scoped {
                object["procedure"] = DomainJSON.procedure(scoped)
                arrays["coverage"] = { $0.coverage(of: scoped, in: state) }
            } else {
                object["party"] = .string(party!)
            }
            let out = StreamedJSON()
            out.object(object, arrays: arrays)
            out.finish()
            return
        }
        let view = TimelineText(state: state, time: time, language: language) { seq in
            try? reader.entry(seq: seq)?.payload.flatMap { try? JSONParser.parse($0.bytes) }
        }
        for line in scoped.map(view.header) ?? view.header(party: party!) { Output.line(line) }
        for line in view.days(records) { Output.line(line) }
    }
}

/// Breaks `text` into lines of at most `width` characters, at spaces.
func wrap(_ text: String, width: Int) -> [String] {
    var lines: [String] = [], current = ""
    for word in text.split(separator: " ") {
        if !current.isEmpty && current.count + 1 + word.count > width { lines.append(current); current = "" }
        current += (current.isEmpty ? "" : " ") + word
    }
    if !current.isEmpty { lines.append(current) }
    return lines
}
