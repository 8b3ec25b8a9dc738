import ArgumentParser
import Foundation
import ProbityDomain
import ProbityImport
import ProbityLog
import ProbityStore
import ProbityWire

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a platform export as exchange.recorded events.",
        discussion: """
            Formats: activitystreams (Mastodon outbox.json), linkedin-csv (messages.csv), x-archive \
            (direct-messages.js), eml (one message), mbox, jsonl (Probity events). Accounts are mapped to \
            parties with --mapping (see docs/EVENTS.md); an unmapped account's messages are rejected and \
            the account listed, unless --register registers it as a party. The original record is kept in \
            each event's payload. Re-importing the same file appends nothing: exchanges are recorded once \
            per (platform, source id). The report counts new, already-recorded and rejected records, each \
            rejection with its line or record number and reason.

            Example:
              probity import --db var/log.sqlite --format linkedin-csv --procedure 2026-042 --mapping parties.json messages.csv
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case activitystreams, linkedinCSV = "linkedin-csv", xArchive = "x-archive", eml, mbox, jsonl
    }

    @OptionGroup var store: StoreOption
    @Option(help: ArgumentHelp("activitystreams, linkedin-csv, x-archive, eml, mbox or jsonl.", valueName: "FORMAT"))
    var format: Format
    @Argument(help: ArgumentHelp("The export file.", valueName: "FILE")) var file: String
    @Option(help: ArgumentHelp("The procedure the exchanges belong to.", valueName: "REF")) var procedure: String?
    @Option(help: ArgumentHelp("JSON mapping of accounts to party ids.", valueName: "FILE")) var mapping: String?
    @Flag(help: "Register unmapped accounts as parties (party.registered) instead of rejecting their messages.")
    var register = false
    @Option(help: ArgumentHelp("The role of parties registered by --register.", valueName: "ROLE")) var registerRole =
        "supplier_contact"
    @Option(help: ArgumentHelp("Signing key (default: the one recorded by init).", valueName: "PEM")) var key: String?
    @OptionGroup var output: JSONFlag

    func run() throws {
        let bytes = try readFile(file, what: "the export")
        if format == .jsonl {
            let parsed = try EventFile.parseWithPlaces(bytes, name: file)
            if let rejection = try reporting({ try LogReader.open(path: store.db).checkReferences(parsed.events) }) {
                throw CLIError.usage("\(parsed.places[rejection.index]): \(rejection.error)")
            }
            return try importEvents(parsed.events, read: nil, plan: nil, alreadyRecorded: 0)
        }
        let result: ImportResult
        do {
            switch format {
            case .activitystreams: result = try ActivityStreamsOutbox.read(bytes)
            case .linkedinCSV: result = try LinkedInMessages.read(bytes)
            case .xArchive: result = try XDirectMessages.read(bytes)
            case .eml: result = try Email.readMessage(bytes)
            case .mbox: result = try Email.readMailbox(bytes)
            case .jsonl: fatalError("handled above")
            }
        } catch { throw CLIError.usage("\(file): \(error)") }
        var parties = PartyMapping()
        if let mapping {
            do { parties = try PartyMapping(json: try readFile(mapping, what: "the mapping"), file: mapping) } catch let
                e as ImportFormatError
            { throw CLIError.usage(e.message) }
        }
        // A party registered by an earlier import of the same accounts is not registered again.
        let reader = try reporting { try LogReader.open(path: store.db) }
        var plan = try reporting {
            try ImportMapper.plan(
                result, procedure: procedure, mapping: parties, register: register ? registerRole : nil,
                capturedAt: Timestamp.now().description
            ) { try reader.fact(.party, $0) != nil }
        }
        if let procedure, try reporting({ try reader.fact(.procedure, procedure) }) == nil {
            throw CLIError.usage(
                "procedure \"\(procedure)\" is not in the log; append its procedure.opened before importing into it")
        }
        let recorded = try sortOut(&plan, reader: reader)
        try importEvents(
            plan.events, read: result.messages.count + result.rejections.count, plan: plan, alreadyRecorded: recorded)
    }

    /// Leaves out of the plan the records the log already holds (returning how many) and those whose event
    /// names a party the log does not hold (mapped, but never registered), which are reported as rejected.
    private func sortOut(_ plan: inout ImportPlan, reader: LogReader) throws -> Int {
        let check = try reporting { try reader.check(plan.events) }
        for rejection in check.rejections {
            guard let position = plan.positions[rejection.index] else {
                throw CLIError.usage("cannot register a party: \(rejection.error)")
            }
            plan.rejections.append(ImportRejection(position: position, reason: "\(rejection.error)"))
        }
        let left = Set(check.rejections.map(\.index)).union(check.recorded)
        let kept = plan.events.indices.filter { !left.contains($0) }
        plan.events = kept.map { plan.events[$0] }
        plan.positions = kept.map { plan.positions[$0] }
        return check.recorded.count
    }

    private func importEvents(_ events: [EventInput], read: Int?, plan: ImportPlan?, alreadyRecorded: Int) throws {
        var new = 0, duplicates = alreadyRecorded, registered: [String] = []
        if !events.isEmpty {
            try reporting {
                let writer = try openWriter(db: store.db, key: key, cache: .bulk)
                for start in stride(from: 0, to: events.count, by: LocalLog.batchSize) {
                    let end = min(events.count, start + LocalLog.batchSize)
                    let batch = try writer.append(Array(events[start..<end]), by: "import:\(format.rawValue)")
                    // Only whether each was new counts here: no receipt is proven.
                    for (index, duplicate) in zip(start..<end, batch.duplicates) {
                        // The plan's own registrations have no position in the file.
                        if let plan, plan.positions[index] == nil,
                            case .string(let party)? = events[index].data["party"]
                        {
                            registered.append(party)
                        } else if duplicate {
                            duplicates += 1
                        } else {
                            new += 1
                        }
                    }
                }
            }
        }
        let rejections = plan?.rejections.sorted { $0.position < $1.position } ?? []
        let unmapped = register ? [] : plan?.unmapped ?? []
        if output.json {
            Output.json(
                .object([
                    "file": .string(file), "format": .string(format.rawValue),
                    "read": .number(Double(read ?? events.count)),
                    "new": .number(Double(new)), "duplicate": .number(Double(duplicates)),
                    "rejected": .array(
                        rejections.map {
                            .object(["position": .number(Double($0.position)), "reason": .string($0.reason)])
                        }),
                    "registered": .array(registered.map { .string($0) }),
                    "unmapped": .array(
                        unmapped.map { u in
                            .object([
                                "platform": .string(u.platform), "id": u.account.id.map { .string($0) } ?? .null,
                                "name": u.account.name.map { .string($0) } ?? .null,
                                "first_position": .number(Double(u.firstPosition)),
                                "proposed_party": .string(u.proposedParty),
                            ])
                        }),
                ]))
            return
        }
        let unit = format == .linkedinCSV ? "line" : "record"
        Output.line(
            "imported \(file) (\(format.rawValue)): \(read ?? events.count) read, \(new) new, \(duplicates) already in the log, \(rejections.count) rejected"
        )
        if !registered.isEmpty { Output.line("registered parties: \(registered.joined(separator: ", "))") }
        for rejection in rejections { Output.line("  rejected \(unit) \(rejection.position): \(rejection.reason)") }
        if !unmapped.isEmpty {
            Output.line("unmapped accounts (add them to --mapping, or import with --register):")
            for u in unmapped {
                Output.line(
                    "  \(u.platform) \(ImportMapper.describe(u.account)), first at \(unit) \(u.firstPosition); --register would make it party \(u.proposedParty)"
                )
            }
        }
    }
}
