import Foundation
import NIOCore
import PostgresNIO
import ProbityLog
public import ProbityStore

/// Reads of a PostgreSQL store that the writer and the copies share, and the copies themselves: SQLite
/// to PostgreSQL and back, row for row (`StoreTable.all`), so that the copy holds the same log.
public enum PostgresStore {
    /// Whether the database already holds Probity's tables (or any table of those names).
    static func hasTables(_ session: PostgresSession) throws -> Bool {
        try session.rows("SELECT to_regclass('public.meta') IS NOT NULL") { try $0.decode(Bool.self) }.first == true
    }

    /// The `meta` rows, checked: a store of Probity's format, with an origin.
    static func meta(_ session: PostgresSession) throws -> [String: String] {
        guard try hasTables(session) else {
            throw PostgresStoreError(
                .notAProbityStore,
                "\(session.location) holds no Probity store; create one with `probity init --store URL` or copy one with `probity migrate --from FILE --to URL`"
            )
        }
        var meta: [String: String] = [:]
        for (key, value) in try session.rows("SELECT key, value FROM meta", { try $0.decode((String, String).self) }) {
            meta[key] = value
        }
        guard meta["format"] == PostgresSchema.formatVersion, meta["origin"] != nil else {
            throw PostgresStoreError(
                .notAProbityStore,
                "\(session.location) is not a Probity store of format \(PostgresSchema.formatVersion) (format \(meta["format"] ?? "none"))"
            )
        }
        return meta
    }

    /// One past the highest seq.
    static func size(_ session: PostgresSession) throws -> UInt64 {
        let last = try session.rows("SELECT max(seq) FROM entries") { try $0.decode(Int64?.self) }.first ?? nil
        guard let last, last >= 0 else { return 0 }
        return UInt64(last) + 1
    }

    /// The first signed checkpoint whose tree holds entry `seq`.
    static func firstCheckpoint(covering seq: UInt64, _ session: PostgresSession) throws -> SignedCheckpoint {
        guard
            let note = try session.rows(
                "SELECT note FROM checkpoints WHERE size > \(Int64(clamping: seq)) ORDER BY size LIMIT 1",
                { try $0.decode(String.self) }
            ).first
        else { throw StoreError(.inconsistent, "no checkpoint covers entry \(seq); run `probity verify`") }
        return try checkpoint(parsing: note)
    }

    /// A stored checkpoint note, parsed; a malformed one is the store's fault, named as such.
    static func checkpoint(parsing note: String) throws -> SignedCheckpoint {
        do { return try SignedCheckpoint(parsing: note) } catch {
            throw StoreError(.inconsistent, "the stored checkpoint is malformed (\(error)); run `probity verify`")
        }
    }

    /// The stored hashes of one tile, or nil.
    static func tile(_ id: Tiles.ID, _ session: PostgresSession) throws -> [UInt8]? {
        try session.rows(
            "SELECT hashes FROM tiles WHERE level = \(Int64(id.level)) AND idx = \(Int64(clamping: id.index))"
        ) { Array(buffer: try $0.decode(ByteBuffer.self)) }.first
    }

    // MARK: Copies

    /// What a copy moved.
    public struct CopyReport: Sendable {
        public var rows: [String: Int] = [:]
        public var size: UInt64 = 0
    }

    /// Copies the SQLite store `reader` reads (one snapshot) into the empty database at `location`, in
    /// one transaction: the target holds the whole log, or nothing. `progress` gets (entries copied, entries).
    public static func copy(
        from reader: LogReader, to location: PostgresLocation, progress: ((UInt64, UInt64) -> Void)? = nil
    ) throws -> CopyReport {
        let total = try reader.size()
        let session = try PostgresSession.connect(location)
        if try hasTables(session) {
            throw PostgresStoreError(
                .alreadyExists, "\(location) already holds tables; copy into an empty database of its own")
        }
        var report = CopyReport()
        try session.execute("BEGIN")
        do {
            for statement in PostgresSchema.create { try session.execute(PostgresQuery(unsafeSQL: statement)) }
            try reader.readAllTables { table, rows in
                var lines = ByteBuffer()
                for row in rows { CopyText.append(row, to: &lines) }
                try session.copy(into: table.name, columns: table.columns.map(\.name), lines)
                report.rows[table.name, default: 0] += rows.count
                if table.name == "entries" { progress?(UInt64(report.rows["entries"]!), total) }
            }
            report.size = try size(session)
            try session.execute("COMMIT")
            return report
        } catch {
            try? session.execute("ROLLBACK")
            throw error
        }
    }

    /// Copies the store at `location` (one REPEATABLE READ snapshot: a standby works too) into a new SQLite
    /// file at `path`; the file is left only if the whole copy committed. `progress` gets (entries copied,
    /// entries).
    public static func copy(
        from location: PostgresLocation, toSQLite path: String, progress: ((UInt64, UInt64) -> Void)? = nil
    ) throws -> CopyReport {
        let session = try PostgresSession.connect(location)
        _ = try meta(session)
        let filler = try SQLiteStoreFiller(creating: path)
        var report = CopyReport()
        try session.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        defer { try? session.execute("ROLLBACK") }
        report.size = try size(session)
        for table in StoreTable.all {
            try readRows(table, session, chunk: 2_000) { rows in
                try filler.insert(table, rows)
                report.rows[table.name, default: 0] += rows.count
                if table.name == "entries" { progress?(UInt64(report.rows["entries"]!), report.size) }
            }
        }
        try filler.finish()
        return report
    }

    /// Every row of `table` in key order, `chunk` at a time (keyset paging, so memory stays flat).
    static func readRows(
        _ table: StoreTable, _ session: PostgresSession, chunk: Int, _ body: ([[StoreValue]]) throws -> Void
    ) throws {
        let columns = table.columns
        let select = table.columns.map(\.name).joined(separator: ", ")
        let order = table.key.joined(separator: ", ")
        var after: [StoreValue]?
        while true {
            var query = PostgresQuery(unsafeSQL: "SELECT \(select) FROM \(table.name)")
            if let after {
                let placeholders = table.key.indices.map { "$\($0 + 1)" }.joined(separator: ", ")
                query.sql += " WHERE (\(order)) > (\(placeholders))"
                for (name, value) in zip(table.key, after) {
                    let column = columns.first { $0.name == name }!
                    try bind(value, kind: column.kind, &query.binds)
                }
            }
            query.sql += " ORDER BY \(order) LIMIT \(chunk)"
            let rows = try session.rows(query) { row in
                try zip(row, columns).map { cell, column -> StoreValue in
                    if cell.bytes == nil { return .null }
                    switch column.kind {
                    case .int: return .int(try cell.decode(Int64.self))
                    case .blob: return .blob(Array(buffer: try cell.decode(ByteBuffer.self)))
                    case .text: return .text(try cell.decode(String.self))
                    }
                }
            }
            guard !rows.isEmpty else { return }
            try body(rows)
            guard rows.count == chunk else { return }
            let last = rows[rows.count - 1]
            after = table.key.map { name in last[columns.firstIndex { $0.name == name }!] }
        }
    }

    private static func bind(_ value: StoreValue, kind: StoreTable.Kind, _ binds: inout PostgresBindings) throws {
        switch value {
        case .int(let v): binds.append(v)
        case .blob(let v): binds.append(ByteBuffer(bytes: v))
        case .text(let v): binds.append(v)
        case .null: binds.appendNull()
        }
    }
}

/// COPY's text format: tab-separated columns, `\N` for NULL, backslash escapes in text, bytea as `\\x` hex.
enum CopyText {
    static func append(_ row: [StoreValue], to buffer: inout ByteBuffer) {
        for (i, value) in row.enumerated() {
            if i > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
            switch value {
            case .null: buffer.writeString("\\N")
            case .int(let v): buffer.writeString(String(v))
            case .blob(let bytes):
                buffer.writeString("\\\\x")
                let digits = Array("0123456789abcdef".utf8)
                for byte in bytes {
                    buffer.writeInteger(digits[Int(byte >> 4)])
                    buffer.writeInteger(digits[Int(byte & 0x0f)])
                }
            case .text(let text):
                for byte in text.utf8 {
                    switch byte {
                    case UInt8(ascii: "\\"): buffer.writeString("\\\\")
                    case UInt8(ascii: "\t"): buffer.writeString("\\t")
                    case UInt8(ascii: "\n"): buffer.writeString("\\n")
                    case UInt8(ascii: "\r"): buffer.writeString("\\r")
                    default: buffer.writeInteger(byte)
                    }
                }
            }
        }
        buffer.writeInteger(UInt8(ascii: "\n"))
    }
}
