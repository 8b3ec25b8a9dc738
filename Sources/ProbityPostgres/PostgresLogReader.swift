import NIOCore
import PostgresNIO
public import ProbityLog
public import ProbityStore

/// Reads of a PostgreSQL store (the primary or a streaming standby): checkpoints and receipts, each in
/// one REPEATABLE READ snapshot, so that a checkpoint and the tiles proving against it agree.
public final class PostgresLogReader: @unchecked Sendable {
    public let location: PostgresLocation
    public let origin: String
    let session: PostgresSession

    public init(location: PostgresLocation) throws {
        session = try PostgresSession.connect(location)
        self.location = location
        origin = try PostgresStore.meta(session)["origin"]!
    }

    public func size() throws -> UInt64 { try PostgresStore.size(session) }

    public func meta(_ key: String) throws -> String? { try PostgresStore.meta(session)[key] }

    /// The latest checkpoint, or the one of exactly `size` leaves.
    public func checkpoint(size: UInt64? = nil) throws -> SignedCheckpoint {
        try snapshot { try checkpoint(size: size, in: session) }
    }

    /// Entry `seq`'s leaf hash and `.tlog-proof` against the checkpoint of `size` (default: the latest).
    public func receipt(seq: UInt64, size: UInt64? = nil) throws -> LogWriter.Receipt {
        try snapshot {
            let checkpoint = try checkpoint(size: size, in: session)
            guard seq < checkpoint.checkpoint.size else {
                throw StoreError(
                    .badArgument, "seq \(seq) is not in the checkpoint of size \(checkpoint.checkpoint.size)")
            }
            let session = session
            var tiles = TileHashReader { try PostgresStore.tile($0, session) }
            return try LogReader.receipt(seq: seq, against: checkpoint, &tiles, duplicate: false)
        }
    }

    /// The RFC 6962 consistency proof from tree size `old` to `new` (0 < old ≤ new ≤ size), with both roots.
    public func consistency(
        from old: UInt64, to new: UInt64
    ) throws -> (
        oldRoot: Merkle.Hash, newRoot: Merkle.Hash, proof: [Merkle.Hash]
    ) {
        try snapshot {
            let size = try PostgresStore.size(session)
            guard 0 < old, old <= new, new <= size else {
                throw StoreError(
                    .badArgument,
                    "a consistency proof needs 0 < OLD ≤ NEW ≤ \(size) (the log's size), got \(old) and \(new)")
            }
            let session = session
            var tiles = TileHashReader { try PostgresStore.tile($0, session) }
            let proof = old == new ? [] : try LogReader.consistencyHashes(from: old, to: new, &tiles)
            return (try LogReader.rangeHash(0, old, &tiles), try LogReader.rangeHash(0, new, &tiles), proof)
        }
    }

    /// What a consistency answer needs, from one snapshot: the checkpoint of `size` (default: the latest),
    /// the root of the tree at `old`, and the proof between them (as `LogReader.consistency`).
    public func consistency(
        from old: UInt64, toCheckpoint size: UInt64?
    ) throws -> (checkpoint: SignedCheckpoint, oldRoot: Merkle.Hash, proof: [Merkle.Hash]) {
        try snapshot {
            let checkpoint = try checkpoint(size: size, in: session)
            let new = checkpoint.checkpoint.size
            guard 0 < old, old <= new else {
                throw StoreError(.badArgument, "must be between 1 and the new size \(new), got \(old)")
            }
            let session = session
            var tiles = TileHashReader { try PostgresStore.tile($0, session) }
            let proof = try LogReader.consistencyHashes(from: old, to: new, &tiles)
            return (checkpoint, try LogReader.rangeHash(0, old, &tiles), proof)
        }
    }

    /// Entry `seq` with its payload (nil once redacted), or nil.
    public func entry(seq: UInt64) throws -> LogReader.StoredEntry? {
        try storedEntries(
            "SELECT e.seq, e.bytes, e.leaf_hash, p.salt, p.bytes FROM entries e LEFT JOIN payloads p ON p.seq = e.seq WHERE e.seq = \(Int64(clamping: seq))"
        ).first
    }

    /// Up to `limit` entries from seq `first` on, in order.
    public func entries(from first: UInt64, limit: Int) throws -> [LogReader.StoredEntry] {
        try storedEntries(
            "SELECT e.seq, e.bytes, e.leaf_hash, p.salt, p.bytes FROM entries e LEFT JOIN payloads p ON p.seq = e.seq WHERE e.seq >= \(Int64(clamping: first)) ORDER BY e.seq LIMIT \(limit)"
        )
    }

    /// The rows of `query` (seq, bytes, leaf hash, salt, payload) as stored entries.
    func storedEntries(_ query: PostgresQuery) throws -> [LogReader.StoredEntry] {
        try session.rows(query) { row in
            try row.decode((Int64, ByteBuffer, ByteBuffer, ByteBuffer?, ByteBuffer?).self)
        }.map { (seq: Int64, bytes: ByteBuffer, leaf: ByteBuffer, salt: ByteBuffer?, payload: ByteBuffer?) in
            let seq = UInt64(clamping: seq)
            var stored: (salt: [UInt8], bytes: [UInt8])?
            if let salt, let payload { stored = (Array(buffer: salt), Array(buffer: payload)) }
            return LogReader.StoredEntry(
                seq: seq, bytes: Array(buffer: bytes),
                leafHash: try digest(Array(buffer: leaf), "the stored leaf hash of seq \(seq)"), payload: stored)
        }
    }

    /// A signed stream-head note for `stream` at the latest checkpoint's size (signing needs no lead: it
    /// writes nothing).
    public func streamHead(_ stream: String, signer: NoteSigner) throws -> SignedNote {
        try LogReader.signedStreamHead(stream, at: streamPosition(stream), origin: origin, signer: signer)
    }

    /// The latest checkpoint's size and `stream`'s head then, read in one snapshot.
    public func streamPosition(_ stream: String) throws -> (treeSize: UInt64, head: LogReader.StreamPosition?) {
        try snapshot {
            let size = try session.rows("SELECT COALESCE(max(size), 0) FROM checkpoints") { try $0.decode(Int64.self) }
            let head = try session.rows("SELECT seq, leaf_hash FROM streams WHERE stream = \(stream)") { row in
                let (seq, leaf) = try row.decode((Int64, ByteBuffer).self)
                return (UInt64(clamping: seq), Array(buffer: leaf))
            }.first
            return (
                UInt64(clamping: size.first ?? 0),
                try head.map { (seq: $0.0, leafHash: try digest($0.1, "the head of stream \(stream)")) }
            )
        }
    }

    func checkpoint(size: UInt64?, in session: PostgresSession) throws -> SignedCheckpoint {
        let query: PostgresQuery =
            if let size { "SELECT note FROM checkpoints WHERE size = \(Int64(clamping: size))" } else {
                "SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1"
            }
        guard let note = try session.rows(query, { try $0.decode(String.self) }).first else {
            throw StoreError(
                .notFound,
                size.map { "no checkpoint of size \($0) (checkpoints are signed once per committed batch)" }
                    ?? "the store has no checkpoint yet")
        }
        return try PostgresStore.checkpoint(parsing: note)
    }

    func snapshot<T>(_ body: () throws -> T) throws -> T {
        try session.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        defer { try? session.execute("ROLLBACK") }
        return try body()
    }

    /// What Probity did not create in the database: triggers or rules on its tables (they could rewrite
    /// what the writer inserts), views and other tables in its schema. `verify` reports each as a failure.
    public func foreignObjects() throws -> [String] {
        let ours = StoreTable.all.map(\.name) + ["leader"]
        var found: [String] = []
        found += try session.rows(
            "SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal"
        ) { row in
            let (name, table) = try row.decode((String, String).self); return "a trigger \"\(name)\" on \(table)"
        }
        found += try session.rows(
            "SELECT rulename, tablename FROM pg_rules WHERE schemaname = 'public'"
        ) { row in
            let (name, table) = try row.decode((String, String).self); return "a rule \"\(name)\" on \(table)"
        }
        found += try session.rows(
            "SELECT c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'm', 'p', 'f')"
        ) { row in try row.decode((String, String).self) }.filter { !ours.contains($0.0) }.map {
            "a \($0.1 == "v" ? "view" : $0.1 == "m" ? "materialized view" : "table") \"\($0.0)\""
        }
        return found
    }
}
