import GRDB
import GRDBSQLite
import ProbityLog

/// Thin helpers over a GRDB statement's raw SQLite handle, for the hot loops (append, verify)
/// where GRDB's value boxing would cost more than the work itself.
extension Statement {
    func rawReset() {
        sqlite3_reset(sqliteStatement)
        sqlite3_clear_bindings(sqliteStatement)
    }

    func rawBind(_ index: Int32, _ value: Int64) { sqlite3_bind_int64(sqliteStatement, index, value) }

    func rawBind(_ index: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            _ = sqlite3_bind_blob(
                sqliteStatement, index, buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(buffer.count),
                SQLITE_TRANSIENT_SWIFT)
        }
    }

    func rawBind(_ index: Int32, _ digest: SHA256Digest) {
        digest.withUnsafeBytes { buffer in
            _ = sqlite3_bind_blob(sqliteStatement, index, buffer.baseAddress, 32, SQLITE_TRANSIENT_SWIFT)
        }
    }

    func rawBind(_ index: Int32, _ text: String) {
        var text = text
        text.withUTF8 { buffer in
            _ = sqlite3_bind_text(
                sqliteStatement, index,
                UnsafeRawPointer(buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!).assumingMemoryBound(
                    to: CChar.self), Int32(buffer.count), SQLITE_TRANSIENT_SWIFT)
        }
    }

    /// Steps a statement that returns no row; throws GRDB's error on failure.
    func rawExecute(_ db: Database) throws {
        let code = sqlite3_step(sqliteStatement)
        guard code == SQLITE_DONE else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)),
                sql: sql)
        }
    }

    /// Steps once; true if a row is available.
    func rawStep(_ db: Database) throws -> Bool {
        let code = sqlite3_step(sqliteStatement)
        if code == SQLITE_ROW { return true }
        if code == SQLITE_DONE { return false }
        throw DatabaseError(
            resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)),
            sql: sql)
    }

    /// Resets the statement, binds `values` to ?1, ?2, … and steps it; for statements that return no row.
    /// Generic over a parameter pack, so that binding boxes nothing.
    func run<each Value: RawBindable>(_ db: Database, _ values: repeat each Value) throws {
        rawReset()
        var index: Int32 = 1
        for value in repeat each values {
            value.bind(to: self, at: index)
            index += 1
        }
        try rawExecute(db)
    }

    func rawInt64(_ column: Int32) -> Int64 { sqlite3_column_int64(sqliteStatement, column) }

    func rawIsNull(_ column: Int32) -> Bool { sqlite3_column_type(sqliteStatement, column) == SQLITE_NULL }

    /// A column's bytes (blob, or text as stored) in place, valid until the next step or reset: copy them.
    func rawBuffer(_ column: Int32) -> UnsafeRawBufferPointer {
        let pointer = sqlite3_column_blob(sqliteStatement, column)
        let count = Int(sqlite3_column_bytes(sqliteStatement, column))  // after column_blob, as SQLite asks
        return UnsafeRawBufferPointer(start: count > 0 ? pointer : nil, count: count)
    }

    func rawBytes(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(sqliteStatement, column))
        guard count > 0, let pointer = sqlite3_column_blob(sqliteStatement, column) else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// A column as text ("" for NULL); invalid UTF-8 is repaired, not trusted.
    func rawText(_ column: Int32) -> String {
        guard let pointer = sqlite3_column_text(sqliteStatement, column) else { return "" }
        let count = Int(sqlite3_column_bytes(sqliteStatement, column))  // after column_text, as SQLite asks
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: count), as: UTF8.self)
    }
}

/// SQLITE_TRANSIENT is a C macro casting -1 to a destructor pointer; Swift cannot import it.
let SQLITE_TRANSIENT_SWIFT = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

/// A value `Statement.run` binds with SQLite's own calls.
protocol RawBindable {
    func bind(to statement: Statement, at index: Int32)
}

extension Int64: RawBindable {
    func bind(to statement: Statement, at index: Int32) { statement.rawBind(index, self) }
}

extension String: RawBindable {
    func bind(to statement: Statement, at index: Int32) { statement.rawBind(index, self) }
}

extension SHA256Digest: RawBindable {
    func bind(to statement: Statement, at index: Int32) { statement.rawBind(index, self) }
}

extension Array: RawBindable where Element == UInt8 {
    func bind(to statement: Statement, at index: Int32) { statement.rawBind(index, self) }
}
