import NIOCore
import PostgresNIO
public import ProbityLog
public import ProbityStore

/// What exports read (`EvidenceReads`), from a PostgreSQL store: the same rows as from a file, so an
/// export or bundle made from the primary or a standby holds the same bytes as one made from a copy.
extension PostgresLogReader: EvidenceReads {
    /// The entries of `seqs`, in that order (missing ones left out).
    public func entries(seqs: [UInt64]) throws -> [LogReader.StoredEntry] {
        guard !seqs.isEmpty else { return [] }
        let wanted = seqs.map { Int64(clamping: $0) }
        let found = try storedEntries(
            "SELECT e.seq, e.bytes, e.leaf_hash, p.salt, p.bytes FROM entries e LEFT JOIN payloads p ON p.seq = e.seq WHERE e.seq = ANY(\(wanted))"
        )
        // In the order asked, as from a file.
        let bySeq = Dictionary(found.map { ($0.seq, $0) }, uniquingKeysWith: { first, _ in first })
        return seqs.compactMap { bySeq[$0] }
    }

    public func checkpointAndStreamHeads(
        _ streams: [String]
    ) throws -> (SignedCheckpoint, [String: LogReader.StreamPosition]) {
        try snapshot {
            let checkpoint = try checkpoint(size: nil, in: session)
            var heads: [String: LogReader.StreamPosition] = [:]
            for (stream, seq, leaf) in try session.rows(
                "SELECT stream, seq, leaf_hash FROM streams WHERE stream = ANY(\(streams))",
                { row in
                    let (stream, seq, leaf) = try row.decode((String, Int64, ByteBuffer).self)
                    return (stream, UInt64(clamping: seq), Array(buffer: leaf))
                })
            {
                heads[stream] = (seq, try digest(leaf, "the head of stream \(stream)"))
            }
            return (checkpoint, heads)
        }
    }

    public func keyChain() throws -> [LogReader.KeyLink] {
        try session.rows("SELECT bytes FROM entries WHERE type IN ('log.created', 'key.rotated') ORDER BY seq") {
            Array(buffer: try $0.decode(ByteBuffer.self))
        }.compactMap { LogReader.KeyLink(entryBytes: $0) }
    }

    public func firstCheckpoint(covering seq: UInt64) throws -> SignedCheckpoint {
        try PostgresStore.firstCheckpoint(covering: seq, session)
    }

    public func timestampEntries(below size: UInt64) throws -> [(seq: UInt64, treeSize: UInt64)] {
        try session.rows(
            "SELECT seq, bytes FROM entries WHERE type = 'checkpoint.timestamped' AND seq < \(Int64(clamping: size)) ORDER BY seq"
        ) { row in
            let (seq, bytes) = try row.decode((Int64, ByteBuffer).self)
            return (UInt64(clamping: seq), Array(buffer: bytes))
        }.compactMap { LogReader.timestamp(seq: $0.0, entryBytes: $0.1) }
    }

    public func seqRange(appendedFrom from: Timestamp, to: Timestamp, below size: UInt64) throws -> Range<UInt64> {
        try snapshot {
            try LogReader.seqRange(appendedFrom: from, to: to, below: size) { seq in
                try session.rows("SELECT time FROM entries WHERE seq = \(Int64(clamping: seq))") {
                    try $0.decode(String.self)
                }.first
            }
        }
    }

    public func consistencyProof(from old: UInt64, to new: UInt64) throws -> [Merkle.Hash] {
        guard old != new else { return [] }
        return try consistency(from: old, to: new).proof
    }

    public func inclusionProofs(seqs: [UInt64], size: UInt64) throws -> [[Merkle.Hash]] {
        if let seq = seqs.first(where: { $0 >= size }) {
            throw StoreError(.badArgument, "seq \(seq) is not below the tree size \(size)")
        }
        return try snapshot {
            let session = session
            var tiles = TileHashReader { try PostgresStore.tile($0, session) }
            return try seqs.map { seq in
                try Merkle.inclusionProofRanges(index: seq, size: size).map {
                    try LogReader.rangeHash($0.start, $0.end, &tiles)
                }
            }
        }
    }

    public func payloadSeqs() throws -> [UInt64] {
        try session.rows("SELECT seq FROM payloads ORDER BY seq") { UInt64(clamping: try $0.decode(Int64.self)) }
    }
}

/// The C2SP tlog-tiles of a PostgreSQL store (a primary or a standby), as the SQLite store serves them.
extension PostgresLogReader {
    /// Hash tile `index` of level `level`, full or its first `width` hashes; nil when the tree has none yet.
    public func servedTile(level: Int, index: UInt64, width: Int?) throws -> [UInt8]? {
        LogReader.servedTile(
            stored: try PostgresStore.tile(Tiles.ID(level: level, index: index), session), width: width)
    }

    /// The entries under leaf tile `index` as an entry bundle; nil when the log does not hold them all yet.
    public func entryBundle(index: UInt64, width: Int?) throws -> [UInt8]? {
        try LogReader.entryBundle(index, width: width) { first, end, add in
            for (seq, bytes) in try entryRows(from: first, limit: Int(end - first)) { try add(seq, bytes) }
        }
    }
}

/// What the web console's dashboard reads besides the projections and the evidence.
extension PostgresLogReader {
    /// When the checkpoint of `size` was signed (the log's time of its batch).
    public func checkpointTime(size: UInt64) throws -> String? {
        try session.rows("SELECT time FROM checkpoints WHERE size = \(Int64(clamping: size))") {
            try $0.decode(String.self)
        }.first
    }

    /// The last `probity verify` recorded in the store, if any.
    public func lastVerification() throws -> VerificationRecord? {
        try session.rows(
            "SELECT time, size, intact, failures, trust FROM verifications ORDER BY time DESC LIMIT 1"
        ) { try $0.decode((String, Int64, Int64, Int64, String).self) }.first.map {
            time, size, intact, failures, trust in
            VerificationRecord(
                time: time, size: UInt64(clamping: size), intact: intact != 0, failures: Int(failures), trust: trust)
        }
    }

    /// Entry `seq`'s `.tlog-proof` against the checkpoint of `size` (default: the latest).
    public func tlogProof(seq: UInt64, size: UInt64? = nil) throws -> TlogProof {
        try receipt(seq: seq, size: size).proof
    }
}

extension VerificationRecord {
    /// Records this outcome in the PostgreSQL store for the console's dashboard; false if it cannot be
    /// written (a standby, a role without the right): the record is a convenience, never a failure.
    @discardableResult
    public func record(in location: PostgresLocation) -> Bool {
        guard let session = try? PostgresSession.connect(location, applicationName: "probity verify") else {
            return false
        }
        return
            (try? session.execute(
                """
                INSERT INTO verifications (time, size, intact, failures, trust)
                VALUES (\(time), \(Int64(clamping: size)), \(intact ? Int64(1) : 0), \(Int64(failures)), \(trust))
                ON CONFLICT (time) DO UPDATE SET size = excluded.size, intact = excluded.intact,
                    failures = excluded.failures, trust = excluded.trust
                """)) != nil
    }
}
