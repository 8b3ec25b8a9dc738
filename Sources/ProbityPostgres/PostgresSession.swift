import Dispatch
import Foundation
import Logging
public import NIOCore
import NIOPosix
import NIOSSL
public import PostgresNIO
import Synchronization

/// One connection to the server, used from ordinary threads: each call blocks its thread until the
/// server has answered. The store's writer and the CLI are threads of their own, never an event loop,
/// so blocking them is what they need (one writer, one statement after another).
public final class PostgresSession: @unchecked Sendable {
    let connection: PostgresConnection
    let logger: Logger
    public let location: PostgresLocation

    private init(connection: PostgresConnection, logger: Logger, location: PostgresLocation) {
        self.connection = connection
        self.logger = logger
        self.location = location
    }

    /// Connects (and authenticates) within `timeout` seconds, or says why not.
    public static func connect(
        _ location: PostgresLocation, timeout: Int64 = 10, applicationName: String = "probity"
    ) throws -> PostgresSession {
        let password = try location.password()
        var configuration: PostgresConnection.Configuration
        switch location.endpoint {
        case .socket(let directory, let port):
            configuration = .init(
                unixSocketPath: "\(directory)/.s.PGSQL.\(port)", username: location.user, password: password,
                database: location.database)
        case .tcp(let host, let port):
            let tls: PostgresConnection.Configuration.TLS
            switch location.tls {
            case .disable: tls = .disable
            case .verifyFull:
                var settings = TLSConfiguration.makeClientConfiguration()
                if let root = location.rootCertificate { settings.trustRoots = .file(root) }
                do { tls = .require(try NIOSSLContext(configuration: settings)) } catch {
                    throw PostgresStoreError(.credentials, "cannot set up TLS for \(location): \(error)")
                }
            }
            configuration = .init(
                host: host, port: port, username: location.user, password: password, database: location.database,
                tls: tls)
        }
        configuration.options.connectTimeout = .seconds(timeout)
        configuration.options.additionalStartupParameters = [("application_name", applicationName)]
        var quiet = Logger(label: "probity.postgres")
        quiet.logLevel = .critical
        let logger = quiet, settings = configuration
        let connection = try blocking {
            do {
                return try await PostgresConnection.connect(
                    on: eventLoops.next(), configuration: settings, id: 1, logger: logger)
            } catch let error as PSQLError where error.code == .authMechanismRequiresPassword {
                throw PostgresStoreError(
                    .credentials,
                    "\(location) asks for a password, and none was found: put it in the PGPASSFILE (host:port:database:user:password, mode 0600) or the systemd credential postgres-password"
                )
            } catch {
                // SQLSTATE class 28: the server refused the credentials (a setting to fix, not a server away).
                let refused = sqlState(error)?.hasPrefix("28") == true
                throw PostgresStoreError(
                    refused ? .credentials : .unreachable, "cannot connect to \(location): \(describe(error))")
            }
        }
        return PostgresSession(connection: connection, logger: logger, location: location)
    }

    /// PostgresNIO requires a connection closed before it is released: closed here, waiting for it.
    deinit {
        let connection = connection
        if !connection.isClosed { _ = try? Self.blocking { try await connection.close() } }
    }

    public var isClosed: Bool { connection.isClosed }

    /// Runs `sql`, discarding any rows.
    public func execute(_ query: PostgresQuery) throws {
        _ = try rows(query) { _ in () }
    }

    /// A statement sent by `send` and not yet waited for.
    private var pending: Pending<[Void]>?

    /// Sends `query` (rows discarded) and returns at once: its thread can prepare the next batch while the
    /// server executes this one. The next statement on this session waits for it first, and fails with its
    /// error if it failed, so statements stay in order and no error is lost (COMMIT is such a statement: sent
    /// after a failed one, the server answers it by rolling back, and the failure is what is reported).
    func send(_ query: PostgresQuery) throws {
        let started = try start(query) { _ in () }
        try finishPending()
        pending = started
    }

    /// Waits for the statement `send` left running, if any.
    func finishPending() throws {
        guard let pending else { return }
        self.pending = nil
        _ = try pending.wait(onTimeout: abandon)
    }

    /// Runs `query` and decodes each row it returns.
    public func rows<T: Sendable>(
        _ query: PostgresQuery, _ decode: @escaping @Sendable (PostgresRow) throws -> T
    ) throws
        -> [T]
    {
        // Started before waiting for the statement `send` left running: the connection runs them in order,
        // and this thread wakes for both at once; an error of the earlier one is the one reported.
        let started = try start(query, decode)
        try finishPending()
        return try started.wait(onTimeout: abandon)
    }

    private func start<T: Sendable>(
        _ query: PostgresQuery, _ decode: @escaping @Sendable (PostgresRow) throws -> T
    ) throws -> Pending<[T]> {
        // A query written to a connection that is already closed is never answered: say so at once.
        guard !connection.isClosed else {
            throw PostgresStoreError(
                .unreachable, "the connection to \(location) is closed (the server ended it, or it was lost)")
        }
        // Through PostgresNIO's future interface: the rows are decoded on the connection's event loop, and
        // this thread is woken once, when the statement is done (no task, no hop through another thread).
        let location = location
        let rows = Mutex<[T]>([])
        let done = connection.query(query, logger: logger) { row in
            let decoded = try decode(row)
            rows.withLock { $0.append(decoded) }
        }.flatMapErrorThrowing { error -> PostgresQueryMetadata in
            if let error = error as? PostgresStoreError { throw error }
            throw PostgresStoreError(.server, "\(location): \(describe(error))")
        }
        return Pending(done) { _ in rows.withLock { $0 } }
    }

    /// Gives the connection up (after a statement went unanswered): later statements fail at once.
    func abandon() {
        let closing: EventLoopFuture<Void> = connection.close()
        _ = closing
    }

    /// Copies `lines` (COPY's text format, each ending in a newline) into `table`'s `columns`.
    public func copy(into table: String, columns: [String], _ lines: ByteBuffer) throws {
        let connection = connection, logger = logger, location = location
        try Self.blocking {
            do {
                try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in
                    try await writer.write(lines)
                }
            } catch {
                throw PostgresStoreError(.server, "\(location): copying into \(table): \(describe(error))")
            }
        }
    }

    /// The event loop of every connection: its own thread, never one of the server's event loops, so that
    /// a thread blocked on a statement (probityd's event loop authenticating a request, say) can never be
    /// the thread that must read the statement's answer.
    static let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// How long one statement may wait for the server's answer.
    static let answerTimeout = 120

    /// Runs `body` and waits for it on this thread. The task runs on an executor of its own, never on the
    /// concurrency pool: the thread waiting here may be one of the pool's (a test, a daemon's task), and a
    /// pool whose every thread waits would never run the task it waits for.
    static func blocking<T: Sendable>(
        onTimeout: (() -> Void)? = nil, _ body: @escaping @Sendable () async throws -> T
    ) throws -> T {
        try Pending(body).wait(onTimeout: onTimeout)
    }
}

/// Work started on `PostgresExecutor`, waited for by an ordinary thread.
final class Pending<T: Sendable>: @unchecked Sendable {
    private var result: Result<T, any Error>?
    private let done = DispatchSemaphore(value: 0)

    init(_ body: @escaping @Sendable () async throws -> T) {
        Task(executorPreference: PostgresExecutor.shared) {
            do { self.result = .success(try await body()) } catch { self.result = .failure(error) }
            self.done.signal()
        }
    }

    /// The outcome of `future`, turned into `T` by `finish` on the event loop that completes it.
    init<U: Sendable>(_ future: EventLoopFuture<U>, _ finish: @escaping @Sendable (U) -> T) {
        future.whenComplete { outcome in
            self.result = outcome.map(finish)
            self.done.signal()
        }
    }

    /// The result; a server that stops answering (a cut network without a reset) must not hang a writer
    /// for ever: after `PostgresSession.answerTimeout`, `onTimeout` runs and this throws.
    func wait(onTimeout: (() -> Void)?) throws -> T {
        guard done.wait(timeout: .now() + .seconds(PostgresSession.answerTimeout)) == .success else {
            onTimeout?()
            throw PostgresStoreError(
                .unreachable,
                "the server did not answer within \(PostgresSession.answerTimeout) s; the connection is given up")
        }
        return try result!.get()
    }
}

/// Runs the tasks of `blocking` on Dispatch's threads, apart from the concurrency pool.
final class PostgresExecutor: TaskExecutor, @unchecked Sendable {
    static let shared = PostgresExecutor()
    private let queue = DispatchQueue(label: "probity.postgres.tasks", attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// What the server said, where PostgresNIO's own description hides it: the SQLSTATE and the message.
func describe(_ error: any Error) -> String {
    if let error = error as? PSQLError {
        if let info = error.serverInfo, let message = info[.message] {
            let state = info[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            let detail = info[.detail].map { ": \($0)" } ?? ""
            return message + detail + state
        }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
    }
    return "\(error)"
}

/// The SQLSTATE of a server error, if `error` is one.
func sqlState(_ error: any Error) -> String? {
    (error as? PSQLError)?.serverInfo?[.sqlState]
}
