import ArgumentParser
import Foundation
import Logging
import ProbityServer

/// `probityd`: the log daemon. Settings come from `--config FILE` (TOML), then from flags, which win.
@main
struct Probityd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probityd",
        abstract: "The Probity log daemon: a local HTTP API over a Unix socket, with group commit.",
        discussion: """
            Appends are batched into one SQLite transaction and one signed checkpoint (group commit) and \
            acknowledged only once durable. Run it under systemd (systemd/probityd.service) or by hand. \
            On a PostgreSQL store (--store postgres://…, docs/POSTGRES.md) several probityd may run: one \
            writes, the others answer appends with 503 not_leader and take over within a second of its end.

            Exit codes: 0 stopped cleanly (SIGTERM/SIGINT); 1 failed at run time (store locked by another \
            writer, socket taken, I/O error); 2 bad configuration or flags.

            Example:
              probityd --config /etc/probity/probityd.toml
              probityd --store var/log.sqlite --origin achats.ville-exemple.fr/probity --key-file var/log.key.pem --socket var/probityd.sock
              PGPASSFILE=/etc/probity/pgpass probityd --store postgres://probity@db1.example:5432/probity --key-file /etc/probity/log.key.pem
            """
    )

    @Option(help: ArgumentHelp("TOML configuration file (see systemd/probityd.toml).", valueName: "FILE"))
    var config: String?
    @Option(
        help: ArgumentHelp(
            "The SQLite store [store.path], or a PostgreSQL store as postgres://USER@HOST:PORT/DATABASE [store.url].",
            valueName: "PATH|URL"))
    var store: String?
    @Option(help: ArgumentHelp("The log's origin; creates the store if missing [store.origin].", valueName: "NAME"))
    var origin: String?
    @Option(help: ArgumentHelp("Ed25519 PEM signing key, mode 0600 [signing.key_file].", valueName: "PEM"))
    var keyFile: String?
    @Option(help: ArgumentHelp("systemd credential holding the key [signing.key_credential].", valueName: "NAME"))
    var keyCredential: String?
    @Option(
        help: ArgumentHelp(
            "Unix socket to listen on [listen.socket] (default /run/probity/probityd.sock).", valueName: "PATH"))
    var socket: String?
    @Option(
        help: ArgumentHelp(
            "Also listen on TCP HOST:PORT [listen.tcp]; loopback only unless --allow-non-loopback.",
            valueName: "HOST:PORT"))
    var tcp: String?
    @Flag(help: "Allow a TCP listener on a non-loopback address [listen.allow_non_loopback].")
    var allowNonLoopback = false
    @Option(help: ArgumentHelp("Largest request body in bytes [limits.max_body_bytes].", valueName: "N"))
    var maxBodyBytes: Int?
    @Option(help: ArgumentHelp("Most events per request [limits.max_batch_events].", valueName: "N"))
    var maxBatchEvents: Int?
    @Option(help: ArgumentHelp("Open connections per listener; more get 503 [limits.max_connections].", valueName: "N"))
    var maxConnections: Int?
    @Option(
        help: ArgumentHelp(
            "Seconds to send a request's head, and to stay idle [limits.header_timeout_seconds].", valueName: "S"))
    var headerTimeout: Int?
    @Option(help: ArgumentHelp("Seconds to send a request's body [limits.body_timeout_seconds].", valueName: "S"))
    var bodyTimeout: Int?
    @Option(help: ArgumentHelp("Group-commit window in milliseconds [commit.window_ms].", valueName: "MS"))
    var commitWindowMs: Double?
    @Option(help: ArgumentHelp("Most events per group commit [commit.max_events].", valueName: "N"))
    var maxCommitEvents: Int?
    @Option(
        help: ArgumentHelp(
            "Timestamp the log with this RFC 3161 TSA (http://…) on a schedule [timestamp.tsa_url].", valueName: "URL"))
    var tsaUrl: String?
    @Option(
        help: ArgumentHelp(
            "PEM certificates the TSA's certificate must chain to [timestamp.ca_file].", valueName: "FILE"))
    var tsaCa: String?
    @Option(
        help: ArgumentHelp(
            "Minutes between two timestamps, taken when the log grew [timestamp.interval_minutes].", valueName: "N"))
    var timestampInterval: Int?
    @Option(help: ArgumentHelp("Path under which the C2SP tlog-tiles API is served [tiles.prefix].", valueName: "PATH"))
    var tilesPrefix: String?
    @Option(
        help: ArgumentHelp(
            "HOST:PORT of a listener serving only the tiles API, without a token [tiles.listen].",
            valueName: "HOST:PORT"))
    var tilesListen: String?
    @Option(
        name: .customLong("witness"),
        help: ArgumentHelp(
            "A witness to send checkpoints to, as \"URL VKEY\"; repeat for more [witness.witnesses].",
            valueName: "URL VKEY"))
    var witnesses: [String] = []
    @Option(
        help: ArgumentHelp("Witnesses that must cosign a checkpoint (default: all) [witness.quorum].", valueName: "K"))
    var witnessQuorum: Int?
    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error, critical.", valueName: "LEVEL"))
    var logLevel: String = "info"
    @Flag(help: "Print the effective settings as TOML and exit.")
    var printConfig = false

    func settings() throws -> DaemonSettings {
        var settings = DaemonSettings()
        if let config {
            guard let data = FileManager.default.contents(atPath: config) else {
                throw Failure(message: "cannot read the configuration file \(config)", code: 2)
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw Failure(message: "\(config) is not UTF-8 text", code: 2)
            }
            do { try settings.apply(toml: text, file: config) } catch { throw Failure(message: error.message, code: 2) }
        }
        if let store { settings.setStore(store) }
        if let origin { settings.origin = origin }
        if let keyFile { settings.keyFile = keyFile; settings.keyCredential = nil }
        if let keyCredential { settings.keyCredential = keyCredential; if keyFile == nil { settings.keyFile = nil } }
        if let socket { settings.socketPath = socket }
        if let tcp { settings.tcp = tcp }
        if allowNonLoopback { settings.allowNonLoopback = true }
        if let maxBodyBytes { settings.maxBodyBytes = maxBodyBytes }
        if let maxBatchEvents { settings.maxBatchEvents = maxBatchEvents }
        if let maxConnections { settings.maxConnections = maxConnections }
        if let headerTimeout { settings.headerTimeoutSeconds = headerTimeout }
        if let bodyTimeout { settings.bodyTimeoutSeconds = bodyTimeout }
        if let commitWindowMs { settings.commitWindowMilliseconds = commitWindowMs }
        if let maxCommitEvents { settings.maxCommitEvents = maxCommitEvents }
        if let tsaUrl { settings.tsaURL = tsaUrl }
        if let tsaCa { settings.tsaCAFile = tsaCa }
        if let timestampInterval { settings.timestampIntervalMinutes = timestampInterval }
        if let tilesPrefix { settings.tilesPrefix = tilesPrefix }
        if let tilesListen { settings.tilesListen = tilesListen }
        if !witnesses.isEmpty { settings.witnesses = witnesses }
        if let witnessQuorum { settings.witnessQuorum = witnessQuorum }
        do { try settings.validate() } catch { throw Failure(message: error.message, code: 2) }
        return settings
    }

    struct Failure: Error {
        let message: String
        let code: Int32
    }

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            fail(
                "--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), got \(logLevel)",
                code: 2)
        }
        let settings: DaemonSettings
        do { settings = try self.settings() } catch let error as Failure { fail(error.message, code: error.code) }
        if printConfig {
            print(settings.tomlDescription, terminator: "")
            return
        }
        // Files we create (the store, its WAL) are for us alone; the socket is opened to the group
        // explicitly once bound.
        umask(0o077)
        // Bootstrapped here, in main, once: libraries only ever take a Logger.
        LoggingSystem.bootstrap { label in
            var handler = JournalLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "probityd")
        do {
            try await Daemon(settings: settings, logger: logger).run()
        } catch let error as DaemonStartError {
            logger.critical("\(error.message)")
            fail(nil, code: error.isConfiguration ? 2 : 1)
        } catch {
            logger.critical("probityd failed: \(error)")
            fail(nil, code: 1)
        }
    }

    private func fail(_ message: String?, code: Int32) -> Never {
        if let message { FileHandle.standardError.write(Data("probityd: \(message)\n".utf8)) }
        Foundation.exit(code)
    }
}
