import Foundation
import Hummingbird
import ProbityStore
import Synchronization

/// Checks `Authorization: Bearer …` against the store's tokens. Rows are cached for one second, so a
/// busy client costs no read per request, and a `probity tokens revoke` takes effect within a second.
public final class Authenticator: Sendable {
    private let tokens: TokenStore
    private let cache = Mutex<[String: (token: TokenInfo?, fetched: ContinuousClock.Instant)]>([:])
    static let cacheLifetime: Duration = .seconds(1)

    public init(tokens: TokenStore) { self.tokens = tokens }

    /// The caller's token, if it may perform `action`; otherwise 401 (no valid token) or 403 (wrong role).
    public func authorize(_ request: Request, for action: Role.Action) throws -> TokenInfo {
        guard let header = request.headers[.authorization] else {
            throw APIError(.unauthorized, "unauthorized", "no bearer token; send Authorization: Bearer <token> (create one with `probity tokens create`)")
        }
        guard header.count > 7, header.prefix(7).lowercased() == "bearer ", let token = BearerToken(String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)) else {
            throw APIError(.unauthorized, "unauthorized", "the Authorization header is not a Probity bearer token (Bearer prb_…)")
        }
        guard let stored = try lookup(token.id), stored.accepts(token) else {
            throw APIError(.unauthorized, "unauthorized", "the token is unknown or revoked")
        }
        guard stored.role.allows(action) else {
            throw APIError(.forbidden, "forbidden", "token \(stored.name) has the role \(stored.role.rawValue); this needs \(Role.allowing(action).map(\.rawValue).joined(separator: " or "))")
        }
        return stored
    }

    private func lookup(_ id: String) throws -> TokenInfo? {
        let now = ContinuousClock.now
        if let cached = cache.withLock({ $0[id] }), now - cached.fetched < Self.cacheLifetime { return cached.token }
        let token = try tokens.token(id: id)
        cache.withLock { cache in
            if cache.count > 10_000 { cache.removeAll() } // unknown ids must not grow it without bound
            cache[id] = (token, now)
        }
        return token
    }
}
