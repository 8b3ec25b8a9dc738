import Foundation
import GRDB
import ProbityDomain
public import ProbityLog
import Synchronization

/// Read access to a store: entries, checkpoints and proofs. Opening for reading never takes the writer
/// lock, so auditors can read while `probity append` or `probityd` writes (WAL gives them a snapshot).
///
/// A reader opened with `open` holds a `DatabasePool`: each read runs in a snapshot on one of several
/// read-only connections, so concurrent reads (the daemon's routes, a parallel verify) do not queue
/// behind each other. A writer reads through its own connection, and sees what it has just written.
public class LogReader: @unchecked Sendable {
    public let path: String
    public let origin: String
    let db: any DatabaseReader
    /// Full tiles already read, expanded, for the proofs of the readers that come after. Only a reader of
    /// committed snapshots has one: a writer may roll back a tile it wrote, and must not cache it.
    private let tileCache: TileCache?
    /// The last checkpoint note parsed, so that proof requests against the same checkpoint do not parse
    /// it again; it is reused only for the very same note text.
    private let lastCheckpoint = Mutex<SignedCheckpoint?>(nil)

    init(path: String, db: any DatabaseReader, tileCache: TileCache? = nil) throws {
        self.path = path
        self.db = db
        self.tileCache = tileCache
        let meta = try db.read { db in
            try Dictionary(
                uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT key, value FROM meta").map {
                    ($0["key"] as String, $0["value"] as String)
                })
        }
        try Schema.refuseOlder(format: meta["format"], path: path)
        guard meta["format"] == Schema.formatVersion, let origin = meta["origin"] else {
            throw StoreError(.notAProbityStore, "\(path) is not a Probity store of format \(Schema.formatVersion)")
        }
        self.origin = origin
    }

    /// Opens a store for reading only. Works on a read-only copy of the file: when SQLite cannot create
    /// its WAL index beside a file that has no WAL (a copy, a read-only folder), the file is read as
    /// immutable. A store with a WAL is never read that way: the WAL holds committed entries.
    public static func open(path: String) throws -> LogReader {
        try refuseURL(path)
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError(
                .notFound, "no store at \(path); create one with `probity init --db \(path) --origin NAME`")
        }
        var config = Configuration()
        config.readonly = true
        config.label = "probity.reader"
        // A writer checkpointing, or a reader recovering the WAL after a crash, holds its locks briefly.
        config.busyMode = .timeout(10)
        do {
            return try LogReader(
                path: path, db: try DatabasePool(path: path, configuration: config), tileCache: TileCache())
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw StoreError(.notAProbityStore, "\(path) is not a SQLite database, so not a Probity store")
        } catch {
            let wal = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
            guard wal == 0, (error as? DatabaseError)?.resultCode != .SQLITE_BUSY else {
                throw StoreError(.io, "cannot open \(path) for reading: \(error)")
            }
            // No WAL to read, and SQLite cannot create its index (-shm) here: nothing can be writing the
            // file, so reading it as immutable is safe (through one connection: no snapshot to share).
            do {
                let queue = try DatabaseQueue(
                    path:
                        "file:\(path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path)?immutable=1",
                    configuration: config)
                return try LogReader(path: path, db: queue)
            } catch let error as StoreError {
                throw error
            } catch let inner {
                throw StoreError(.io, "cannot open \(path) for reading: \(inner) (first attempt: \(error))")
            }
        }
    }

    /// A PostgreSQL URL given where only a SQLite file will do: say which commands take one.
    static func refuseURL(_ path: String) throws {
        guard path.hasPrefix("postgres://") || path.hasPrefix("postgresql://") else { return }
        throw StoreError(
            .badArgument,
            "this command works on a SQLite store file; with a PostgreSQL store, `init`, `append`, `checkpoint`, `prove`, `redact`, `tokens`, `verify`, `replay`, `findings`, `timeline`, `export`, `retention plan` and `migrate` take --store URL, and probityd serves it (or copy the log to a file: probity migrate --from URL --to FILE)"
        )
    }

    func wrap<T>(_ what: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as StoreError { throw error } catch {
            throw StoreError(.io, "\(what) failed on \(path): \(error)")
        }
    }

    // MARK: Basic reads

    public func meta(_ key: String) throws -> String? {
        try wrap("reading metadata") {
            try db.read { try String.fetchOne($0, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
        }
    }

    public func size() throws -> UInt64 {
        try wrap("reading the size") { try db.read { try Self.size($0) } }
    }

    /// One past the highest seq: an O(log n) look-up, where COUNT(*) would read every entry page.
    static func size(_ db: Database) throws -> UInt64 {
        // A tampered store may hold negative seqs (which `verify` reports); they do not count.
        guard let last = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM entries"), last >= 0 else { return 0 }
        return UInt64(last) + 1
    }

    public struct StoredEntry: Sendable {
        public let seq: UInt64
        public let bytes: [UInt8]
        public let leafHash: Merkle.Hash
        /// nil when the entry has no payload or it was redacted.
        public let payload: (salt: [UInt8], bytes: [UInt8])?

        public init(seq: UInt64, bytes: [UInt8], leafHash: Merkle.Hash, payload: (salt: [UInt8], bytes: [UInt8])?) {
            self.seq = seq
            self.bytes = bytes
            self.leafHash = leafHash
            self.payload = payload
        }
    }

    public func entry(seq: UInt64) throws -> StoredEntry? {
        try wrap("reading entry \(seq)") {
            try db.read { db in
                try Row.fetchOne(
                    db,
                    sql: """
                        SELECT e.seq, e.bytes, e.leaf_hash, p.salt, p.bytes AS payload FROM entries e LEFT JOIN payloads p ON p.seq = e.seq WHERE e.seq = ?
                        """, arguments: [Int64(clamping: seq)]
                ).map(Self.storedEntry)
            }
        }
    }

    /// The entries of `seqs` (missing ones left out), read in one transaction.
    public func entries(seqs: [UInt64]) throws -> [StoredEntry] {
        try wrap("reading entries") {
            try db.read { db in
                let statement = try db.cachedStatement(
                    sql: """
                        SELECT e.seq, e.bytes, e.leaf_hash, p.salt, p.bytes AS payload FROM entries e LEFT JOIN payloads p ON p.seq = e.seq WHERE e.seq = ?
                        """)
                return try seqs.compactMap {
                    try Row.fetchOne(statement, arguments: [Int64(clamping: $0)]).map(Self.storedEntry)
                }
            }
        }
    }

    /// Up to `limit` entries from seq `first` on, in order.
    public func entries(from first: UInt64, limit: Int) throws -> [StoredEntry] {
        try wrap("reading entries") {
            try db.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT e.seq, e.bytes, e.leaf_hash, p.salt, p.bytes AS payload FROM entries e LEFT JOIN payloads p ON p.seq = e.seq
                        WHERE e.seq >= ? ORDER BY e.seq LIMIT ?
                        """, arguments: [Int64(clamping: first), limit]
                ).map(Self.storedEntry)
            }
        }
    }

    static func storedEntry(_ row: Row) throws -> StoredEntry {
        let salt: Data? = row["salt"]
        let payload: Data? = row["payload"]
        let seq = UInt64(clamping: row["seq"] as Int64)
        return StoredEntry(
            seq: seq, bytes: [UInt8](row["bytes"] as Data),
            leafHash: try SHA256Digest(stored: row["leaf_hash"] as Data, "the stored leaf hash of seq \(seq)"),
            payload: salt.flatMap { s in payload.map { ([UInt8](s), [UInt8]($0)) } })
    }

    // MARK: Checkpoints

    public func checkpointCount() throws -> Int {
        try wrap("counting checkpoints") {
            try db.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM checkpoints") ?? 0 }
        }
    }

    /// When the checkpoint of `size` was signed (as the writer recorded it, RFC 3339 UTC).
    public func checkpointTime(size: UInt64) throws -> String? {
        try wrap("reading a checkpoint") {
            try db.read {
                try String.fetchOne(
                    $0, sql: "SELECT time FROM checkpoints WHERE size = ?", arguments: [Int64(clamping: size)])
            }
        }
    }

    /// The latest checkpoint, or the one of exactly `size` leaves.
    public func checkpoint(size: UInt64? = nil) throws -> SignedCheckpoint {
        try wrap("reading a checkpoint") { try db.read { try checkpoint(size: size, $0) } }
    }

    /// The checkpoint of `size` (default: the latest), read in `db`'s transaction.
    func checkpoint(size: UInt64?, _ db: Database) throws -> SignedCheckpoint {
        let statement =
            try size == nil
            ? db.cachedStatement(sql: "SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1")
            : db.cachedStatement(sql: "SELECT note FROM checkpoints WHERE size = ?")
        let arguments: StatementArguments = size.map { [Int64(clamping: $0)] } ?? []
        guard let note = try String.fetchOne(statement, arguments: arguments) else {
            if let size {
                let sizes = try checkpointSizes(near: size, db)
                throw StoreError(
                    .notFound,
                    "no checkpoint of size \(size); the nearest are \(sizes.map(String.init).joined(separator: " and ")) (checkpoints are signed once per committed batch)"
                )
            }
            throw StoreError(.notFound, "the store has no checkpoint yet")
        }
        if let last = lastCheckpoint.withLock({ $0 }), last.encoded == note { return last }
        do {
            let parsed = try SignedCheckpoint(parsing: note)
            lastCheckpoint.withLock { $0 = parsed }
            return parsed
        } catch {
            throw StoreError(.inconsistent, "the stored checkpoint is malformed (\(error)); run `probity verify`")
        }
    }

    /// The sizes of the checkpoints just below and above `size`, for an error that says what exists.
    func checkpointSizes(near size: UInt64, _ db: Database) throws -> [UInt64] {
        let below = try Int64.fetchOne(
            db, sql: "SELECT MAX(size) FROM checkpoints WHERE size < ?", arguments: [Int64(clamping: size)])
        let above = try Int64.fetchOne(
            db, sql: "SELECT MIN(size) FROM checkpoints WHERE size > ?", arguments: [Int64(clamping: size)])
        return [below, above].compactMap { $0 }.map(UInt64.init)
    }

    // MARK: Proofs (O(log n) reads each)

    /// The stored hashes of one tile (full or partial), or nil if the store has no such tile.
    static func tile(_ id: Tiles.ID, _ db: Database) throws -> [UInt8]? {
        let statement = try db.cachedStatement(sql: "SELECT hashes FROM tiles WHERE level = ? AND idx = ?")
        statement.rawReset()
        defer { statement.rawReset() }
        statement.rawBind(1, Int64(id.level))
        statement.rawBind(2, Int64(clamping: id.index))
        return try statement.rawStep(db) ? statement.rawBytes(0) : nil
    }

    /// Node hashes read from the tiles of `db`, for the reads of one transaction.
    static func tileHashes(_ db: Database) -> TileHashReader { TileHashReader { try tile($0, db) } }

    /// Node hashes for this reader's proofs: through its tile cache, if it has one.
    func proofTiles(_ db: Database) -> TileHashReader { TileHashReader(shared: tileCache) { try Self.tile($0, db) } }

    static func nodeHash(_ node: Merkle.Node, _ tiles: inout TileHashReader) throws -> Merkle.Hash {
        guard let hash = try tiles.hash(node) else {
            throw StoreError(
                .inconsistent,
                "the Merkle node (level \(node.level), index \(node.index)) is missing from the store's tiles; run `probity verify`"
            )
        }
        return hash
    }

    public static func rangeHash(_ start: UInt64, _ end: UInt64, _ tiles: inout TileHashReader) throws -> Merkle.Hash {
        try Merkle.foldRange(Merkle.rangeNodes(start: start, end: end).map { try Self.nodeHash($0, &tiles) })
    }

    func rangeHash(_ start: UInt64, _ end: UInt64, _ db: Database) throws -> Merkle.Hash {
        var tiles = proofTiles(db)
        return try Self.rangeHash(start, end, &tiles)
    }

    public func root(size: UInt64) throws -> Merkle.Hash {
        guard size > 0 else { return Merkle.emptyRoot }
        return try wrap("computing a root") { try db.read { try rangeHash(0, size, $0) } }
    }

    public func inclusionProof(seq: UInt64, size: UInt64) throws -> [Merkle.Hash] {
        try inclusionProofs(seqs: [seq], size: size)[0]
    }

    /// Inclusion proofs for several entries in the same tree, in one read transaction (a batch's receipts).
    public func inclusionProofs(seqs: [UInt64], size: UInt64) throws -> [[Merkle.Hash]] {
        if let seq = seqs.first(where: { $0 >= size }) {
            throw StoreError(.badArgument, "seq \(seq) is not below the tree size \(size)")
        }
        return try wrap("building inclusion proofs") {
            try db.read { db in
                var tiles = proofTiles(db)
                return try seqs.map { seq in
                    try Merkle.inclusionProofRanges(index: seq, size: size).map {
                        try Self.rangeHash($0.start, $0.end, &tiles)
                    }
                }
            }
        }
    }

    /// The hashes of the consistency proof from `old` to `new` (0 < old ≤ new), read through `tiles`.
    public static func consistencyHashes(
        from old: UInt64, to new: UInt64, _ tiles: inout TileHashReader
    ) throws -> [Merkle.Hash] {
        try Merkle.consistencyProofRanges(from: old, to: new).map { try rangeHash($0.start, $0.end, &tiles) }
    }

    /// What a consistency answer needs, from one snapshot: the checkpoint of `size` (default: the latest),
    /// the root of the tree at `old`, and the proof between them.
    public func consistency(
        from old: UInt64, toCheckpoint size: UInt64? = nil
    ) throws -> (checkpoint: SignedCheckpoint, oldRoot: Merkle.Hash, proof: [Merkle.Hash]) {
        try wrap("building a consistency proof") {
            try db.read { db in
                let checkpoint = try checkpoint(size: size, db)
                let new = checkpoint.checkpoint.size
                guard 0 < old, old <= new else {
                    throw StoreError(.badArgument, "must be between 1 and the new size \(new), got \(old)")
                }
                var tiles = proofTiles(db)
                let proof = try Self.consistencyHashes(from: old, to: new, &tiles)
                return (checkpoint, try Self.rangeHash(0, old, &tiles), proof)
            }
        }
    }

    public func consistencyProof(from old: UInt64, to new: UInt64) throws -> [Merkle.Hash] {
        guard 0 < old, old <= new else {
            throw StoreError(.badArgument, "a consistency proof needs 0 < OLD ≤ NEW, got \(old) and \(new)")
        }
        guard old < new else { return [] }
        return try wrap("building a consistency proof") {
            try db.read { db in
                var tiles = proofTiles(db)
                return try Self.consistencyHashes(from: old, to: new, &tiles)
            }
        }
    }

    /// The first signed checkpoint whose tree holds entry `seq`.
    static func firstCheckpoint(covering seq: UInt64, _ db: Database) throws -> SignedCheckpoint {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT size, note FROM checkpoints WHERE size > ? ORDER BY size LIMIT 1",
                arguments: [Int64(clamping: seq)])
        else {
            throw StoreError(.inconsistent, "no checkpoint covers entry \(seq); run `probity verify`")
        }
        do { return try SignedCheckpoint(parsing: row["note"]) } catch {
            throw StoreError(
                .inconsistent,
                "the stored checkpoint of size \(row["size"] as Int64) is malformed (\(error)); run `probity verify`")
        }
    }

    /// The receipt an entry got when it was appended: proven against the first checkpoint covering it.
    /// `tiles` is shared by the receipts of one transaction (a batch of duplicates reads each tile once).
    func originalReceipt(seq: UInt64, _ tiles: inout TileHashReader, _ db: Database) throws -> LogWriter.Receipt {
        try Self.receipt(seq: seq, against: try Self.firstCheckpoint(covering: seq, db), &tiles, duplicate: true)
    }

    /// Entry `seq`'s leaf hash and inclusion proof against `checkpoint`, both from the tiles: the proof
    /// reads the leaf's tile anyway, so the leaf hash costs no read of the entry.
    public static func receipt(
        seq: UInt64, against checkpoint: SignedCheckpoint, _ tiles: inout TileHashReader, duplicate: Bool
    ) throws -> LogWriter.Receipt {
        let proof = try Merkle.inclusionProofRanges(index: seq, size: checkpoint.checkpoint.size).map {
            try rangeHash($0.start, $0.end, &tiles)
        }
        return LogWriter.Receipt(
            seq: seq, leafHash: try nodeHash(Merkle.Node(level: 0, index: seq), &tiles),
            proof: TlogProof(index: seq, proof: proof, checkpoint: checkpoint), duplicate: duplicate)
    }

    /// Entry `seq`'s receipt against the checkpoint of `size` (default: the latest): its leaf hash and its
    /// `.tlog-proof`, read in one transaction.
    public func receipt(seq: UInt64, size: UInt64? = nil) throws -> LogWriter.Receipt {
        try wrap("building an inclusion proof") {
            try db.read { db in
                let checkpoint = try checkpoint(size: size, db)
                let treeSize = checkpoint.checkpoint.size
                guard seq < treeSize else {
                    throw StoreError(.badArgument, "seq \(seq) is not in the checkpoint of size \(treeSize)")
                }
                var tiles = proofTiles(db)
                return try Self.receipt(seq: seq, against: checkpoint, &tiles, duplicate: false)
            }
        }
    }

    /// A `.tlog-proof` for `seq` against the checkpoint of `size` (default: the latest).
    public func tlogProof(seq: UInt64, size: UInt64? = nil) throws -> TlogProof {
        try receipt(seq: seq, size: size).proof
    }
}

extension LogReader {
    public struct KeyLink: Sendable {
        public let seq: UInt64
        public let type: String
        public let verifierKey: String
        public let time: String

        /// The key an entry of the key chain (`log.created`, `key.rotated`) carries; nil if it carries none.
        public init?(entryBytes: [UInt8]) {
            guard let entry = try? Entry(bytes: entryBytes), let key = entry.data["verifier_key"]?.stringValue
            else { return nil }
            (seq, type, verifierKey, time) = (entry.seq, entry.type, key, entry.time.description)
        }
    }

    /// The entries that carry keys, in order (read through the type index; `verify` checks them all).
    public func keyChain() throws -> [KeyLink] {
        try wrap("reading the key chain") {
            try db.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT seq, bytes FROM entries WHERE type IN ('log.created', 'key.rotated') ORDER BY seq"
                ).compactMap { KeyLink(entryBytes: [UInt8]($0["bytes"] as Data)) }
            }
        }
    }
}

// MARK: Evidence bundles
extension LogReader {
    public typealias StreamPosition = (seq: UInt64, leafHash: Merkle.Hash)

    /// The latest checkpoint and the current heads of `streams`, read in one transaction. Every commit
    /// signs a checkpoint, so a head read with the checkpoint is the stream's last entry at its size.
    public func checkpointAndStreamHeads(_ streams: [String]) throws -> (SignedCheckpoint, [String: StreamPosition]) {
        let (note, heads) = try wrap("reading the checkpoint and stream heads") {
            try db.read { db -> (String?, [String: StreamPosition]) in
                let note = try String.fetchOne(db, sql: "SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1")
                var heads: [String: StreamPosition] = [:]
                for stream in streams {
                    if let row = try Row.fetchOne(
                        db, sql: "SELECT seq, leaf_hash FROM streams WHERE stream = ?", arguments: [stream])
                    {
                        heads[stream] = (
                            UInt64(clamping: row["seq"] as Int64),
                            try SHA256Digest(stored: row["leaf_hash"] as Data, "the head of stream \(stream)")
                        )
                    }
                }
                return (note, heads)
            }
        }
        guard let note else { throw StoreError(.notFound, "the store has no checkpoint yet") }
        do { return (try SignedCheckpoint(parsing: note), heads) } catch {
            throw StoreError(.inconsistent, "the stored checkpoint is malformed (\(error)); run `probity verify`")
        }
    }

    /// The latest checkpoint's size and `stream`'s head then (nil for a stream without entries), read
    /// together: what a stream-head note states.
    public func streamPosition(_ stream: String) throws -> (treeSize: UInt64, head: StreamPosition?) {
        try wrap("reading a stream head") {
            try db.read { db in
                let size = UInt64(try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(size), 0) FROM checkpoints") ?? 0)
                let head = try Row.fetchOne(
                    db, sql: "SELECT seq, leaf_hash FROM streams WHERE stream = ?", arguments: [stream]
                ).map {
                    (
                        seq: UInt64($0["seq"] as Int64),
                        leafHash: try SHA256Digest(stored: $0["leaf_hash"] as Data, "the head of stream \(stream)")
                    )
                }
                return (size, head)
            }
        }
    }

    /// The stream-head note for `stream` at `position`, signed with the log key.
    public static func signedStreamHead(
        _ stream: String, at position: (treeSize: UInt64, head: StreamPosition?), origin: String, signer: NoteSigner
    ) throws -> SignedNote {
        try StreamHead(
            origin: origin, treeSize: position.treeSize, stream: stream, lastSeq: position.head?.seq,
            lastLeafHash: position.head?.leafHash ?? Entry.zeroHash
        ).sign(with: signer)
    }

    /// The first signed checkpoint whose tree holds entry `seq`.
    public func firstCheckpoint(covering seq: UInt64) throws -> SignedCheckpoint {
        try wrap("reading a checkpoint") { try db.read { try Self.firstCheckpoint(covering: seq, $0) } }
    }

    /// The `checkpoint.timestamped` entries below `size`: their seq and the tree size they date, in order.
    public func timestampEntries(below size: UInt64) throws -> [(seq: UInt64, treeSize: UInt64)] {
        try wrap("reading the timestamps") {
            try db.read { db in
                try Row.fetchAll(
                    db,
                    sql:
                        "SELECT seq, bytes FROM entries WHERE type = 'checkpoint.timestamped' AND seq < ? ORDER BY seq",
                    arguments: [Int64(clamping: size)]
                ).compactMap { row in
                    Self.timestamp(
                        seq: UInt64(clamping: row["seq"] as Int64), entryBytes: [UInt8](row["bytes"] as Data))
                }
            }
        }
    }

    /// A `checkpoint.timestamped` entry's seq and the tree size it dates; nil if it names none.
    public static func timestamp(seq: UInt64, entryBytes: [UInt8]) -> (seq: UInt64, treeSize: UInt64)? {
        guard let size = (try? Entry(bytes: entryBytes))?.data["tree_size"]?.uint64Value else { return nil }
        return (seq, size)
    }

    /// The seqs below `size` of the entries the log appended in [from, to): a contiguous range, since the
    /// log's time never decreases along seq — found by binary search, O(log n) point reads.
    public func seqRange(appendedFrom from: Timestamp, to: Timestamp, below size: UInt64) throws -> Range<UInt64> {
        try wrap("finding the entries of a period") {
            try db.read { db in
                let statement = try db.cachedStatement(sql: "SELECT time FROM entries WHERE seq = ?")
                return try Self.seqRange(appendedFrom: from, to: to, below: size) {
                    try String.fetchOne(statement, arguments: [Int64(clamping: $0)])
                }
            }
        }
    }

    /// The same search over any store: `time` reads the logged time of one seq (nil if it is missing).
    public static func seqRange(
        appendedFrom from: Timestamp, to: Timestamp, below size: UInt64, time: (UInt64) throws -> String?
    ) throws -> Range<UInt64> {
        func firstSeq(atOrAfter wanted: Timestamp) throws -> UInt64 {
            let wanted = wanted.description
            var low: UInt64 = 0, high = size
            while low < high {
                let middle = low + (high - low) / 2
                guard let logged = try time(middle) else {
                    throw StoreError(.inconsistent, "entry \(middle) is missing; run `probity verify`")
                }
                if logged < wanted { low = middle + 1 } else { high = middle }
            }
            return low
        }
        let first = try firstSeq(atOrAfter: from)
        return first..<max(first, try firstSeq(atOrAfter: to))
    }
}

// MARK: Retention
extension LogReader {
    /// The seqs of the entries whose payload is still stored (not redacted).
    public func payloadSeqs() throws -> [UInt64] {
        try wrap("listing payloads") {
            try db.read { try Int64.fetchAll($0, sql: "SELECT seq FROM payloads ORDER BY seq").map(UInt64.init) }
        }
    }
}
