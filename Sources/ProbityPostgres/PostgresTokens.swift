import NIOCore
import PostgresNIO
import ProbityLog
public import ProbityStore

/// probityd's API tokens in a PostgreSQL store's `tokens` table (beside the log, not in it, as in SQLite):
/// managed with `probity tokens … --store URL` while probityd runs, read by every probityd of the store.
/// Writes need the primary; a standby can only read them.
public final class PostgresTokens: TokenRegistry, @unchecked Sendable {
    private let session: PostgresSession
    private let sources: WriteSources

    public convenience init(location: PostgresLocation, sources: WriteSources = .system) throws {
        let session = try PostgresSession.connect(location, applicationName: "probity tokens")
        _ = try PostgresStore.meta(session)
        self.init(session: session, sources: sources)
    }

    init(session: PostgresSession, sources: WriteSources = .system) {
        self.session = session
        self.sources = sources
    }

    public func create(name: String, role: Role) throws -> (info: TokenInfo, token: BearerToken) {
        let (info, token) = try TokenInfo.new(name: name, role: role, sources: sources)
        let inserted = try session.rows(
            """
            INSERT INTO tokens (id, name, role, secret_sha256, created)
            VALUES (\(info.id), \(name), \(role.rawValue), \(ByteBuffer(bytes: info.secretHash)), \(info.created))
            ON CONFLICT DO NOTHING RETURNING id
            """
        ) { try $0.decode(String.self) }
        guard !inserted.isEmpty else { throw TokenInfo.refusingDuplicate(name) }
        return (info, token)
    }

    public func list() throws -> [TokenInfo] {
        try tokens("SELECT id, name, role, created, revoked, secret_sha256 FROM tokens ORDER BY created, id")
    }

    public func revoke(_ idOrName: String) throws -> TokenInfo {
        try session.execute("BEGIN")
        do {
            guard
                let token = try tokens(
                    "SELECT id, name, role, created, revoked, secret_sha256 FROM tokens WHERE id = \(idOrName) OR name = \(idOrName) FOR UPDATE"
                ).first
            else { throw TokenInfo.unknown(idOrName) }
            let revoked = try token.revoked(at: sources.now().description)
            try session.execute("UPDATE tokens SET revoked = \(revoked.revoked) WHERE id = \(token.id)")
            try session.execute("COMMIT")
            return revoked
        } catch {
            try? session.execute("ROLLBACK")
            throw error
        }
    }

    public func token(id: String) throws -> TokenInfo? {
        try tokens("SELECT id, name, role, created, revoked, secret_sha256 FROM tokens WHERE id = \(id)").first
    }

    private func tokens(_ query: PostgresQuery) throws -> [TokenInfo] {
        try session.rows(query) { row in
            try row.decode((String, String, String, String, String?, ByteBuffer).self)
        }.map { id, name, role, created, revoked, hash in
            try TokenInfo.stored(
                id: id, name: name, role: role, created: created, revoked: revoked, secretHash: Array(buffer: hash))
        }
    }
}
