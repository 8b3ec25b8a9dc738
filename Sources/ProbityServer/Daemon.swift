public import Foundation
import Hummingbird
public import Logging
import ProbityDomain
import ProbityLog
import ProbityPostgres
import ProbityStore
import ProbityTSA
import ServiceLifecycle
import UnixSignals

/// A startup failure, with the message the operator needs; `isConfiguration` separates a bad setting
/// (exit 2: restarting cannot help) from the rest (exit 1).
public struct DaemonStartError: Error, CustomStringConvertible {
    public let message: String
    public let isConfiguration: Bool
    public var description: String { message }
}

/// `probityd`: opens the store as its single writer, listens on the Unix socket (and TCP if asked),
/// and runs until SIGTERM or SIGINT, then stops accepting, finishes in-flight commits and returns.
public struct Daemon {
    public let settings: DaemonSettings
    public let logger: Logger
    let environment: [String: String]
    public static let software = "probityd \(ProbityVersion.current)"

    public init(
        settings: DaemonSettings, logger: Logger, environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.settings = settings
        self.logger = logger
        self.environment = environment
    }

    /// The path of the signing key: a systemd credential, a file, or the one `probity init` recorded.
    func keyPath(recorded: String?) throws(DaemonStartError) -> String {
        if let name = settings.keyCredential {
            guard let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty else {
                throw DaemonStartError(
                    message:
                        "signing.key_credential is \(name), but $CREDENTIALS_DIRECTORY is not set: run under systemd with LoadCredential=\(name):PATH, or use signing.key_file",
                    isConfiguration: true)
            }
            return directory + "/" + name
        }
        if let file = settings.keyFile { return file }
        if let recorded { return recorded }
        throw DaemonStartError(
            message: "no signing key: set signing.key_file or signing.key_credential (--key-file, --key-credential)",
            isConfiguration: true)
    }

    /// The store as the daemon holds it: its writer (nil while it cannot write: a read-only or full disk,
    /// or, on PostgreSQL, another probityd leading), how to open a writer again, the read connections, the
    /// signing key, and the SQLite store's lock (held for the daemon's lifetime).
    struct OpenedStore {
        /// Handed to the group committer, which alone may hold it: a writer kept here would keep its
        /// connection (and, on PostgreSQL, the lead) after the committer dropped it.
        var writer: (any LogAppender)?
        let open: @Sendable () throws -> any LogAppender
        let failure: (any Error)?
        let signer: NoteSigner
        let readers: StoreReaders
        let lock: FileLock?
        /// How soon a failed open is tried again by an append (a standby must not connect per request).
        let reopenInterval: Duration
    }

    /// Opens the store named by the settings: the SQLite file, or the PostgreSQL database.
    func openStore() throws -> OpenedStore {
        let location: PostgresLocation?
        do { location = try settings.postgresLocation() } catch {
            throw DaemonStartError(message: error.message, isConfiguration: true)
        }
        if let location { return try openPostgresStore(location) }
        return try openSQLiteStore()
    }

    /// The store's writer lock and a writer, creating the store when `store.origin` is set and there is
    /// none. The writer is nil when the store exists but cannot be written now (read-only, full disk):
    /// the daemon then serves reads, answers appends with 503, and retries at each append.
    func openSQLiteStore() throws -> OpenedStore {
        let path = settings.storePath
        let readers = StoreReaders(path: path)
        if !FileManager.default.fileExists(atPath: path) {
            guard let origin = settings.origin else {
                throw DaemonStartError(
                    message:
                        "no store at \(path): create it with `probity init --db \(path) --origin NAME`, or set store.origin to let probityd create it",
                    isConfiguration: true)
            }
            let key = try creationKey(origin: origin)
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            logger.notice("creating the store \(path) for \(origin)")
            // Closed at once, and re-opened below under a lock the daemon keeps for its lifetime.
            _ = try LogWriter.create(
                path: path, origin: origin, signer: key.signer, keyPath: key.recorded, by: "probityd",
                software: Self.software)
        }
        try migrateIfOlder(path)
        // A short-lived reader: no read connection may be open while the writer opens (see StoreReaders).
        let (origin, recordedKey) = try { () throws -> (String, String?) in
            let reader = try LogReader.open(path: path)
            return (reader.origin, try reader.meta("key_path"))
        }()
        let signer = try checkedSigner(origin: origin, recordedKey: recordedKey, store: path)
        let lock = try LogWriter.lockStore(path: path)
        let open: @Sendable () throws -> any LogAppender = { [readers] in
            try readers.closed { try LogWriter.open(path: path, signer: signer, lock: lock) }
        }
        let opened = { (writer: (any LogAppender)?, failure: (any Error)?) in
            OpenedStore(
                writer: writer, open: open, failure: failure, signer: signer, readers: readers, lock: lock,
                reopenInterval: .zero)
        }
        do {
            return opened(try open(), nil)
        } catch let error as StoreError where [.readOnly, .diskFull, .io, .durability].contains(error.code) {
            logger.error(
                "the store cannot be written now: \(error.message); serving reads, appends get 503 until it can")
            return opened(nil, error)
        }
    }

    /// The key a store this daemon creates is signed with, and where the store records it to be (the
    /// systemd credential's name, or the key file's path).
    private func creationKey(origin: String) throws -> (signer: NoteSigner, recorded: String) {
        let key = try keyPath(recorded: nil)
        return (
            try NoteSigner(name: origin, privateKey: SigningKeyFile.load(key)),
            settings.keyCredential.map { "systemd credential \($0)" } ?? key
        )
    }

    /// The key to sign with, checked against the store's origin.
    private func checkedSigner(origin: String, recordedKey: String?, store: String) throws -> NoteSigner {
        if let expected = settings.origin, expected != origin {
            throw DaemonStartError(
                message: "store.origin is \(expected), but the store \(store) is the log of \(origin)",
                isConfiguration: true)
        }
        return try NoteSigner(name: origin, privateKey: SigningKeyFile.load(try keyPath(recorded: recordedKey)))
    }

    /// A PostgreSQL store: created when empty and `store.origin` is set; then led by this daemon if no other
    /// leads it, else served as a standby (reads answered, appends 503 `not_leader`) until the lead is free.
    func openPostgresStore(_ location: PostgresLocation) throws -> OpenedStore {
        let holder = "probityd pid \(getpid()) on \(ProcessInfo.processInfo.hostName)"
        let pool = PostgresReadPool(location: location)
        let meta: (origin: String, keyPath: String?)
        do {
            meta = try pool.withReader { ($0.origin, try $0.meta("key_path")) }
        } catch let error as PostgresStoreError where error.code == .notAProbityStore {
            guard let origin = settings.origin else {
                throw DaemonStartError(
                    message:
                        "\(error.message); or set store.origin to let probityd create it in the empty database",
                    isConfiguration: true)
            }
            let key = try creationKey(origin: origin)
            logger.notice("creating the store \(location) for \(origin)")
            _ = try PostgresLogWriter.create(
                location: location, origin: origin, signer: key.signer, keyPath: key.recorded, by: "probityd",
                software: Self.software, holder: holder)
            meta = (origin, key.recorded)
        } catch let error as PostgresStoreError {
            // Credentials, an unreachable server, a bad URL: said at start (systemd restarts a daemon that
            // exits 1, which helps only for a server that is not up yet).
            throw DaemonStartError(message: error.message, isConfiguration: error.code == .credentials)
        }
        let signer = try checkedSigner(origin: meta.origin, recordedKey: meta.keyPath, store: "\(location)")
        let open: @Sendable () throws -> any LogAppender = {
            try PostgresLogWriter.open(location: location, signer: signer, holder: holder)
        }
        let readers = StoreReaders(postgres: pool)
        let opened = { (writer: (any LogAppender)?, failure: (any Error)?) in
            OpenedStore(
                writer: writer, open: open, failure: failure, signer: signer, readers: readers, lock: nil,
                reopenInterval: LeadershipService.interval)
        }
        do {
            let writer = try open()
            logger.notice("leading \(location) as its writer")
            return opened(writer, nil)
        } catch let error as PostgresStoreError where error.code == .notLeader {
            logger.notice("standby: \(error.message); serving reads, taking the lead once it is free")
            return opened(nil, error)
        } catch let error as PostgresStoreError where error.code != .credentials {
            logger.error("\(location) cannot be written now: \(error.message); appends get 503 until it can")
            return opened(nil, error)
        }
    }

    /// A store of an older format is migrated before anything else opens it: backed up beside itself, migrated
    /// in one transaction (same size, root and checkpoints, or refused), then verified in full.
    private func migrateIfOlder(_ path: String) throws {
        guard let format = try StoreMigration.format(path: path), format != StoreMigration.currentFormat else { return }
        let backup = path + ".format\(format)-\(Int(Date().timeIntervalSince1970)).bak"
        logger.notice(
            "the store \(path) is of format \(format): migrating it to format \(StoreMigration.currentFormat), backup in \(backup)"
        )
        guard let outcome = try StoreMigration.migrate(path: path, backup: backup) else { return }
        let report = try LogReader.open(path: path).verify(trust: .firstUse)
        guard report.intact else {
            throw DaemonStartError(
                message:
                    "the migrated store \(path) does not verify (\(report.failureCount) failures, the first: \(report.failures.first?.message ?? "?")); the store as it was is in \(backup). Run `probity verify` on both",
                isConfiguration: false)
        }
        logger.notice(
            "migrated \(path) in \(String(format: "%.1f", outcome.seconds)) s: \(outcome.after.size) entries, \(outcome.after.checkpoints) checkpoints, same root; verified intact"
        )
    }

    public func run() async throws {
        do { try settings.validate() } catch { throw DaemonStartError(message: error.message, isConfiguration: true) }
        let notifier = SystemdNotifier(environment: environment)
        notifier.notify("STATUS=opening \(settings.storeURL ?? settings.storePath)")
        var store: OpenedStore
        do { store = try openStore() } catch let error as StoreError {
            throw DaemonStartError(
                message: error.message, isConfiguration: error.code == .badKey || error.code == .notFound)
        } catch let error as PostgresStoreError {
            throw DaemonStartError(message: error.message, isConfiguration: error.code == .credentials)
        }
        let readers = store.readers
        // The socket is ours only once we hold its lock: binding deletes an existing socket file, which
        // would silently take the socket of a daemon already serving it.
        let socketDirectory = (settings.socketPath as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(
            atPath: socketDirectory.isEmpty ? "." : socketDirectory, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o750])
        let socketLock: FileLock
        do {
            socketLock = try FileLock(path: settings.socketPath + ".lock") { holder in
                "another probityd (\(holder)) is serving the socket \(settings.socketPath); stop it first, or choose another listen.socket"
            }
        } catch let error as StoreError {
            throw DaemonStartError(message: error.message, isConfiguration: false)
        }

        let metrics = ServerMetrics()
        let window = Duration.microseconds(Int64(settings.commitWindowMilliseconds * 1000))
        let committer = GroupCommitter(
            writer: store.writer.take(), openWriter: store.open,
            limits: .init(maxBatchEvents: settings.maxCommitEvents, window: window),
            metrics: metrics, openFailure: store.failure, reopenInterval: store.reopenInterval)
        let witnessPolicy = try settings.witnessPolicy()
        let witnessed = WitnessedCheckpoints()
        let api = ProbityAPI(
            committer: committer, readers: readers, metrics: metrics, settings: settings, signer: store.signer,
            witnesses: witnessPolicy.map { ($0, witnessed) })
        let router = api.router()

        let listeners = 1 + (settings.tcp == nil ? 0 : 1) + (settings.tilesListen == nil ? 0 : 1)
        let readiness = Readiness(expected: listeners)
        let size = try readers.log().size()
        let announce: @Sendable () async -> Void = { [notifier, logger, settings] in
            guard await readiness.listening() else { return }
            notifier.notify("READY=1\nSTATUS=serving \(size) entries on \(settings.socketPath)\nMAINPID=\(getpid())")
            logger.notice(
                "probityd ready: \(size) entries, socket \(settings.socketPath)\(settings.tcp.map { ", tcp \($0)" } ?? "")\(settings.tilesListen.map { ", public tiles \($0)" } ?? "")"
            )
        }
        let limits = ConnectionLimits(
            maxConnections: settings.maxConnections, headerTimeoutSeconds: settings.headerTimeoutSeconds,
            bodyTimeoutSeconds: settings.bodyTimeoutSeconds)
        var services: [any Service] = [CommitterService(committer: committer)]
        if readers.isPostgres {
            services.append(LeadershipService(committer: committer, logger: logger))
        }
        let socketPath = settings.socketPath
        services.append(
            Application(
                router: router,
                server: limits.http1Server(api: api, logger: logger),
                configuration: .init(address: .unixDomainSocket(path: socketPath), serverName: "probityd"),
                onServerRunning: { _ in
                    // Group members may connect; others may not (the unit's umask made it 0600 until now).
                    chmod(socketPath, 0o660)
                    await announce()
                },
                logger: logger
            ))
        if let tcp = settings.tcp {
            let address = try settings.tcpAddress(tcp)
            services.append(
                Application(
                    router: router,
                    server: limits.http1Server(api: api, logger: logger),
                    configuration: .init(address: .hostname(address.host, port: address.port), serverName: "probityd"),
                    onServerRunning: { _ in await announce() },
                    logger: logger
                ))
        }
        if let tilesListen = settings.tilesListen {
            let address = try settings.tcpAddress(tilesListen, key: "tiles.listen")
            services.append(
                Application(
                    router: api.publicTileRouter(),
                    server: limits.http1Server(api: nil, logger: logger),
                    configuration: .init(address: .hostname(address.host, port: address.port), serverName: "probityd"),
                    onServerRunning: { _ in await announce() },
                    logger: logger
                ))
        }
        let status: @Sendable () -> String = { [readers, committer, settings] in
            let size = (try? readers.log().size()).map { "\($0) entries" } ?? "size unknown"
            if let writer = committer.otherWriter { return "standby: \(size); \(writer)" }
            return committer.failure.map { "degraded: \(size); appends fail: \($0)" }
                ?? "serving \(size) on \(settings.socketPath)"
        }
        services.append(SystemdService(notifier: notifier, committer: committer, status: status, logger: logger))
        if let witnessPolicy {
            services.append(
                WitnessService(
                    policy: witnessPolicy, committer: committer, readers: readers, witnessed: witnessed,
                    metrics: metrics, logger: logger))
        }
        if !settings.captures.isEmpty {
            services.append(
                CaptureService(
                    captures: settings.captures, committer: committer, storePath: settings.storePath, readers: readers,
                    metrics: metrics, logger: logger))
        }
        if let url = settings.tsaURL {
            let caPEM: String?
            do { caPEM = try settings.tsaCAFile.map { try String(contentsOfFile: $0, encoding: .utf8) } } catch {
                throw DaemonStartError(
                    message: "timestamp.ca_file: cannot read \(settings.tsaCAFile!): \(error.localizedDescription)",
                    isConfiguration: true)
            }
            let authority: TimestampAuthority
            do { authority = try TimestampAuthority(url: url, caPEM: caPEM) } catch {
                throw DaemonStartError(message: "timestamp.tsa_url: \(error.message)", isConfiguration: true)
            }
            services.append(
                TimestampService(
                    authority: authority, interval: .seconds(60 * settings.timestampIntervalMinutes),
                    committer: committer, readers: readers, logger: logger))
        }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        withExtendedLifetime((socketLock, store.lock)) {}
        unlink(settings.socketPath)
        logger.notice("probityd stopped; every acknowledged append is committed")
    }
}

/// Counts listeners up; true for the call that completes the set (READY=1 is sent once).
actor Readiness {
    private var remaining: Int
    init(expected: Int) { remaining = expected }
    func listening() -> Bool {
        remaining -= 1
        return remaining == 0
    }
}

/// Runs the group committer's thread; on shutdown, commits what is queued before returning. Listed
/// first, so the service group stops it last, after the HTTP servers finished their requests.
struct CommitterService: Service {
    let committer: GroupCommitter

    func run() async throws {
        committer.start()
        try? await gracefulShutdown()
        await committer.shutdown()
    }
}

extension GroupCommitter {
    /// The PostgreSQL store's reason this probityd cannot write now, if that is why.
    var postgresFailure: PostgresStoreError? { failureCause as? PostgresStoreError }

    /// While another probityd leads the PostgreSQL store: who it is (the store's words).
    var otherWriter: String? { postgresFailure.flatMap { $0.code == .notLeader ? $0.message : nil } }
}

/// On a PostgreSQL store: while this daemon does not write (another probityd leads, or the server is
/// away), tries to take the lead every `interval`, so that a standby takes over within about a second of
/// the writer's end (its session ends, the server releases its advisory lock), without waiting for an
/// append. Logs each change of role.
struct LeadershipService: Service {
    static let interval: Duration = .milliseconds(500)
    let committer: GroupCommitter
    let logger: Logger

    func run() async throws {
        let (committer, logger) = (committer, logger)
        try? await cancelWhenGracefulShutdown {
            var leading = committer.isWriting
            while !Task.isCancelled {
                // A read replica (a server in recovery) can never lead: asked far less often.
                let replica = committer.postgresFailure?.code == .readOnly
                try await Task.sleep(for: replica ? Self.interval * 20 : Self.interval)
                let writing = committer.isWriting ? true : await committer.openIfClosed()
                if writing != leading {
                    if writing {
                        logger.notice("took the lead: this probityd is now the writer")
                    } else {
                        logger.warning("lost the lead: \(committer.failure ?? "unknown error"); waiting as a standby")
                    }
                    leading = writing
                }
            }
        }
    }
}

/// systemd integration after start-up: `WATCHDOG=1` at half of `$WATCHDOG_USEC` while the writer is
/// responsive, a `STATUS=` line when the state changes (checked with each ping), and `STOPPING=1` as
/// soon as shutdown begins.
struct SystemdService: Service {
    let notifier: SystemdNotifier
    let committer: GroupCommitter
    let status: @Sendable () -> String
    let logger: Logger

    func run() async throws {
        await withGracefulShutdownHandler {
            guard let interval = notifier.watchdogInterval else {
                try? await gracefulShutdown()
                return
            }
            let (notifier, committer, status, logger) = (notifier, committer, status, logger)
            try? await cancelWhenGracefulShutdown {
                var wasDegraded: Bool?
                while !Task.isCancelled {
                    // A line when the state changes, not per ping: the size alone is no news for systemd.
                    let degraded = committer.failure != nil
                    if degraded != wasDegraded {
                        notifier.notify("STATUS=\(status())")
                        wasDegraded = degraded
                    }
                    // A commit stuck longer than the whole watchdog timeout (a dead disk) must not be
                    // hidden: without pings, systemd restarts the service.
                    if committer.isResponsive(within: interval * 2) {
                        notifier.notify("WATCHDOG=1")
                    } else {
                        logger.critical(
                            "the writer has been committing for longer than the watchdog timeout; not pinging the watchdog"
                        )
                    }
                    try await Task.sleep(for: interval)
                }
            }
        } onGracefulShutdown: { [notifier] in
            notifier.notify("STOPPING=1\nSTATUS=stopping: finishing in-flight requests and commits")
        }
    }
}
