import Foundation
import GRDB
public import ProbityDomain
import ProbityLog

/// The domain projections of a store (`DomainState`): rebuilt from the entries by `probity replay`, which
/// saves a snapshot; readers load the snapshot and apply the entries appended since. Nothing here is
/// trusted by `verify`, and a snapshot that does not fit the log (a log shorter than the snapshot, a
/// format this version cannot read) is ignored: the entries are replayed instead.
public enum DomainProjection {
    public static let snapshotName = "domain"

    /// Applies the entries after `state.lastSeq` (up to `limit`), reading `data` only where the
    /// projections need it.
    static func catchUp(_ state: inout DomainState, _ db: Database, until limit: ReplayLimit? = nil) throws {
        let from = state.lastSeq.map { Int64($0) + 1 } ?? 0
        let statement = try db.makeStatement(sql: "SELECT seq, bytes FROM entries WHERE seq >= ? ORDER BY seq")
        statement.arguments = [from]
        while try statement.rawStep(db) {
            let bytes = statement.rawBytes(1)
            let header = try decode(bytes, seq: UInt64(statement.rawInt64(0)))
            guard within(header, limit) else { break }
            apply(header, bytes, to: &state)
        }
    }

    /// Applies entries read from another store (in seq order, after `state.lastSeq`) to `state`.
    public static func apply(_ rows: [(seq: UInt64, bytes: [UInt8])], to state: inout DomainState) throws {
        for (seq, bytes) in rows { apply(try decode(bytes, seq: seq), bytes, to: &state) }
    }

    /// Whether `header` is within `limit` (replay stops at the first entry past it).
    static func within(_ header: EntryHeader, _ limit: ReplayLimit?) -> Bool {
        switch limit {
        case .seq(let last)?: header.seq <= last
        case .time(let t)?: header.time <= t
        case nil: true
        }
    }

    static func decode(_ bytes: [UInt8], seq: UInt64) throws -> EntryHeader {
        do { return try EntryHeader(bytes: bytes) } catch {
            throw StoreError(.inconsistent, "entry \(seq) cannot be read (\(error.message)); run `probity verify`")
        }
    }

    static func apply(_ header: EntryHeader, _ bytes: [UInt8], to state: inout DomainState) {
        state.apply(seq: header.seq, type: header.type, time: header.time, data: EventFields(header, bytes: bytes))
    }

    /// The snapshot is kept in pieces (`domain`, `domain#000001`, …, all with the same seq), so that
    /// neither saving nor loading it needs a second whole copy in memory.
    static let snapshotPieces =
        "SELECT seq, state FROM projection_snapshots WHERE name = ? OR name LIKE ? ORDER BY name"

    static func loadSnapshot(_ db: Database, size: UInt64) -> DomainState? {
        guard (try? db.tableExists("projection_snapshots")) == true,
            let pieces = try? Row.fetchCursor(db, sql: snapshotPieces, arguments: [snapshotName, snapshotName + "#%"])
        else { return nil }
        return snapshot(size: size) {
            (try? pieces.next()).flatMap { $0 }.map { (seq: $0["seq"], bytes: [UInt8]($0["state"] as Data)) }
        }
    }

    /// The snapshot whose pieces `next` reads in name order (nil at the end), if it fits a log of `size`
    /// entries. A piece of another seq (a damaged store) ends the snapshot, which is then ignored.
    public static func snapshot(size: UInt64, pieces next: () -> (seq: Int64, bytes: [UInt8])?) -> DomainState? {
        var seq: Int64?, consistent = true
        let state = DomainSnapshot.decode {
            guard consistent, let piece = next() else { return nil }
            guard seq == nil || seq == piece.seq else {
                consistent = false
                return nil
            }
            seq = piece.seq
            return piece.bytes
        }
        guard consistent, let seq, let state, let last = state.lastSeq, last < size, last == UInt64(seq) else {
            return nil
        }
        return state
    }

    /// The name of piece `index` of the snapshot: `domain`, then `domain#000001`, … (they sort in order).
    public static func snapshotPiece(_ index: Int) -> String {
        index == 0 ? snapshotName : snapshotName + "#" + String(String(1_000_000 + index).dropFirst())
    }
}

extension LogReader {
    /// The projections after the last entry: the snapshot `probity replay` saved, brought up to date.
    public func domainState() throws -> DomainState {
        try wrap("reading the projections") {
            try db.read { db in
                var state = DomainProjection.loadSnapshot(db, size: try Self.size(db)) ?? DomainState()
                try DomainProjection.catchUp(&state, db)
                return state
            }
        }
    }

    /// Brings `state` (an earlier result of `domainState`) up to date with the entries appended since. If
    /// it fails, `state` holds the entries applied before the failure: still the state after some seq.
    public func update(_ state: inout DomainState) throws {
        try wrap("reading the projections") { try db.read { try DomainProjection.catchUp(&state, $0) } }
    }
}

/// Saves the snapshot of the projections. Opens its own connection: the snapshot is not part of the log,
/// and is saved beside a running daemon (which holds the writer lock), like tokens.
public enum SnapshotWriter {
    public static func save(_ state: DomainState, path: String) throws {
        guard let last = state.lastSeq else { return }
        var config = Configuration()
        config.label = "probity.snapshot"
        config.busyMode = .timeout(10)
        // A cache: losing its last save to a power cut only means replaying again, so no fsync is waited for.
        config.prepareDatabase { try $0.execute(sql: "PRAGMA synchronous = NORMAL") }
        do {
            let queue = try DatabaseQueue(path: path, configuration: config)
            try queue.write { db in
                guard try db.tableExists("projection_snapshots") else {
                    throw StoreError(
                        .notFound,
                        "the store predates projection snapshots; open it for writing once (probityd, or `probity append`) to upgrade it"
                    )
                }
                let name = DomainProjection.snapshotName
                try db.execute(
                    sql: "DELETE FROM projection_snapshots WHERE name = ? OR name LIKE ?",
                    arguments: [name, name + "#%"])
                var piece = 0
                try DomainSnapshot.encode(state, chunkSize: 1 << 20) { bytes in
                    try db.execute(
                        sql: "INSERT INTO projection_snapshots (name, seq, state) VALUES (?, ?, ?)",
                        arguments: [DomainProjection.snapshotPiece(piece), Int64(last), Data(bytes)])
                    piece += 1
                }
            }
        } catch let error as StoreError { throw error } catch {
            throw StoreError.writeFailure(error, path: path, doing: "save the projections' snapshot")
        }
    }
}
