import Foundation
import GRDB
public import ProbityLog

/// Bringing a store of an older format up to the current one (today: format 1's Merkle nodes become
/// format 2's tiles). Never a side effect of opening a store: `probity migrate` runs it, or probityd at
/// start; both keep a backup of the store as it was.
public enum StoreMigration {
    /// What the log looked like before and after: the caller verifies the migrated store and compares.
    public struct Outcome: Sendable {
        public let fromFormat: String
        public let toFormat: String
        /// Where the store as it was is kept (a consistent copy made before anything changed).
        public let backup: String
        public let before: TreeState
        public let after: TreeState
        public let seconds: Double
    }

    /// The size, root and checkpoints of a log, as its store gives them.
    public struct TreeState: Sendable, Equatable {
        public let size: UInt64
        public let root: Merkle.Hash
        public let checkpoints: Int
        /// The latest signed checkpoint's note, byte for byte.
        public let latestCheckpoint: String?
    }

    /// The format recorded in the store's `meta` table, or nil if it has none.
    static func format(_ db: some DatabaseReader) throws -> String? {
        try db.read { db in
            guard try db.tableExists("meta") else { return nil }
            return try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'format'")
        }
    }

    /// The format of the store at `path` (read-only), so callers can tell whether `migrate` is needed.
    public static func format(path: String) throws -> String? {
        var config = Configuration()
        config.readonly = true
        return try format(DatabaseQueue(path: path, configuration: config))
    }

    public static var currentFormat: String { Schema.formatVersion }

    /// Migrates the store at `path`: takes the writer lock, copies the
    /// store to `backup` (which must not exist), then migrates in one transaction — refused whole, with
    /// nothing changed (and the backup removed), if the old format's derived data disagree with the entries. Returns nil if the
    /// store is already of the current format.
    public static func migrate(path: String, backup: String) throws -> Outcome? {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError(.notFound, "no store at \(path)")
        }
        let started = Date()
        let lock = try WriterLock.take(storePath: path)
        defer { withExtendedLifetime(lock) {} }
        let queue = try LogWriter.openDatabase(path: path)
        guard let from = try format(queue) else {
            throw StoreError(.notAProbityStore, "\(path) is not a Probity store (it has no format)")
        }
        guard from != Schema.formatVersion else { return nil }
        guard Schema.olderFormats.contains(from) else {
            throw StoreError(
                .notAProbityStore,
                "\(path) is of format \(from), which this Probity (format \(Schema.formatVersion)) does not know; use a newer Probity"
            )
        }
        guard !FileManager.default.fileExists(atPath: backup) else {
            throw StoreError(.alreadyExists, "the backup \(backup) already exists; move it away or name another")
        }
        let before = try queue.read { try treeState($0, root: rootFromNodes) }
        do {
            try createPrivateFile(backup, mode: LogWriter.fileMode)
            try queue.writeWithoutTransaction { try $0.execute(sql: "VACUUM INTO ?", arguments: [backup]) }
        } catch {
            try? FileManager.default.removeItem(atPath: backup)
            throw StoreError(.io, "cannot back up \(path) to \(backup): \(error); nothing was changed")
        }
        do {
            try Schema.migrator.migrate(queue)
        } catch {
            // Rolled back: the store is as it was, and its copy would only confuse.
            try? FileManager.default.removeItem(atPath: backup)
            if let error = error as? StoreError { throw error }
            throw StoreError.writeFailure(error, path: path, doing: "migrate the store")
        }
        let after = try queue.read { db in
            try treeState(db) { db, size in
                var tiles = LogReader.tileHashes(db)
                return try LogReader.rangeHash(0, size, &tiles)
            }
        }
        guard after == before else {
            throw StoreError(
                .inconsistent,
                "the migrated store gives size \(after.size), root \(Base64.encode(after.root)), \(after.checkpoints) checkpoints; before: size \(before.size), root \(Base64.encode(before.root)), \(before.checkpoints) checkpoints. Restore \(backup)"
            )
        }
        return Outcome(
            fromFormat: from, toFormat: Schema.formatVersion, backup: backup, before: before, after: after,
            seconds: Date().timeIntervalSince(started))
    }

    private static func treeState(
        _ db: Database, root: (Database, UInt64) throws -> Merkle.Hash
    ) throws -> TreeState {
        let size = try LogReader.size(db)
        return TreeState(
            size: size, root: size == 0 ? Merkle.emptyRoot : try root(db, size),
            checkpoints: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM checkpoints") ?? 0,
            latestCheckpoint: try String.fetchOne(db, sql: "SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1"))
    }

    /// Format 1's root: its stored nodes (and leaf hashes) folded along the tree's right edge.
    private static func rootFromNodes(_ db: Database, size: UInt64) throws -> Merkle.Hash {
        try Merkle.foldRange(
            Merkle.rangeNodes(start: 0, end: size).map { node in
                let sql =
                    node.level == 0
                    ? "SELECT leaf_hash FROM entries WHERE seq = ?" : "SELECT hash FROM nodes WHERE id = ?"
                let key = node.level == 0 ? Int64(node.index) : MerkleNodeID.id(level: node.level, index: node.index)
                guard let hash = try Data.fetchOne(db, sql: sql, arguments: [key]) else {
                    throw StoreError(
                        .inconsistent,
                        "the format-1 store lacks the Merkle node (level \(node.level), index \(node.index)); nothing was changed"
                    )
                }
                return try SHA256Digest(
                    stored: hash, "the format-1 Merkle node (level \(node.level), index \(node.index))")
            })
    }
}

extension StoreError {
    static func needsMigration(path: String, format: String) -> StoreError {
        StoreError(
            .needsMigration,
            "\(path) is a store of format \(format); this Probity reads format \(Schema.formatVersion). Migrate it with `probity migrate --db \(path)` (it keeps a backup and verifies the result)"
        )
    }
}
