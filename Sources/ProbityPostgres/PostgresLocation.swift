public import Foundation

/// Where a PostgreSQL store is: `postgres://USER@HOST:PORT/DATABASE?sslmode=…` (or `postgresql://`).
/// HOST may be a Unix socket directory, percent-encoded (`postgres://probity@%2Frun%2Fpostgresql/probity`)
/// or given as `?host=/run/postgresql`. A password is never taken from the URL (it would be seen in `ps`
/// and in shell history): it comes from the systemd credential `postgres-password`, or from the
/// PGPASSFILE (default `~/.pgpass`), as libpq reads it.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        /// The server's socket file: `<directory>/.s.PGSQL.<port>`.
        case socket(directory: String, port: Int)
    }
    public enum TLSMode: String, Sendable {
        /// Plain TCP (loopback, a Unix socket, or a network you trust).
        case disable
        /// TLS, the server's certificate checked against the system's CAs (or `sslrootcert`) and its name.
        case verifyFull = "verify-full"
    }
    public let endpoint: Endpoint
    public let user: String
    public let database: String
    public let tls: TLSMode
    /// A CA file for `verify-full` (`sslrootcert=`); nil for the system's.
    public let rootCertificate: String?

    /// The URL without any secret, as logs and messages name the store.
    public var description: String {
        switch endpoint {
        case .tcp(let host, let port): "postgres://\(user)@\(host):\(port)/\(database)"
        case .socket(let directory, let port): "postgres://\(user)@\(directory):\(port)/\(database) (Unix socket)"
        }
    }

    /// Whether `text` names a PostgreSQL store rather than a SQLite file.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    public init(parsing text: String) throws(PostgresStoreError) {
        func bad(_ why: String) -> PostgresStoreError {
            PostgresStoreError(.badLocation, "the store URL \(Self.redacted(text)) \(why)")
        }
        guard Self.isURL(text), let components = URLComponents(string: text) else {
            throw bad("is not of the form postgres://USER@HOST:PORT/DATABASE")
        }
        if components.password != nil {
            throw bad(
                "holds a password: put it in a PGPASSFILE (host:port:database:user:password, mode 0600) or in the systemd credential postgres-password, never on a command line"
            )
        }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] {
            guard let value = item.value else { throw bad("has the parameter \(item.name) without a value") }
            guard ["host", "port", "sslmode", "sslrootcert", "user", "dbname"].contains(item.name) else {
                throw bad(
                    "has the parameter \(item.name), which Probity does not know (host, port, sslmode, sslrootcert)")
            }
            query[item.name] = value
        }
        let host = query["host"] ?? components.percentEncodedHost?.removingPercentEncoding ?? ""
        let portText = query["port"] ?? components.port.map(String.init) ?? "5432"
        guard let port = Int(portText), (1...65535).contains(port) else { throw bad("has the port \(portText)") }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard let user = query["user"] ?? components.user, !user.isEmpty else {
            throw bad("names no user (postgres://USER@HOST/DATABASE)")
        }
        let database = query["dbname"] ?? (path.isEmpty ? user : path)
        guard !database.contains("/") else { throw bad("names the database \(database)") }
        if host.hasPrefix("/") {
            endpoint = .socket(directory: host, port: port)
        } else {
            guard !host.isEmpty else { throw bad("names no host (use ?host=/run/postgresql for a Unix socket)") }
            endpoint = .tcp(host: host, port: port)
        }
        let mode =
            query["sslmode"]
            ?? (host.hasPrefix("/") || ["localhost", "127.0.0.1", "::1"].contains(host) ? "disable" : "verify-full")
        guard let tls = TLSMode(rawValue: mode) else {
            throw bad(
                "has sslmode=\(mode); Probity takes disable or verify-full (a weaker check would let anyone on the path pose as the server)"
            )
        }
        if case .socket = endpoint, tls == .verifyFull { throw bad("asks for TLS over a Unix socket") }
        self.user = user
        self.database = database
        self.tls = tls
        self.rootCertificate = query["sslrootcert"]
    }

    /// `text` with any password replaced, for messages.
    static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "***"
        return components.string ?? "the given URL"
    }

    /// The password for this location: the systemd credential first, then the PGPASSFILE's first matching
    /// line; nil if neither has one (the server may trust the socket's peer, or a certificate).
    public func password(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(PostgresStoreError)
        -> String?
    {
        if let directory = environment["CREDENTIALS_DIRECTORY"] {
            let path = directory + "/postgres-password"
            if let data = FileManager.default.contents(atPath: path) {
                return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
            }
        }
        let path = environment["PGPASSFILE"] ?? (environment["HOME"].map { $0 + "/.pgpass" } ?? "")
        guard !path.isEmpty, let data = FileManager.default.contents(atPath: path) else {
            if let given = environment["PGPASSFILE"] {
                throw PostgresStoreError(.credentials, "PGPASSFILE names \(given), which cannot be read")
            }
            return nil
        }
        var info = stat()
        if stat(path, &info) == 0, info.st_mode & 0o077 != 0 {
            throw PostgresStoreError(
                .credentials, "the password file \(path) may be read by others: chmod 0600 \(path), as libpq requires")
        }
        let (host, port): (String, Int) =
            switch endpoint {
            case .tcp(let host, let port): (host, port)
            case .socket(_, let port): ("localhost", port)
            }
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            let fields = Self.passFields(line)
            guard fields.count == 5 else { continue }
            let wanted = [host, String(port), database, user]
            if zip(fields, wanted).allSatisfy({ $0 == "*" || $0 == $1 }) { return fields[4] }
        }
        return nil
    }

    /// A PGPASSFILE line's fields: separated by `:`, with `\:` and `\\` escaped.
    static func passFields(_ line: Substring) -> [String] {
        var fields: [String] = [""]
        var escaped = false
        for character in line {
            if escaped {
                fields[fields.count - 1].append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == ":" && fields.count < 5 {
                fields.append("")
            } else {
                fields[fields.count - 1].append(character)
            }
        }
        return fields
    }
}

/// Why a PostgreSQL store could not be used, with what to do about it.
public struct PostgresStoreError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case badLocation = "bad_location"
        case credentials
        case unreachable
        case server
        case notAProbityStore = "not_a_probity_store"
        case alreadyExists = "already_exists"
        /// Another writer leads the log (its advisory lock is held).
        case notLeader = "not_leader"
        /// This writer's leadership ended (another took over): nothing more may be committed.
        case fenced
        case readOnly = "read_only"
    }
    public let code: Code
    public let message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { message }
}
