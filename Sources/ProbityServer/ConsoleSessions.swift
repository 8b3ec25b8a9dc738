import Foundation
import ProbityLog
import ProbityStore
import Synchronization

/// The console's sign-in sessions, in memory (a restart signs everyone out): a random id in an
/// HttpOnly, SameSite=Strict, Secure cookie, the token it was opened with (by id: revoking the token ends
/// it), a CSRF secret for its forms, and an idle expiry.
final class ConsoleSessions: Sendable {
    struct Session: Sendable {
        let tokenID: String
        let user: String
        let role: Role
        let csrf: String
        var lastUsed: ContinuousClock.Instant
    }

    private let sessions = Mutex<[String: Session]>([:])
    let idle: Duration
    /// Most sessions kept; the least recently used goes first.
    static let capacity = 10_000

    init(idle: Duration) { self.idle = idle }

    /// 32 random bytes, hex: the session id and the CSRF secrets.
    static func secret() throws -> String { Hex.encode(try SecureRandom.bytes(32)) }

    func open(token: TokenInfo) throws -> (id: String, session: Session) {
        let id = try Self.secret()
        let session = Session(
            tokenID: token.id, user: token.name, role: token.role, csrf: try Self.secret(), lastUsed: .now)
        sessions.withLock { sessions in
            if sessions.count >= Self.capacity, let oldest = sessions.min(by: { $0.value.lastUsed < $1.value.lastUsed })
            {
                sessions.removeValue(forKey: oldest.key)
            }
            sessions[id] = session
        }
        return (id, session)
    }

    /// The live session with this id, its idle clock restarted; nil (and forgotten) once expired.
    func use(_ id: String, now: ContinuousClock.Instant = .now) -> Session? {
        sessions.withLock { sessions in
            guard var session = sessions[id] else { return nil }
            guard now - session.lastUsed < idle else {
                sessions.removeValue(forKey: id)
                return nil
            }
            session.lastUsed = now
            sessions[id] = session
            return session
        }
    }

    func close(_ id: String) { sessions.withLock { _ = $0.removeValue(forKey: id) } }
}
