import ArgumentParser
import Foundation
import ProbityHTTP
import ProbityLog
import ProbityStore

struct MonitorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract:
            "Follow a remote log through its tiles, and catch forks, rewritten tiles and unwitnessed checkpoints.",
        discussion: """
            Reads URL/checkpoint and the C2SP tlog-tiles under URL (probityd's /tlog prefix, or a copy written by \
            `probity export tiles` on any web server). Each pass checks the checkpoint's signature (--vkey), and \
            with --witness that enough witnesses cosigned it; that the tiles hash to its root; that the tree \
            of the size kept from the last pass is still the one kept (else the log forked or rewrote its past); \
            that every tile completed since hashes to its place; and that every new entry of the bundles hashes \
            to its leaf and is entry <seq> of this log. Only then is the new checkpoint kept in DIR/checkpoint. \
            Without --once, a pass runs every --interval seconds until SIGTERM or SIGINT; an unreachable log is \
            reported and tried again, an integrity failure stops the monitor at once.

            Exit codes: 0 checked, 1 integrity failure (fork, rollback, rewritten tile or entry, missing \
            entry, checkpoint not cosigned), 2 usage error or (with --once) the log unreachable.

            Example:
              probity monitor --url https://achats.ville-exemple.fr/tlog --vkey "$(cat log.vkey)" \\
                --state /var/lib/probity-monitor --witness "$(cat witness.vkey)" --once
            """)

    @Option(help: ArgumentHelp("The log's tiles prefix (http://host:port/tlog).", valueName: "URL")) var url: String
    @Option(help: ArgumentHelp("The log's verifier key, obtained out of band.", valueName: "KEY")) var vkey: String
    @Option(help: ArgumentHelp("Where the monitor keeps the last checkpoint it checked.", valueName: "DIR"))
    var state: String
    @OptionGroup var witnessOptions: WitnessOptions
    @Flag(help: "Run one pass and exit.") var once = false
    @Option(help: ArgumentHelp("Seconds between two passes (without --once).", valueName: "S")) var interval = 60
    @OptionGroup var output: JSONFlag

    func validate() throws {
        guard url.hasPrefix("http://") else { throw ValidationError("--url must be an http:// URL, got \(url)") }
        guard (1...86_400).contains(interval) else { throw ValidationError("--interval must be 1–86400 seconds") }
    }

    func run() throws {
        let verifier: NoteVerifier
        do { verifier = try NoteVerifier(vkey.trimmingCharacters(in: .whitespacesAndNewlines)) } catch {
            throw CLIError.usage("--vkey: \(error)")
        }
        let quorum = try witnessOptions.rule()
        try reporting { try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true) }
        let lock = try reporting {
            try FileLock(path: state + "/monitor.lock") { "the monitor state \(state) is in use by \($0)" }
        }
        defer { withExtendedLifetime(lock) {} }
        let source = TileSource(url: url)
        while true {
            do {
                try pass(source, verifier, quorum)
            } catch let failure as TileFollower.Failure {
                report(failure: "\(failure.kind.rawValue): \(failure.message)")
                throw ExitCode(1)
            } catch let error as CLIError where error.exitCode == 1 {
                report(failure: error.message)
                throw ExitCode(1)
            } catch {
                guard !once else { throw error }
                Output.info("probity monitor: \(error); trying again in \(interval) s")
            }
            if once { return }
            sleep(UInt32(interval))
        }
    }

    private func report(failure message: String) {
        if output.json {
            Output.json(.object(["ok": .bool(false), "error": .string(message)]))
        } else {
            Output.line("ALERT: \(message)")
        }
    }

    /// One pass: the served checkpoint checked, the tree followed from the kept one, the new one kept.
    private func pass(_ source: TileSource, _ verifier: NoteVerifier, _ quorum: WitnessQuorum?) throws {
        guard let text = try source.get("checkpoint") else {
            throw CLIError.usage("\(url)/checkpoint is not served (404): is --url the log's tiles prefix?")
        }
        let served: SignedCheckpoint
        do { served = try SignedCheckpoint(parsing: String(decoding: text, as: UTF8.self)) } catch {
            throw CLIError.integrity("\(url)/checkpoint is not a signed checkpoint: \(error)")
        }
        guard verifier.verifies(served.note) else {
            throw CLIError.integrity("\(url)/checkpoint is not signed by \(verifier)")
        }
        var cosigners: [(witness: CosignatureVerifier, time: UInt64)] = []
        if let quorum {
            cosigners = quorum.cosigners(of: served.note)
            guard cosigners.count >= quorum.quorum else {
                throw CLIError.integrity(
                    "the served checkpoint of size \(served.checkpoint.size) is cosigned by \(cosigners.count) of the witnesses given, fewer than \(quorum.quorum): a checkpoint the witnesses never saw"
                )
            }
        }
        let keptPath = state + "/checkpoint"
        let kept: Checkpoint? =
            try FileManager.default.fileExists(atPath: keptPath)
            ? {
                do {
                    return try SignedCheckpoint(parsing: try readText(keptPath, what: "the kept checkpoint")).checkpoint
                } catch {
                    throw CLIError.usage(
                        "\(keptPath) is not a signed checkpoint (\(error)); restore it or start from an empty --state")
                }
            }() : nil
        let new = served.checkpoint
        if let kept, kept.origin != new.origin {
            throw CLIError.integrity("the log serves the checkpoint of \(new.origin); \(keptPath) is of \(kept.origin)")
        }
        var bar = ProgressBar(label: "checking entries")
        defer { bar.finish() }
        let outcome = try TileFollower { try source.get($0.description) }.follow(from: kept, to: new) { seq, bytes in
            guard let header = try? EntryHeader(bytes: Array(bytes)), header.seq == seq, header.log == new.origin else {
                throw TileFollower.Failure(.malformed, "entry \(seq) is not entry \(seq) of \(new.origin)")
            }
            if seq % 4096 == 0 { bar.update(seq, new.size) }
        }
        bar.finish()
        try writeFile(keptPath, served.encoded, mode: 0o644)
        let range =
            outcome.count == 0 ? "no new entry" : "\(outcome.count) new entries (seqs \(outcome.from)–\(new.size - 1))"
        if output.json {
            Output.json(
                .object([
                    "ok": .bool(true), "size": .number(Double(new.size)),
                    "previous_size": .number(Double(kept?.size ?? 0)), "new_entries": .number(Double(outcome.count)),
                    "root": .string(Base64.encode(new.root)), "cosigners": WitnessOptions.json(cosigners),
                ]))
        } else {
            Output.line(
                "ok: \(new.origin) at size \(new.size): \(range) checked"
                    + (kept.map { ", consistent with size \($0.size) kept" } ?? ", first pass")
                    + (cosigners.isEmpty ? "" : "; cosigned by \(WitnessOptions.describe(cosigners))"))
        }
    }
}

/// GETs below a tiles prefix over one kept-alive connection; nil for 404.
final class TileSource {
    let connection: HTTPConnection
    let prefix: String
    let url: String

    init(url: String) {
        self.url = url
        connection = HTTPConnection((try? Endpoint(url: url)) ?? .tcp(host: "localhost", port: 80), timeout: 30)
        let rest = url.dropFirst("http://".count)
        var path = rest.firstIndex(of: "/").map { String(rest[$0...]) } ?? ""
        while path.hasSuffix("/") { path.removeLast() }
        prefix = path
    }

    func get(_ path: String) throws -> [UInt8]? {
        let response: HTTPResponse
        do { response = try connection.request("GET", prefix + "/" + path) } catch {
            throw CLIError.usage("cannot reach the log at \(url): \(error)")
        }
        switch response.status {
        case 200: return response.body
        case 404: return nil
        default: throw CLIError.usage("\(url)/\(path) answered \(response.status): \(response.text.prefix(200))")
        }
    }
}
