import Foundation
import GRDB
public import ProbityLog

/// The tree as C2SP tlog-tiles serves it (https://c2sp.org/tlog-tiles): hash tiles straight from the
/// `tiles` table, entry bundles from the entries (never payloads), for probityd's tile routes and
/// `probity export tiles`.
extension LogReader {
    /// Hash tile `index` of tile level `level`: full (256 hashes), or its first `width` hashes. Nil when
    /// the tree has no such tile yet. A partial tile is a prefix of the tile it grows into, so any width up
    /// to what is stored is the tile some checkpoint's tree had.
    public func servedTile(level: Int, index: UInt64, width: Int?) throws -> [UInt8]? {
        try wrap("reading a tile") {
            try db.read { db in try Self.servedTile(Tiles.ID(level: level, index: index), width: width, db) }
        }
    }

    static func servedTile(_ id: Tiles.ID, width: Int?, _ db: Database) throws -> [UInt8]? {
        servedTile(stored: try tile(id, db), width: width)
    }

    /// The tile served from the stored hashes of its row (any store's): all 256, or the first `width`.
    public static func servedTile(stored: [UInt8]?, width: Int?) -> [UInt8]? {
        guard let stored else { return nil }
        let wanted = (width ?? Tiles.width) * 32
        return stored.count >= wanted ? Array(stored[0..<wanted]) : nil
    }

    /// The entries under leaf tile `index` (all 256, or the first `width`) as an entry bundle; nil when the
    /// log does not hold them all yet.
    public func entryBundle(index: UInt64, width: Int?) throws -> [UInt8]? {
        try wrap("reading an entry bundle") { try db.read { db in try Self.entryBundle(index, width: width, db) } }
    }

    static func entryBundle(_ index: UInt64, width: Int?, _ db: Database) throws -> [UInt8]? {
        let statement = try db.cachedStatement(
            sql: "SELECT seq, bytes FROM entries WHERE seq >= ? AND seq < ? ORDER BY seq")
        return try entryBundle(index, width: width) { first, end, add in
            statement.rawReset()
            defer { statement.rawReset() }
            statement.rawBind(1, Int64(first))
            statement.rawBind(2, Int64(end))
            while try statement.rawStep(db) { try add(UInt64(statement.rawInt64(0)), statement.rawBytes(1)) }
        }
    }

    /// The entry bundle of leaf tile `index` from any store: `rows(first, end, add)` hands each entry in
    /// [first, end) to `add` in seq order. Nil when the log does not hold them all yet.
    public static func entryBundle(
        _ index: UInt64, width: Int?,
        rows: (UInt64, UInt64, (UInt64, [UInt8]) throws -> Void) throws -> Void
    ) throws -> [UInt8]? {
        let count = UInt64(width ?? Tiles.width)
        let (first, overflow) = index.multipliedReportingOverflow(by: UInt64(Tiles.width))
        guard !overflow, first < UInt64(Int64.max) - count else { return nil }
        var bundle: [UInt8] = []
        bundle.reserveCapacity(Int(count) * 1024)
        var expected = first
        try rows(first, first + count) { seq, bytes in
            guard seq == expected else {
                throw StoreError(.inconsistent, "entry \(expected) is missing from the store; run `probity verify`")
            }
            try EntryBundle.append(bytes, seq: expected, to: &bundle)
            expected += 1
        }
        return expected == first + count ? bundle : nil
    }

    /// Everything a static copy of the tiles needs that a copy made at tree size `exported` lacks: the full
    /// tiles and entry bundles completed since, and the partial ones of the latest checkpoint, passed to
    /// `write` level by level; then that checkpoint is returned (to be written last, so that a copy never
    /// names a tree its files do not hold). One read transaction: the checkpoint and the tiles agree.
    public func exportTiles(
        after exported: UInt64, write: (TilePath, [UInt8]) throws -> Void
    ) throws -> SignedCheckpoint {
        try wrap("exporting tiles") {
            try db.read { db in
                let checkpoint = try checkpoint(size: nil, db)
                let size = checkpoint.checkpoint.size
                guard exported <= size else {
                    throw StoreError(
                        .badArgument,
                        "the copy holds \(exported) entries, more than the log's \(size): it is of another log")
                }
                for (level, fullTiles, partialWidth) in Tiles.layout(size: size) {
                    for index in Tiles.completed(level: level, from: exported, to: size) {
                        guard let hashes = try Self.servedTile(Tiles.ID(level: level, index: index), width: nil, db)
                        else {
                            throw StoreError(.inconsistent, "tile \(level)/\(index) is missing; run `probity verify`")
                        }
                        try write(.hashes(level: level, index: index, width: nil), hashes)
                        if level == 0, let bundle = try Self.entryBundle(index, width: nil, db) {
                            try write(.entries(index: index, width: nil), bundle)
                        }
                    }
                    guard partialWidth > 0 else { continue }
                    let id = Tiles.ID(level: level, index: fullTiles)
                    guard let hashes = try Self.servedTile(id, width: partialWidth, db) else {
                        throw StoreError(.inconsistent, "tile \(level)/\(fullTiles) is missing; run `probity verify`")
                    }
                    try write(.hashes(level: level, index: fullTiles, width: partialWidth), hashes)
                    if level == 0, let bundle = try Self.entryBundle(fullTiles, width: partialWidth, db) {
                        try write(.entries(index: fullTiles, width: partialWidth), bundle)
                    }
                }
                return checkpoint
            }
        }
    }
}

extension LogReader {
    /// The largest stored checkpoint for which `accept` holds (a witness quorum), newest first.
    public func largestCheckpoint(where accept: (SignedCheckpoint) -> Bool) throws -> SignedCheckpoint? {
        try wrap("reading checkpoints") {
            try db.read { db in
                let notes = try String.fetchCursor(db, sql: "SELECT note FROM checkpoints ORDER BY size DESC")
                while let note = try notes.next() {
                    if let checkpoint = try? SignedCheckpoint(parsing: note), accept(checkpoint) { return checkpoint }
                }
                return nil
            }
        }
    }
}
