public import Foundation
import GRDB
import GRDBSQLite
public import ProbityDomain
public import ProbityLog

// Opening and creating a store for writing: the durable SQLite settings, the writer lock, entry 0.
extension LogWriter {
    /// SQLite creates `-wal` and `-shm` with the database file's mode of the moment: if a reader opened the
    /// store while the file was read-only, they stay read-only after the file was made writable again.
    /// Ours (same owner), they get the file's write bits back.
    static func restoreCompanionModes(_ path: String) {
        var file = stat()
        guard stat(path, &file) == 0 else { return }
        for suffix in ["-wal", "-shm"] {
            var companion = stat()
            if stat(path + suffix, &companion) == 0, companion.st_uid == geteuid(), companion.st_mode & 0o200 == 0 {
                chmod(path + suffix, (companion.st_mode | (file.st_mode & 0o222)) & 0o7777)
            }
        }
    }

    /// Takes the store's writer lock, for a caller that opens writers itself (see `open`).
    public static func lockStore(path: String) throws -> FileLock { try WriterLock.take(storePath: path) }

    /// How many database pages the writer's connection keeps in memory between writes.
    public enum PageCache: Sendable {
        /// SQLite's default (about 2 MiB): probityd's commits are small, and its memory is budgeted.
        case standard
        /// 16 MiB, for the CLI's bulk loads (`append`, `import`): a transaction of thousands of entries
        /// otherwise spills pages it will change again (index and tile pages) to the WAL and writes them
        /// twice: a 20,000-event append writes 23 % fewer pages with it (200,000 events: 2 % fewer), for
        /// ~10 MiB more memory.
        case bulk

        var kibibytes: Int? {
            switch self {
            case .standard: nil
            case .bulk: 16 * 1024
            }
        }
    }

    static func openDatabase(path: String, cache: PageCache = .standard) throws -> DatabaseQueue {
        // Checked before SQLite opens the file: SQLite would silently open it read-only, and may keep that
        // descriptor for later connections of this process even once the file is writable again.
        if FileManager.default.fileExists(atPath: path) && access(path, W_OK) != 0 {
            throw StoreError(
                .readOnly,
                "the store \(path) is read-only (\(String(cString: strerror(errno)))); make it writable by the daemon's user"
            )
        }
        restoreCompanionModes(path)
        var config = Configuration()
        config.label = "probity.writer"
        config.busyMode = .timeout(5)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            if let kib = cache.kibibytes { try db.execute(sql: "PRAGMA cache_size = -\(kib)") }
        }
        let queue = try DatabaseQueue(path: path, configuration: config)
        // Durability: every commit fsyncs the WAL. Set after opening and read back, because a
        // setting that silently did not take would void "nothing acknowledged is ever lost".
        try queue.writeWithoutTransaction { db in
            // SQLite silently opens a file it may not write read-only; say so now, not at the first append.
            guard sqlite3_db_readonly(db.sqliteConnection, "main") == 0 else {
                throw StoreError(
                    .readOnly,
                    "the store \(path) is read-only (file or filesystem); make it writable by the daemon's user")
            }
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Redaction erases: deleted payload bytes are overwritten with zeros in the pages they leave,
            // not left in free space (`redact` then empties the WAL, which still holds the old pages).
            try db.execute(sql: "PRAGMA secure_delete = ON")
            let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode")
            let sync = try Int.fetchOne(db, sql: "PRAGMA synchronous")
            let secureDelete = try Int.fetchOne(db, sql: "PRAGMA secure_delete")
            guard secureDelete == 1 else {
                throw StoreError(.durability, "SQLite refused secure_delete on \(path); redactions could not erase")
            }
            guard mode == "wal", sync == 2 else {
                throw StoreError(
                    .durability,
                    "SQLite refused durable settings on \(path) (journal_mode=\(mode ?? "?"), synchronous=\(sync ?? -1)); the filesystem may not support WAL"
                )
            }
        }
        return queue
    }

    /// Creates a new store and appends `log.created` (seq 0) carrying the first verifier key.
    /// The store's mode: payloads hold personal data, so only its owner may read it. SQLite creates the
    /// `-wal` and `-shm` files with the database file's mode, so they are 0600 too.
    public static let fileMode: mode_t = 0o600

    public static func create(
        path: String, origin: String, signer: NoteSigner, keyPath: String, by principal: String,
        software: String, sources: WriteSources = .system
    ) throws -> LogWriter {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw StoreError(.alreadyExists, "\(path) already exists; choose another path or remove it first")
        }
        guard signer.verifier.name == origin else {
            throw StoreError(.badKey, "the signer's key name must be the origin \(origin)")
        }
        let lock = try WriterLock.take(storePath: path)
        do {
            try createPrivateFile(path, mode: fileMode)
            let queue = try openDatabase(path: path)
            try Schema.migrator.migrate(queue)
            try queue.write { db in
                for (key, value) in [
                    "format": Schema.formatVersion, "origin": origin, "key_path": keyPath,
                    "current_vkey": signer.verifier.description,
                ] {
                    try db.execute(sql: "INSERT INTO meta (key, value) VALUES (?, ?)", arguments: [key, value])
                }
            }
            let writer = try LogWriter(path: path, db: queue, lock: lock, signer: signer, sources: sources)
            let created = EventInput(
                type: LogEventType.logCreated,
                data: [
                    "origin": .string(origin),
                    "verifier_key": .string(signer.verifier.description),
                    "algorithm": .string("ed25519"),
                    "software": .string(software),
                ])
            _ = try writer.append([created], by: principal)
            return writer
        } catch {
            // Nothing half-made remains: a failed init leaves no store behind.
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            if let error = error as? StoreError { throw error }
            throw StoreError(.io, "cannot create the store at \(path): \(error)")
        }
    }

    /// Opens an existing store for appending. `signer` must hold the log's current key.
    /// `lock` is the store's writer lock when the caller holds it already (`lockStore`), as a daemon
    /// does to stay the store's only writer while it re-opens the database after an I/O failure.
    public static func open(
        path: String, signer: NoteSigner, lock: FileLock? = nil, sources: WriteSources = .system,
        cache: PageCache = .standard
    ) throws -> LogWriter {
        try LogReader.refuseURL(path)
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError(
                .notFound, "no store at \(path); create one with `probity init --db \(path) --origin NAME`")
        }
        let lock = try lock ?? WriterLock.take(storePath: path)
        let queue: DatabaseQueue
        do {
            queue = try openDatabase(path: path, cache: cache)
            // A change of format is never a side effect of opening: `probity migrate` backs up first.
            try Schema.refuseOlder(format: StoreMigration.format(queue), path: path)
            try Schema.migrator.migrate(queue)
        } catch let error as StoreError { throw error } catch {
            throw StoreError.writeFailure(error, path: path, doing: "open it for writing")
        }
        let writer = try LogWriter(path: path, db: queue, lock: lock, signer: signer, sources: sources)
        let current = try writer.meta("current_vkey")
        guard current == signer.verifier.description else {
            throw StoreError(
                .badKey,
                "the key given (\(signer.verifier)) is not the log's current signing key (\(current ?? "none"))")
        }
        return writer
    }
}
