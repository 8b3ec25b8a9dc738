import Foundation
import Hummingbird
import ProbityDomain
import ProbityLog
import ProbityStore
import Synchronization

/// Checks `Authorization: Bearer …` against the store's tokens. Rows are cached for one second, so a
/// busy client costs no read per request, and a `probity tokens revoke` takes effect within a second.
/// A token whose secret matched its stored SHA-256 is remembered with the row, so that later requests
/// compare the presented token to it (constant time) instead of hashing it again.
final class Authenticator: Sendable {
    private struct Cached {
        let token: TokenInfo?
        let fetched: ContinuousClock.Instant
        var verified: [UInt8]?
    }
    /// Reads a token's row by id, from whichever store keeps them.
    private let token: @Sendable (String) throws -> TokenInfo?
    private let cache = Mutex<[String: Cached]>([:])
    static let cacheLifetime: Duration = .seconds(1)

    init(token: @escaping @Sendable (String) throws -> TokenInfo?) { self.token = token }

    /// The caller's token, if it may perform `action`; otherwise 401 (no valid token) or 403 (wrong role).
    func authorize(_ request: Request, for action: Role.Action) throws -> TokenInfo {
        try authorize(authorization: request.headers[.authorization], for: action)
    }

    /// The same, from the `Authorization` header's value.
    func authorize(authorization header: String?, for action: Role.Action) throws -> TokenInfo {
        guard let header else {
            throw APIError(
                .unauthorized, "unauthorized",
                "no bearer token; send Authorization: Bearer <token> (create one with `probity tokens create`)")
        }
        let utf8 = Array(header.utf8)
        guard utf8.count > 7, utf8[0..<7].map({ $0 | 0x20 }) == Array("bearer ".utf8),
            let token = BearerToken(String(decoding: utf8[7...].drop { $0 == 0x20 }, as: UTF8.self))
        else {
            throw APIError(
                .unauthorized, "unauthorized", "the Authorization header is not a Probity bearer token (Bearer prb_…)")
        }
        guard let stored = try authenticate(token) else {
            throw APIError(.unauthorized, "unauthorized", "the token is unknown or revoked")
        }
        guard stored.role.allows(action) else {
            throw APIError(
                .forbidden, "forbidden",
                "token \(stored.name) has the role \(stored.role.rawValue); this needs \(Role.allowing(action).map(\.rawValue).joined(separator: " or "))"
            )
        }
        return stored
    }

    /// The token with this id if it is still valid (not revoked), read through the same one-second cache:
    /// a console session ends within a second of `probity tokens revoke`.
    func valid(id: String) throws -> TokenInfo? {
        let (entry, changed) = try cached(id: id)
        if changed { store(entry, id: id) }
        return entry.token.flatMap { $0.revoked == nil ? $0 : nil }
    }

    /// The cached row of token `id`, read again once older than `cacheLifetime` (then `changed`).
    private func cached(id: String) throws -> (Cached, changed: Bool) {
        let now = ContinuousClock.now
        if let cached = cache.withLock({ $0[id] }), now - cached.fetched < Self.cacheLifetime { return (cached, false) }
        return (Cached(token: try token(id), fetched: now, verified: nil), true)
    }

    private func store(_ entry: Cached, id: String) {
        cache.withLock { cache in
            if cache.count > 10_000 { cache.removeAll() }  // unknown ids must not grow it without bound
            cache[id] = entry
        }
    }

    /// The stored token if `token` is its secret and it is not revoked.
    private func authenticate(_ token: BearerToken) throws -> TokenInfo? {
        let presented = Array(token.text.utf8)
        var (entry, changed) = try cached(id: token.id)
        defer { if changed { store(entry, id: token.id) } }
        guard let stored = entry.token, stored.revoked == nil else { return nil }
        if let verified = entry.verified {
            guard ConstantTime.equal(verified, presented) else { return nil }
        } else {
            guard stored.accepts(token) else { return nil }
            entry.verified = presented
            changed = true
        }
        return stored
    }
}
