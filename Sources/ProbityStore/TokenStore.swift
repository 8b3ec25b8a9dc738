import Foundation
import GRDB
import ProbityDomain
import ProbityLog

/// What a token may do. One role per token; `admin` may do everything.
public enum Role: String, CaseIterable, Sendable, Codable {
    /// Connectors and buyers' tools: append events, read checkpoints and proofs.
    case ingest
    /// Auditors' tools: read entries (without payloads), checkpoints, proofs and projections.
    case read
    /// Legal teams: what `read` may, plus payloads and exports.
    case export
    /// Operators: everything.
    case admin

    public enum Action: String, Sendable {
        case append, readProofs, readEntries, readPayloads, export, administer
    }

    public func allows(_ action: Action) -> Bool {
        switch (self, action) {
        case (.admin, _): return true
        case (_, .readProofs): return true
        case (.ingest, .append): return true
        case (.read, .readEntries), (.export, .readEntries), (.export, .readPayloads), (.export, .export): return true
        default: return false
        }
    }

    /// The roles that may perform `action`, for error messages.
    public static func allowing(_ action: Action) -> [Role] { allCases.filter { $0.allows(action) } }
}

/// A bearer token as clients send it: `prb_<12 hex id>_<64 hex secret>`. The id finds the stored row;
/// the SHA-256 of the whole token is compared in constant time.
public struct BearerToken: Sendable {
    public let id: String
    public let text: String

    public static let prefix = "prb_"

    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        func isHex(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) || (0x61...0x66).contains(b) }
        guard bytes.count == 4 + 12 + 1 + 64, bytes[0..<4].elementsEqual(Self.prefix.utf8),
            bytes[16] == UInt8(ascii: "_"),
            bytes[4..<16].allSatisfy(isHex), bytes[17...].allSatisfy(isHex)
        else { return nil }
        id = String(decoding: bytes[4..<16], as: UTF8.self)
        self.text = text
    }

    static func generate(from random: (Int) throws -> [UInt8]) throws -> BearerToken {
        let bytes = try random(38)
        return BearerToken("\(prefix)\(Hex.encode(Array(bytes[0..<6])))_\(Hex.encode(Array(bytes[6...])))")!
    }

    public var secretHash: [UInt8] { SHA256.hash(Array(text.utf8)) }
}

public struct TokenInfo: Sendable, Equatable {
    public let id: String
    public let name: String
    public let role: Role
    public let created: String
    /// When the token was revoked; nil while it is valid.
    public let revoked: String?
    /// The SHA-256 of the token's text: all a store keeps of the secret.
    public let secretHash: [UInt8]
}

extension TokenInfo {
    /// A new token named `name` with its secret (shown once), refusing a name that is not 1–64 letters,
    /// digits, '-', '_', '.' or '@'. The store that keeps it refuses a name already taken.
    public static func new(name: String, role: Role, sources: WriteSources) throws -> (TokenInfo, BearerToken) {
        guard !name.isEmpty, name.count <= 64,
            name.unicodeScalars.allSatisfy({
                $0.properties.isAlphabetic || $0.properties.numericType != nil || "-_.@".unicodeScalars.contains($0)
            })
        else {
            throw StoreError(
                .badArgument, "a token name must be 1–64 letters, digits, '-', '_', '.' or '@', got \"\(name)\"")
        }
        let token = try BearerToken.generate(from: sources.randomBytes)
        let info = TokenInfo(
            id: token.id, name: name, role: role, created: sources.now().description, revoked: nil,
            secretHash: token.secretHash)
        return (info, token)
    }

    /// A token row as a store keeps it, refused if its role is unknown.
    public static func stored(
        id: String, name: String, role: String, created: String, revoked: String?, secretHash: [UInt8]
    ) throws -> TokenInfo {
        guard let role = Role(rawValue: role) else {
            throw StoreError(.inconsistent, "token \(id) has an unknown role \(role)")
        }
        return TokenInfo(id: id, name: name, role: role, created: created, revoked: revoked, secretHash: secretHash)
    }

    /// This token revoked at `time`; refused if it already is, so that a typo is not taken for success.
    public func revoked(at time: String) throws -> TokenInfo {
        guard revoked == nil else {
            throw StoreError(.badArgument, "token \(id) (\(name)) was already revoked at \(revoked!)")
        }
        return TokenInfo(id: id, name: name, role: role, created: created, revoked: time, secretHash: secretHash)
    }

    /// The error for a name another token has.
    public static func refusingDuplicate(_ name: String) -> StoreError {
        StoreError(.alreadyExists, "a token named \"\(name)\" already exists; choose another name or revoke it first")
    }

    /// The error for a token that is not there.
    public static func unknown(_ idOrName: String) -> StoreError {
        StoreError(.notFound, "no token with id or name \"\(idOrName)\"; `probity tokens list` shows them")
    }
}

/// Where probityd's API tokens are kept: beside the log, not in it (the SQLite store's `tokens` table, or
/// the PostgreSQL store's). Managed while probityd runs; it re-reads a token at most once a second.
public protocol TokenRegistry: Sendable {
    /// Creates a token and returns it; its secret is not kept and cannot be shown again.
    func create(name: String, role: Role) throws -> (info: TokenInfo, token: BearerToken)
    func list() throws -> [TokenInfo]
    /// Revokes the token with this id or name.
    func revoke(_ idOrName: String) throws -> TokenInfo
    /// The stored token with this id, if any (revoked or not).
    func token(id: String) throws -> TokenInfo?
}

/// The API tokens kept in the store's `tokens` table. Tokens are not part of the log, so they are
/// managed with plain SQLite transactions beside a running daemon (which holds the writer lock).
public final class TokenStore: TokenRegistry, @unchecked Sendable {
    private let db: DatabaseQueue
    public let path: String
    /// The clock of `created` and `revoked`, and the randomness of the secrets.
    private let sources: WriteSources

    private init(path: String, db: DatabaseQueue, sources: WriteSources) {
        self.path = path
        self.db = db
        self.sources = sources
    }

    /// Opens the token table of an existing store, upgrading an older store if no writer holds it.
    public static func open(
        path: String, readOnly: Bool = false, sources: WriteSources = .system
    ) throws -> TokenStore {
        _ = try LogReader.open(path: path)  // a Probity store, of a known format
        var config = Configuration()
        config.label = "probity.tokens"
        config.busyMode = .timeout(10)
        config.readonly = readOnly
        do {
            let queue = try DatabaseQueue(path: path, configuration: config)
            let migrated = try queue.read { try $0.tableExists("tokens") }
            if !migrated {
                guard !readOnly else {
                    throw StoreError(
                        .notFound, "\(path) has no token table yet; start probityd on it once, or create a token")
                }
                let lock = try WriterLock.take(storePath: path)
                try Schema.migrator.migrate(queue)
                _ = lock
            }
            return TokenStore(path: path, db: queue, sources: sources)
        } catch let error as StoreError { throw error } catch {
            throw StoreError(.io, "cannot open the tokens of \(path): \(error)")
        }
    }

    private static func info(_ row: Row) throws -> TokenInfo {
        try TokenInfo.stored(
            id: row["id"], name: row["name"], role: row["role"], created: row["created"], revoked: row["revoked"],
            secretHash: [UInt8](row["secret_sha256"] as Data))
    }

    /// Creates a token and returns it; its secret is not kept and cannot be shown again.
    public func create(name: String, role: Role) throws -> (info: TokenInfo, token: BearerToken) {
        let (info, token) = try TokenInfo.new(name: name, role: role, sources: sources)
        do {
            try db.write { db in
                try db.execute(
                    sql: "INSERT INTO tokens (id, name, role, secret_sha256, created) VALUES (?, ?, ?, ?, ?)",
                    arguments: [info.id, name, role.rawValue, Data(info.secretHash), info.created])
            }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw TokenInfo.refusingDuplicate(name)
        } catch {
            throw StoreError(.io, "cannot create the token in \(path): \(error)")
        }
        return (info, token)
    }

    public func list() throws -> [TokenInfo] {
        do {
            return try db.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM tokens ORDER BY created, id").map(Self.info)
            }
        } catch let error as StoreError { throw error } catch {
            throw StoreError(.io, "cannot read the tokens of \(path): \(error)")
        }
    }

    /// Revokes the token with this id or name. Revoking a revoked token is an error, so that a typo
    /// is not taken for success.
    public func revoke(_ idOrName: String) throws -> TokenInfo {
        let time = sources.now().description
        do {
            return try db.write { db in
                guard
                    let row = try Row.fetchOne(
                        db, sql: "SELECT * FROM tokens WHERE id = ? OR name = ?", arguments: [idOrName, idOrName])
                else { throw TokenInfo.unknown(idOrName) }
                let revoked = try Self.info(row).revoked(at: time)
                try db.execute(sql: "UPDATE tokens SET revoked = ? WHERE id = ?", arguments: [time, revoked.id])
                return revoked
            }
        } catch let error as StoreError { throw error } catch {
            throw StoreError(.io, "cannot revoke the token in \(path): \(error)")
        }
    }

    /// The stored token with this id, if any (revoked or not).
    public func token(id: String) throws -> TokenInfo? {
        do {
            return try db.read { db in
                try Row.fetchOne(db, sql: "SELECT * FROM tokens WHERE id = ?", arguments: [id]).map(Self.info)
            }
        } catch let error as StoreError { throw error } catch {
            throw StoreError(.io, "cannot read the tokens of \(path): \(error)")
        }
    }
}

extension TokenInfo {
    /// True when `token` is this token's secret and it is not revoked (constant-time comparison).
    public func accepts(_ token: BearerToken) -> Bool {
        revoked == nil && ConstantTime.equal(secretHash, token.secretHash)
    }
}
