import ArgumentParser
import Foundation
import ProbityCapture
import ProbityDomain
import ProbityLog
import ProbityStore

struct CaptureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Record a Maildir or an export drop folder once, list what capture did, assign exchanges.",
        discussion: """
            probityd captures continuously ([[capture]] sections, docs/CAPTURE.md); these commands do one \
            run on a store no daemon holds, and read or complete what capture left: failed items, and \
            exchanges no tagging rule assigned to a procedure.

            Exit codes: 0 done (failed items are listed, not errors), 1 a run with failed items under \
            --strict, 2 usage or I/O error.

            Example:
              probity capture maildir --db var/log.sqlite --mapping parties.json ~/Mail/marches/INBOX
              probity capture status --db var/log.sqlite --untagged
              probity capture tag --db var/log.sqlite --source '<q1@martin-voirie-sud.fr>' --procedure 2026-057
            """,
        subcommands: [MaildirRun.self, DropRun.self, Status.self, Tag.self])

    struct RunOptions: ParsableArguments {
        @OptionGroup var store: StoreOption
        @Option(help: ArgumentHelp("JSON mapping of accounts to party ids.", valueName: "FILE")) var mapping: String?
        @Option(
            help: ArgumentHelp(
                "Register unmapped accounts as parties of this role instead of leaving their messages failed.",
                valueName: "ROLE"))
        var register: String?
        @Option(help: ArgumentHelp("Assign every exchange to this procedure.", valueName: "REF")) var procedure: String?
        @Option(
            help: ArgumentHelp(
                "The pattern of procedure references in subjects (Swift regex; \"\" to turn it off).",
                valueName: "REGEX"))
        var reference: String?
        @Option(help: ArgumentHelp("The capture's name in the ledger (default: the folder's name).", valueName: "NAME"))
        var name: String?
        @Option(help: ArgumentHelp("Signing key (default: the one recorded by init).", valueName: "PEM")) var key:
            String?
        @Flag(help: "Exit 1 if any item failed.") var strict = false
        @OptionGroup var output: JSONFlag

        func run(_ kind: CaptureSource.Kind, directory: String) throws {
            var source = CaptureSource(
                name: name ?? URL(fileURLWithPath: directory).standardizedFileURL.lastPathComponent, kind: kind,
                directory: directory)
            source.mapping = mapping
            source.register = register
            source.tagging.procedure = procedure
            if let reference { source.tagging.reference = reference.isEmpty ? nil : reference }
            source.settle = .zero  // one run by hand: the files are there
            do { try source.check() } catch { throw CLIError.usage(error.message) }
            let writer = try openWriter(db: store.db, key: key)
            let report = try reporting {
                let ledger = try CaptureLedger.open(path: store.db)
                let capture = Capture(
                    source: source, ledger: ledger, reader: { try LogReader.open(path: store.db) },
                    append: { try writer.append($0, by: "capture:\(source.name)") })
                return try capture.scan()
            }
            let failed = try reporting {
                try CaptureLedger.open(path: store.db, readOnly: true).list(capture: source.name, state: .failed)
            }
            if output.json {
                Output.json(
                    .object([
                        "capture": .string(source.name), "recorded": .number(Double(report.recorded)),
                        "already_recorded": .number(Double(report.alreadyRecorded)),
                        "failed": .array(failed.map(Status.json)), "untagged": .number(Double(report.untagged)),
                        "unchanged": .number(Double(report.unchanged)),
                    ]))
            } else {
                Output.line(
                    "captured \(directory) as \(source.name): \(report.recorded) recorded, \(report.alreadyRecorded) already in the log, \(report.failed) failed, \(report.unchanged) seen before; \(report.untagged) without a procedure"
                )
                for item in failed { Output.line("  failed \(item.item): \(item.detail)") }
                if report.untagged > 0 {
                    Output.line("list them with `probity capture status --db \(store.db) --untagged`")
                }
            }
            if strict && !failed.isEmpty { throw ExitCode(1) }
        }
    }

    struct MaildirRun: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "maildir",
            abstract: "Record the messages of a Maildir not recorded yet (each as exchange.recorded).",
            discussion: """
                Reads new/ and cur/ (never tmp/), records each message once by its Message-ID (or the SHA-256 \
                of its bytes when it has none), with its attachments hashed and the raw message in the payload, \
                and remembers each message's unique name in the store. Nothing in the Maildir is changed. A \
                message that cannot be parsed or whose accounts are not mapped is listed as failed and tried \
                again when the mapping changes.

                Example:
                  probity capture maildir --db var/log.sqlite --mapping parties.json ~/Mail/marches/INBOX
                """)
        @OptionGroup var options: RunOptions
        @Argument(help: ArgumentHelp("The Maildir (the folder with cur/, new/ and tmp/).", valueName: "DIR"))
        var directory: String
        func run() throws { try options.run(.maildir, directory: directory) }
    }

    struct DropRun: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "drop",
            abstract: "Import the exports dropped in a folder that were not imported yet.",
            discussion: """
                Each file (mbox, eml, LinkedIn messages.csv, X direct-messages.js, Mastodon outbox.json, told \
                apart by content) is imported once, known by the SHA-256 of its bytes; its report is kept and \
                shown by `probity capture status`. Hidden files and names ending .part or .tmp are left alone.

                Example:
                  probity capture drop --db var/log.sqlite --mapping parties.json /srv/probity/depot
                """)
        @OptionGroup var options: RunOptions
        @Argument(help: ArgumentHelp("The drop folder.", valueName: "DIR")) var directory: String
        func run() throws { try options.run(.drop, directory: directory) }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "List what capture did: failed items with their reason, reports of dropped files, untagged exchanges.",
            discussion: """
                Reads the store only (works while probityd runs). Without --all, recorded messages are counted, \
                not listed.

                Example:
                  probity capture status --db var/log.sqlite --failed
                  probity capture status --db var/log.sqlite --untagged --json
                """)
        @OptionGroup var store: StoreOption
        @Option(help: ArgumentHelp("Only this capture.", valueName: "NAME")) var capture: String?
        @Flag(help: "Only failed items.") var failed = false
        @Flag(help: "The captured exchanges no procedure was assigned to (by a rule or exchange.tagged).")
        var untagged = false
        @Flag(help: "Every item, recorded ones too.") var all = false
        @OptionGroup var output: JSONFlag

        static func json(_ item: CaptureLedger.Item) -> JSONValue {
            .object([
                "capture": .string(item.capture), "item": .string(item.item), "state": .string(item.state.rawValue),
                "detail": (try? JSONParser.parse(Array(item.detail.utf8))).flatMap {
                    $0.objectValue.map(JSONValue.object)
                }
                    ?? .string(item.detail),
                "seq": item.seq.map { .number(Double($0)) } ?? .null,
                "procedure": item.procedure.map(JSONValue.string) ?? .null,
                "attempts": .number(Double(item.attempts)), "updated": .string(item.updated),
            ])
        }

        func run() throws {
            let ledger = try reporting { try CaptureLedger.open(path: store.db, readOnly: true) }
            var items = try reporting { try ledger.list(capture: capture, state: failed ? .failed : nil) }
            if untagged {
                let state = try reporting { try LogReader.open(path: store.db).domainState() }
                items = items.filter { item in
                    guard item.state == .recorded, let seq = item.seq else { return false }
                    return state.record(seq: seq)?.procedure == nil
                }
            }
            let shown = all || failed || untagged ? items : items.filter { $0.state == .failed || $0.seq == nil }
            if output.json {
                Output.json(.object(["items": .array(shown.map(Self.json))]))
                return
            }
            var counts: [String: [CaptureLedger.State: Int]] = [:]
            for item in items { counts[item.capture, default: [:]][item.state, default: 0] += 1 }
            if !untagged {
                for (name, byState) in counts.sorted(by: { $0.key < $1.key }) {
                    Output.line(
                        "\(name): \(byState[.recorded] ?? 0) recorded, \(byState[.failed] ?? 0) failed")
                }
                if counts.isEmpty { Output.line("nothing captured yet") }
            }
            for item in shown {
                let what = item.seq.map { "entry \($0)" + (item.procedure.map { ", procedure \($0)" } ?? "") }
                Output.line("  \(item.state.rawValue) \(item.capture)/\(item.item): \(what ?? item.detail)")
            }
            if untagged && !shown.isEmpty {
                Output.line("assign one with `probity capture tag --db \(store.db) --seq SEQ --procedure REF`")
            }
        }
    }

    struct Tag: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Assign a recorded exchange to a procedure (appends exchange.tagged; the exchange is unchanged).",
            discussion: """
                Name the exchange by its entry (--seq, as `capture status --untagged` lists it) or by its \
                source (--source, the Message-ID for e-mail). The projections, timelines and findings follow \
                the last tag.

                Example:
                  probity capture tag --db var/log.sqlite --seq 1042 --procedure 2026-057 --by "C. Durand"
                """)
        @OptionGroup var store: StoreOption
        @Option(help: ArgumentHelp("The exchange's entry.", valueName: "SEQ")) var seq: UInt64?
        @Option(help: ArgumentHelp("The exchange's source id (e-mail: its Message-ID).", valueName: "ID"))
        var source: String?
        @Option(help: ArgumentHelp("The platform of --source.", valueName: "PLATFORM")) var platform = "email"
        @Option(help: ArgumentHelp("The procedure it belongs to.", valueName: "REF")) var procedure: String
        @Option(help: ArgumentHelp("Who assigns it, recorded as the rule.", valueName: "TEXT")) var by = "manual"
        @Option(help: ArgumentHelp("Signing key (default: the one recorded by init).", valueName: "PEM")) var key:
            String?
        @OptionGroup var output: JSONFlag

        func validate() throws {
            guard (seq == nil) != (source == nil) else { throw ValidationError("give --seq or --source (one of them)") }
        }

        func run() throws {
            var sourceRef = source.map { (platform: platform, id: $0) }
            if let seq {
                let state = try reporting { try LogReader.open(path: store.db).domainState() }
                guard let record = state.record(seq: seq), record.isExchange, let recorded = record.source else {
                    throw CLIError.usage("entry \(seq) is not an exchange.recorded with a source; nothing to tag")
                }
                sourceRef = (recorded.platform, recorded.id)
            }
            let event = EventInput(
                type: DomainEventType.exchangeTagged,
                data: [
                    "source": .object(["platform": .string(sourceRef!.platform), "id": .string(sourceRef!.id)]),
                    "procedure": .string(procedure), "tagged_at": .string(Timestamp.now().description),
                    "rule": .string(by),
                ])
            let writer = try openWriter(db: store.db, key: key)
            let batch = try reporting { try writer.append([event], by: "capture:tag") }
            let entry = batch.seqs[0]
            if output.json {
                Output.json(.object(["seq": .number(Double(entry)), "procedure": .string(procedure)]))
            } else {
                Output.line("entry \(entry): exchange \(sourceRef!.id) assigned to procedure \(procedure)")
            }
        }
    }
}
