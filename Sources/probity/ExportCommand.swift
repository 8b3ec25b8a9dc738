import ArgumentParser
import Foundation
import ProbityCore
import ProbityExport
import ProbityStore

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export evidence for legal teams and auditors.",
        subcommands: [ExportTimelineCommand.self]
    )
}

struct ExportTimelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timeline",
        abstract: "Export the timeline of a procedure, a party or a period as JSONL, CSV or HTML.",
        discussion: """
            jsonl: one line per event, the entry bytes verbatim (they hash to the leaf hash given beside them) \
            and the decoded payload where present. csv: for spreadsheets, UTF-8 with a byte-order mark, one row \
            per event (time in the chosen zone, procedure, event, channel, visibility, from, to, text, seq, leaf \
            hash); cells a spreadsheet would read as a formula are neutralised with a leading '. html: one \
            self-contained page (no network fetch) that prints on A4: the chronology by day, public and private \
            exchanges told apart, redacted entries shown as such, the findings, and the signed checkpoint with \
            how to verify it. The file is written whole or not at all.

            A period is the entries the log appended from --from (included) to --to (excluded).

            Example:
              probity export timeline --db var/log.sqlite --procedure 2026-057 --format html --lang fr -o 2026-057.html
              probity export timeline --db var/log.sqlite --from 2026-03-01T00:00:00+01:00 --to 2026-04-01T00:00:00+02:00 --format csv -o mars.csv
            """
    )
    enum Format: String, ExpressibleByArgument, CaseIterable { case jsonl, csv, html }

    @OptionGroup var store: StoreOption
    @Option(help: ArgumentHelp("The procedure to export.", valueName: "REF")) var procedure: String?
    @Option(help: ArgumentHelp("The party to export (an organisation includes its people).", valueName: "ID")) var party: String?
    @Option(help: ArgumentHelp("Start of the period (RFC 3339, included).", valueName: "TIME")) var from: String?
    @Option(help: ArgumentHelp("End of the period (RFC 3339, excluded).", valueName: "TIME")) var to: String?
    @Option(help: ArgumentHelp("jsonl, csv or html.", valueName: "FORMAT")) var format: Format
    @OptionGroup var reading: ReadingOptions
    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("The file to write.", valueName: "FILE")) var output: String

    func validate() throws {
        let scopes = [procedure != nil, party != nil, from != nil || to != nil].filter { $0 }.count
        guard scopes == 1 else { throw ValidationError("give one scope: --procedure REF, --party ID, or --from TIME --to TIME") }
        if from != nil || to != nil, from == nil || to == nil { throw ValidationError("a period needs both --from and --to") }
    }

    func scope() throws -> ExportScope {
        if let procedure { return .procedure(procedure) }
        if let party { return .party(party) }
        guard let start = Timestamp(rfc3339: from!), let end = Timestamp(rfc3339: to!) else {
            throw CLIError.usage("--from and --to must be RFC 3339 times such as 2026-03-01T00:00:00+01:00")
        }
        guard start < end else { throw CLIError.usage("--from must be before --to") }
        return .period(from: start, to: end)
    }

    func run() throws {
        let language = try reading.language()
        let scope = try scope()
        let (reader, state) = try loadDomain(store.db)
        var procedureOfScope: DomainState.Procedure?
        switch scope {
        case .procedure(let ref): procedureOfScope = try requireProcedure(ref, in: state)
        case .party(let id): if state.party(id) == nil { throw CLIError.usage("no party \"\(id)\" is registered in the log") }
        case .period: break
        }
        let time = try reading.localTime(for: procedureOfScope, in: state)
        let events = try reporting {
            try scope.records(in: state).map { record -> ExportedEvent in
                guard let stored = try reader.entry(seq: record.seq) else { throw CLIError.usage("entry \(record.seq) is missing; run `probity verify`") }
                return ExportedEvent(record: record, entryBytes: stored.bytes, leafHash: stored.leafHash,
                                     payload: stored.payload.flatMap { try? JSONParser.parse($0.bytes) }, redactedBy: state.redactions[record.seq])
            }
        }
        let bytes: [UInt8]
        switch format {
        case .jsonl: bytes = TimelineJSONL.render(events)
        case .csv: bytes = TimelineCSV.render(events, time: time, lang: language)
        case .html:
            let seqs = Set(events.map(\.seq))
            let findings = FindingRules.evaluate(state, procedure: procedureOfScope?.ref).filter { $0.seqs.contains(where: seqs.contains) }
            let (checkpoint, verifierKey) = try reporting { (try reader.checkpoint().encoded, try reader.keyChain().first?.verifierKey ?? "") }
            bytes = TimelineHTML.render(TimelineHTML.Document(scope: scope, events: events, findings: findings, checkpoint: checkpoint,
                                                              verifierKey: verifierKey, generatedAt: .now()), time: time, lang: language)
        }
        do { try Data(bytes).write(to: URL(fileURLWithPath: output), options: .atomic) } catch {
            throw CLIError.usage("cannot write \(output): \(error.localizedDescription)")
        }
        Output.info("exported \(events.count) event\(events.count == 1 ? "" : "s") (\(scope.title(language, time: time))) to \(output) as \(format.rawValue)")
    }
}
