import ArgumentParser
import Foundation
import ProbityDomain
import ProbityEvidence
import ProbityLog
import ProbityStore
import ProbityWire

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export evidence for legal teams and auditors.",
        subcommands: [ExportTimelineCommand.self, ExportBundleCommand.self, ExportTilesCommand.self]
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
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case jsonl, csv, html
        var timelineFormat: EvidenceSource.TimelineFormat { EvidenceSource.TimelineFormat(rawValue: rawValue)! }
    }

    @OptionGroup var store: StoreOption
    @Option(help: ArgumentHelp("The procedure to export.", valueName: "REF")) var procedure: String?
    @Option(help: ArgumentHelp("The party to export (an organisation includes its people).", valueName: "ID"))
    var party: String?
    @Option(help: ArgumentHelp("Start of the period (RFC 3339, included).", valueName: "TIME")) var from: String?
    @Option(help: ArgumentHelp("End of the period (RFC 3339, excluded).", valueName: "TIME")) var to: String?
    @Option(help: ArgumentHelp("jsonl, csv or html.", valueName: "FORMAT")) var format: Format
    @OptionGroup var reading: ReadingOptions
    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("The file to write.", valueName: "FILE")) var output:
        String

    func validate() throws { try validateExportScope(procedure: procedure, party: party, from: from, to: to) }

    func run() throws {
        let language = try reading.language()
        let scope = try exportScope(procedure: procedure, party: party, from: from, to: to)
        let (reader, state) = try loadDomain(store.db)
        let source = EvidenceSource(reader: reader, state: state)
        let procedureOfScope = try reporting { try source.check(scope) }
        let time = try reading.localTime(for: procedureOfScope, in: state)
        let events = try reporting { try source.events(scope) }
        let bytes = try reporting {
            try source.timeline(
                scope, format: format.timelineFormat, time: time, lang: language, generatedAt: .now(), events: events)
        }
        try writeAtomically(output) { try $0.write(contentsOf: bytes) }
        Output.info(
            "exported \(events.count) event\(events.count == 1 ? "" : "s") (\(scope.title(language, time: time))) to \(output) as \(format.rawValue)"
        )
    }
}

struct ExportBundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract:
            "Export an evidence bundle (ZIP) that proves itself offline: entries, payloads, proofs, keys, timeline.",
        discussion: """
            The bundle holds the entries in scope verbatim, their payloads and salts where not redacted, one \
            .tlog-proof per entry against the latest signed checkpoint, the first checkpoint that held them all and \
            the consistency proof from it, the log's verifier keys and PEM public key, the timeline in CSV and HTML, \
            a manifest with the SHA-256 of every file (signed with the log key), a README in English and French for \
            a court expert, and 10_verify_bundle.py, which checks it all with Python and openssl alone.

            Completeness: a procedure or party bundle carries the whole chain of the procedure's or party's stream \
            (for an organisation, also its people's) and a signed stream-head note at the checkpoint's size; a \
            period bundle carries the contiguous range of entries appended in it and the entries just outside. \
            Needs the signing key (default: the one recorded by init), for the stream heads and the manifest.

            Check a bundle with `probity verify-bundle FILE.zip --vkey KEY`. The file is written whole or not at all.

            Example:
              probity export bundle --db var/log.sqlite --procedure 2026-057 --lang fr -o 2026-057.zip
            """
    )
    @OptionGroup var store: StoreOption
    @Option(help: ArgumentHelp("The procedure to export.", valueName: "REF")) var procedure: String?
    @Option(help: ArgumentHelp("The party to export (an organisation includes its people).", valueName: "ID"))
    var party: String?
    @Option(help: ArgumentHelp("Start of the period (RFC 3339, included).", valueName: "TIME")) var from: String?
    @Option(help: ArgumentHelp("End of the period (RFC 3339, excluded).", valueName: "TIME")) var to: String?
    @OptionGroup var reading: ReadingOptions
    @Option(help: ArgumentHelp("Signing key (default: the one recorded by init).", valueName: "PEM")) var key: String?
    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("The .zip file to write.", valueName: "FILE"))
    var output: String
    @OptionGroup var json: JSONFlag

    func validate() throws { try validateExportScope(procedure: procedure, party: party, from: from, to: to) }

    func run() throws {
        let language = try reading.language()
        let scope = try exportScope(procedure: procedure, party: party, from: from, to: to)
        let signer = try loadSigner(db: store.db, key: key)
        let (reader, state) = try loadDomain(store.db)
        let source = EvidenceSource(reader: reader, state: state)
        let procedureOfScope = try reporting { try source.check(scope) }
        let time = try reading.localTime(for: procedureOfScope, in: state)
        let bundle = try reporting {
            try source.bundle(scope, time: time, lang: language, signer: signer, generatedAt: .now())
        }
        try writeAtomically(output) { handle in
            try bundle.write(signManifest: { try signer.sign(text: $0) }, to: { try handle.write(contentsOf: $0) })
        }
        let inScope = bundle.exhibits.filter { $0.role == .scope }.count
        if json.json {
            Output.json(
                .object([
                    "file": .string(output), "entries": .number(Double(inScope)),
                    "exhibits": .number(Double(bundle.exhibits.count)),
                    "tree_size": .number(Double(bundle.checkpoint.checkpoint.size)),
                    "streams": .array(bundle.streamHeads.map { .string($0.stream) }),
                ]))
        } else {
            Output.info(
                "exported an evidence bundle of \(inScope) entr\(inScope == 1 ? "y" : "ies") (\(scope.title(language, time: time))), proven at tree size \(bundle.checkpoint.checkpoint.size), to \(output)"
            )
        }
    }
}

func validateExportScope(procedure: String?, party: String?, from: String?, to: String?) throws {
    let scopes = [procedure != nil, party != nil, from != nil || to != nil].filter { $0 }.count
    guard scopes == 1 else {
        throw ValidationError("give one scope: --procedure REF, --party ID, or --from TIME --to TIME")
    }
    if from != nil || to != nil, from == nil || to == nil {
        throw ValidationError("a period needs both --from and --to")
    }
}

func exportScope(procedure: String?, party: String?, from: String?, to: String?) throws -> ExportScope {
    if let procedure { return .procedure(procedure) }
    if let party { return .party(party) }
    guard let start = Timestamp(rfc3339: from!), let end = Timestamp(rfc3339: to!) else {
        throw CLIError.usage("--from and --to must be RFC 3339 times such as 2026-03-01T00:00:00+01:00")
    }
    guard start < end else { throw CLIError.usage("--from must be before --to") }
    return .period(from: start, to: end)
}
