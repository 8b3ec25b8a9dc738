import NIOCore
import PostgresNIO
import ProbityDomain
import ProbityLog
import ProbityStore

/// A stored 32-byte hash, or an error naming what it should have been.
func digest(_ bytes: [UInt8], _ what: String) throws -> Merkle.Hash {
    guard let hash = SHA256Digest(bytes) else {
        throw StoreError(.inconsistent, "\(what) is not 32 bytes; run `probity verify`")
    }
    return hash
}

/// A batch's rows, kept until the batch is complete and then sent in ONE statement (data-modifying CTEs,
/// one per table, the rows as arrays): a batch costs the same few round trips whatever its size.
final class PostgresRows: CommitRows {
    private let session: PostgresSession
    /// The stored seqs of the sources looked up for this batch, and which were looked up: a source the
    /// batch's events record is asked for once, in `prefetchSources`; one they only refer to (an edit, a
    /// tag, a disclosure's answers) is asked for when the planner needs it.
    private var known: [SourceKey: UInt64] = [:]
    private var prefetched = Set<SourceKey>()
    private var entries = (
        seq: [Int64](), bytes: [ByteBuffer](), leaf: [ByteBuffer](), type: [String](), time: [String]()
    )
    private var payloads = (seq: [Int64](), salt: [ByteBuffer](), bytes: [ByteBuffer]())
    private var newSources = (platform: [String](), id: [String](), seq: [Int64]())
    /// Last write wins: a partial tile is rewritten as it grows, a fact replaced by a later one.
    private var tiles: [Tiles.ID: [UInt8]] = [:]
    private var facts: [String: (kind: String, id: String, detail: String, seq: Int64)] = [:]
    private var streams = (stream: [String](), seq: [Int64](), leaf: [ByteBuffer](), added: [Int64]())
    private var types = (type: [String](), added: [Int64]())
    private var checkpoints = (size: [Int64](), note: [String](), time: [String]())

    init(_ session: PostgresSession) { self.session = session }

    func prefetchSources(of submissions: [LogWriter.Submission]) throws {
        known.removeAll(keepingCapacity: true)
        prefetched.removeAll(keepingCapacity: true)
        var platforms: [String] = [], ids: [String] = []
        for submission in submissions {
            for event in submission.events {
                guard let source = event.source else { continue }
                prefetched.insert(source)
                platforms.append(source.platform)
                ids.append(source.id)
            }
        }
        guard !platforms.isEmpty else { return }
        for (platform, id, seq) in try session.rows(
            """
            SELECT s.platform, s.id, s.seq FROM sources s JOIN unnest(\(platforms)::text[], \(ids)::text[]) AS w(platform, id)
            ON s.platform = w.platform AND s.id = w.id
            """,
            { try $0.decode((String, String, Int64).self) })
        {
            known[SourceKey(platform: platform, id: id)] = UInt64(seq)
        }
    }

    func storedSeq(of source: SourceKey) throws -> UInt64? {
        if prefetched.contains(source) { return known[source] }
        let seq = try session.rows(
            "SELECT seq FROM sources WHERE platform = \(source.platform) AND id = \(source.id)"
        ) { UInt64(clamping: try $0.decode(Int64.self)) }.first
        prefetched.insert(source)
        known[source] = seq
        return seq
    }

    func entry(seq: UInt64, bytes: [UInt8], leafHash: Merkle.Hash, type: String, time: String) throws {
        entries.seq.append(Int64(seq))
        entries.bytes.append(ByteBuffer(bytes: bytes))
        entries.leaf.append(ByteBuffer(bytes: leafHash))
        entries.type.append(type)
        entries.time.append(time)
    }

    func payload(seq: UInt64, salt: [UInt8], bytes: [UInt8]) throws {
        payloads.seq.append(Int64(seq))
        payloads.salt.append(ByteBuffer(bytes: salt))
        payloads.bytes.append(ByteBuffer(bytes: bytes))
    }

    func source(_ source: SourceKey, seq: UInt64) throws {
        newSources.platform.append(source.platform)
        newSources.id.append(source.id)
        newSources.seq.append(Int64(seq))
    }

    func tile(_ id: Tiles.ID, hashes: [UInt8]) throws { tiles[id] = hashes }

    func fact(_ fact: ReferenceLedger.Fact, seq: UInt64) throws {
        facts[fact.kind.rawValue + "\u{0}" + fact.id] = (fact.kind.rawValue, fact.id, fact.detail, Int64(seq))
    }

    func streamHead(_ stream: String, seq: UInt64, leafHash: Merkle.Hash, added: Int) throws {
        streams.stream.append(stream)
        streams.seq.append(Int64(seq))
        streams.leaf.append(ByteBuffer(bytes: leafHash))
        streams.added.append(Int64(added))
    }

    func typeCount(_ type: String, added: Int) throws {
        types.type.append(type)
        types.added.append(Int64(added))
    }

    func checkpoint(size: UInt64, note: String, time: String) throws {
        checkpoints.size.append(Int64(size))
        checkpoints.note.append(note)
        checkpoints.time.append(time)
    }

    func batchWritten() throws {
        defer { clear() }
        guard !entries.seq.isEmpty else { return }
        let tileIDs = Array(tiles.keys)
        let factRows = Array(facts.values)
        try session.send(
            """
            WITH e AS (INSERT INTO entries (seq, bytes, leaf_hash, type, time)
                SELECT * FROM unnest(\(entries.seq)::int8[], \(entries.bytes)::bytea[], \(entries.leaf)::bytea[], \(entries.type)::text[], \(entries.time)::text[])),
            p AS (INSERT INTO payloads (seq, salt, bytes)
                SELECT * FROM unnest(\(payloads.seq)::int8[], \(payloads.salt)::bytea[], \(payloads.bytes)::bytea[])),
            s AS (INSERT INTO sources (platform, id, seq)
                SELECT * FROM unnest(\(newSources.platform)::text[], \(newSources.id)::text[], \(newSources.seq)::int8[])),
            t AS (INSERT INTO tiles (level, idx, hashes)
                SELECT * FROM unnest(\(tileIDs.map { Int64($0.level) })::int8[], \(tileIDs.map { Int64($0.index) })::int8[], \(tileIDs.map { ByteBuffer(bytes: tiles[$0]!) })::bytea[])
                ON CONFLICT (level, idx) DO UPDATE SET hashes = excluded.hashes),
            r AS (INSERT INTO refs (kind, id, detail, seq)
                SELECT * FROM unnest(\(factRows.map(\.kind))::text[], \(factRows.map(\.id))::text[], \(factRows.map(\.detail))::text[], \(factRows.map(\.seq))::int8[])
                ON CONFLICT (kind, id) DO UPDATE SET detail = excluded.detail, seq = excluded.seq),
            h AS (INSERT INTO streams (stream, seq, leaf_hash, entries)
                SELECT * FROM unnest(\(streams.stream)::text[], \(streams.seq)::int8[], \(streams.leaf)::bytea[], \(streams.added)::int8[])
                ON CONFLICT (stream) DO UPDATE SET seq = excluded.seq, leaf_hash = excluded.leaf_hash, entries = streams.entries + excluded.entries),
            c AS (INSERT INTO type_counts (type, entries)
                SELECT * FROM unnest(\(types.type)::text[], \(types.added)::int8[])
                ON CONFLICT (type) DO UPDATE SET entries = type_counts.entries + excluded.entries)
            INSERT INTO checkpoints (size, note, time)
                SELECT * FROM unnest(\(checkpoints.size)::int8[], \(checkpoints.note)::text[], \(checkpoints.time)::text[])
            """)
    }

    private func clear() {
        entries = ([], [], [], [], [])
        payloads = ([], [], [])
        newSources = ([], [], [])
        tiles.removeAll(keepingCapacity: true)
        facts.removeAll(keepingCapacity: true)
        streams = ([], [], [], [])
        types = ([], [])
        checkpoints = ([], [], [])
    }

    func originalReceipt(seq: UInt64) throws -> LogWriter.Receipt {
        let session = session
        var tiles = TileHashReader { try PostgresStore.tile($0, session) }
        return try LogReader.receipt(
            seq: seq, against: try PostgresStore.firstCheckpoint(covering: seq, session), &tiles, duplicate: true)
    }
}
