import Foundation
import GRDB
import GRDBSQLite

/// One value of a stored row, whatever the store: the four kinds the schema uses.
public enum StoreValue: Sendable, Equatable {
    case int(Int64)
    case blob([UInt8])
    case text(String)
    case null
}

/// The tables a store holds and a copy between stores carries, with their columns in order. They are the
/// tables of `Schema` (the same in SQLite and PostgreSQL); a copy moves every row byte for byte, so the
/// copied log has the same entries, tiles, checkpoints and proofs, and its derived tables still agree.
public struct StoreTable: Sendable {
    public enum Kind: Sendable { case int, blob, text }
    public struct Column: Sendable {
        public let name: String
        public let kind: Kind
        public let nullable: Bool
    }
    public let name: String
    public let columns: [Column]
    /// The primary key's columns, in the order rows are read.
    public let key: [String]

    init(_ name: String, key: [String], _ columns: [(String, Kind)], nullable: Set<String> = []) {
        self.name = name
        self.key = key
        self.columns = columns.map { Column(name: $0.0, kind: $0.1, nullable: nullable.contains($0.0)) }
    }

    /// Every table of the current format; entries first, so that a reader of a half-made copy sees a log.
    public static let all: [StoreTable] = [
        StoreTable("meta", key: ["key"], [("key", .text), ("value", .text)]),
        StoreTable(
            "entries", key: ["seq"],
            [("seq", .int), ("bytes", .blob), ("leaf_hash", .blob), ("type", .text), ("time", .text)]),
        StoreTable("payloads", key: ["seq"], [("seq", .int), ("salt", .blob), ("bytes", .blob)]),
        StoreTable("checkpoints", key: ["size"], [("size", .int), ("note", .text), ("time", .text)]),
        StoreTable("tiles", key: ["level", "idx"], [("level", .int), ("idx", .int), ("hashes", .blob)]),
        StoreTable(
            "streams", key: ["stream"], [("stream", .text), ("seq", .int), ("leaf_hash", .blob), ("entries", .int)]),
        StoreTable("type_counts", key: ["type"], [("type", .text), ("entries", .int)]),
        StoreTable("sources", key: ["platform", "id"], [("platform", .text), ("id", .text), ("seq", .int)]),
        StoreTable("refs", key: ["kind", "id"], [("kind", .text), ("id", .text), ("detail", .text), ("seq", .int)]),
        StoreTable(
            "tokens", key: ["id"],
            [
                ("id", .text), ("name", .text), ("role", .text), ("secret_sha256", .blob), ("created", .text),
                ("revoked", .text),
            ],
            nullable: ["revoked"]),
        StoreTable("projection_snapshots", key: ["name"], [("name", .text), ("seq", .int), ("state", .blob)]),
        StoreTable(
            "capture_items", key: ["capture", "item"],
            [
                ("capture", .text), ("item", .text), ("state", .text), ("detail", .text), ("seq", .int),
                ("procedure", .text), ("fingerprint", .text), ("attempts", .int), ("updated", .text),
            ], nullable: ["seq", "procedure"]),
        StoreTable(
            "verifications", key: ["time"],
            [("time", .text), ("size", .int), ("intact", .int), ("failures", .int), ("trust", .text)]),
    ]

    /// `SELECT <columns> FROM <table> ORDER BY <key>`.
    public var selectAll: String {
        "SELECT \(columns.map(\.name).joined(separator: ", ")) FROM \(name) ORDER BY \(key.joined(separator: ", "))"
    }
}

extension LogReader {
    /// Reads every row of every table in one snapshot, table by table in `StoreTable.all`'s order, handing
    /// them to `rows` in chunks of at most `chunk` (memory stays flat whatever the store's size).
    public func readAllTables(
        chunk: Int = 2_000, _ rows: (StoreTable, [[StoreValue]]) throws -> Void
    ) throws {
        try wrap("reading the store") {
            try db.read { db in
                for table in StoreTable.all {
                    let statement = try db.makeStatement(sql: table.selectAll)
                    var buffered: [[StoreValue]] = []
                    buffered.reserveCapacity(chunk)
                    while try statement.rawStep(db) {
                        buffered.append(
                            table.columns.indices.map { i in
                                if statement.rawIsNull(Int32(i)) { return .null }
                                switch table.columns[i].kind {
                                case .int: return .int(statement.rawInt64(Int32(i)))
                                case .blob: return .blob(statement.rawBytes(Int32(i)))
                                case .text: return .text(statement.rawText(Int32(i)))
                                }
                            })
                        if buffered.count == chunk {
                            try rows(table, buffered)
                            buffered.removeAll(keepingCapacity: true)
                        }
                    }
                    if !buffered.isEmpty { try rows(table, buffered) }
                }
            }
        }
    }
}

/// A new SQLite store filled with rows copied from another store (`probity migrate --to FILE`): made
/// under a temporary name with the current schema, filled chunk by chunk, and renamed into place only by
/// `finish` — a copy that fails part way leaves no store behind.
public final class SQLiteStoreFiller {
    public let path: String
    private let partial: String
    private let queue: DatabaseQueue
    private let lock: FileLock
    private var finished = false

    public init(creating path: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw StoreError(.alreadyExists, "\(path) already exists; choose another path or remove it first")
        }
        self.path = path
        partial = path + ".partial"
        lock = try WriterLock.take(storePath: path)
        Self.remove(partial)  // left by a copy that was killed: the lock says none is running
        queue = try Self.create(partial)
    }

    private static func create(_ path: String) throws -> DatabaseQueue {
        do {
            try createPrivateFile(path, mode: LogWriter.fileMode)
            let queue = try LogWriter.openDatabase(path: path)
            try Schema.migrator.migrate(queue)
            return queue
        } catch {
            remove(path)
            throw error
        }
    }

    /// Inserts rows of `table` (columns in `StoreTable`'s order) in one transaction.
    public func insert(_ table: StoreTable, _ rows: [[StoreValue]]) throws {
        let sql =
            "INSERT INTO \(table.name) (\(table.columns.map(\.name).joined(separator: ", "))) VALUES (\(table.columns.map { _ in "?" }.joined(separator: ", ")))"
        try queue.write { db in
            let statement = try db.cachedStatement(sql: sql)
            for row in rows {
                try statement.execute(
                    arguments: StatementArguments(
                        row.map { value -> (any DatabaseValueConvertible)? in
                            switch value {
                            case .int(let v): v
                            case .blob(let v): Data(v)
                            case .text(let v): v
                            case .null: nil
                            }
                        }))
            }
        }
    }

    /// Ends the copy: the WAL folded into the file, the file renamed into place, the directory fsynced.
    public func finish() throws {
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try queue.close()
        guard rename(partial, path) == 0 else {
            throw StoreError(.io, "cannot rename \(partial) to \(path): \(String(cString: strerror(errno)))")
        }
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: partial + suffix) }
        let directory = open(
            (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent,
            O_RDONLY)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
        finished = true
    }

    deinit {
        if !finished {
            try? queue.close()
            Self.remove(partial)
        }
        withExtendedLifetime(lock) {}
    }

    private static func remove(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}
