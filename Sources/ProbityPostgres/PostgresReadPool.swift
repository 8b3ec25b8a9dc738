public import ProbityStore
import Synchronization

/// Read connections to a PostgreSQL store for a server that answers many requests at once: each read
/// takes an idle connection (or opens one), and gives it back unless it broke. At most `maxIdle` are kept
/// open between requests; the number in use is bounded by the caller's threads (probityd's blocking pool).
public final class PostgresReadPool: Sendable {
    public let location: PostgresLocation
    private let maxIdle: Int
    private let idle = Mutex<[PostgresLogReader]>([])

    public init(location: PostgresLocation, maxIdle: Int = 8) {
        self.location = location
        self.maxIdle = maxIdle
    }

    /// Runs `body` with a reader of its own (one connection, one statement at a time). A kept connection
    /// found closed (the server restarted, or ended it while idle) is replaced by a new one, once.
    public func withReader<T>(_ body: (PostgresLogReader) throws -> T) throws -> T {
        if let kept = idle.withLock({ $0.popLast() }) {
            do { return try using(kept, body) } catch let error as PostgresStoreError
                where error.code == .unreachable && kept.session.isClosed
            {}
        }
        return try using(PostgresLogReader(location: location), body)
    }

    private func using<T>(_ reader: PostgresLogReader, _ body: (PostgresLogReader) throws -> T) throws -> T {
        defer {
            if !reader.session.isClosed { idle.withLock { if $0.count < maxIdle { $0.append(reader) } } }
        }
        return try body(reader)
    }

    /// The stored token with this id, if any.
    public func token(id: String) throws -> TokenInfo? {
        try withReader { try PostgresTokens(session: $0.session).token(id: id) }
    }
}
