import NIOCore
import PostgresNIO
public import ProbityDomain
import ProbityLog
public import ProbityStore

extension PostgresLogReader {
    /// `probity replay` on a PostgreSQL store (the primary or a standby): the same checks and projections
    /// as on a file (`Replay.run`), the entries read page by page in one REPEATABLE READ snapshot.
    public func replay(
        until limit: ReplayLimit? = nil, progress: ((UInt64, UInt64) -> Void)? = nil
    ) throws -> ReplayReport {
        try snapshot {
            var next: UInt64 = 0
            let session = session
            return try Replay.run(
                total: try PostgresStore.size(session), until: limit, progress: progress,
                nextRows: { count in
                    let rows = try entryRows(from: next, limit: count)
                    if let last = rows.last { next = last.seq + 1 }
                    return rows
                },
                storedProjection: {
                    let types = try session.rows("SELECT type, entries FROM type_counts") {
                        try $0.decode((String, Int64).self)
                    }
                    let streams = try session.rows("SELECT stream, entries FROM streams") {
                        try $0.decode((String, Int64).self)
                    }
                    return CountsProjection(
                        typeCounts: Dictionary(uniqueKeysWithValues: types.map { ($0.0, Int($0.1)) }),
                        streamCounts: Dictionary(uniqueKeysWithValues: streams.map { ($0.0, Int($0.1)) }))
                })
        }
    }

    /// The procurement projections after the last entry: the snapshot `probity replay` saved, brought up to
    /// date; without one, rebuilt from the entries, refused if the chain breaks on the way (as `probity
    /// verify` would report).
    public func domainState() throws -> DomainState {
        if var state = try savedSnapshot() {
            try update(&state)
            return state
        }
        let report = try replay()
        if let failure = report.failure {
            throw StoreError(
                .inconsistent,
                "the log cannot be replayed past seq \(failure.seq) (\(failure.message)); run `probity verify`")
        }
        return report.domain
    }

    /// Brings `state` (an earlier result of `domainState`) up to date with the entries appended since.
    public func update(_ state: inout DomainState) throws {
        var next = state.lastSeq.map { $0 + 1 } ?? 0
        while true {
            let rows = try entryRows(from: next, limit: 10_000)
            try DomainProjection.apply(rows, to: &state)
            guard rows.count == 10_000, let last = rows.last else { return }
            next = last.seq + 1
        }
    }

    /// Up to `limit` entries' seqs and bytes from seq `first` on, in order.
    func entryRows(from first: UInt64, limit: Int) throws -> [(seq: UInt64, bytes: [UInt8])] {
        try session.rows(
            "SELECT seq, bytes FROM entries WHERE seq >= \(Int64(clamping: first)) ORDER BY seq LIMIT \(limit)"
        ) { row in
            let (seq, bytes) = try row.decode((Int64, ByteBuffer).self)
            return (seq: UInt64(clamping: seq), bytes: Array(buffer: bytes))
        }
    }
}

extension PostgresLogReader {
    /// Checks `events` as the writer would if they were appended now, in one snapshot; appends nothing.
    /// Returns the first rejected event, or nil.
    public func checkReferences(_ events: [EventInput]) throws -> EventRejection? {
        try snapshot {
            try ReferencePlanner.check(
                events, stopAtFirstRejection: true,
                storedSeq: { source in
                    try session.rows(
                        "SELECT seq FROM sources WHERE platform = \(source.platform) AND id = \(source.id)"
                    ) {
                        UInt64(clamping: try $0.decode(Int64.self))
                    }.first
                },
                storedFact: { kind, id in
                    try session.rows("SELECT detail FROM refs WHERE kind = \(kind.rawValue) AND id = \(id)") {
                        try $0.decode(String.self)
                    }.first
                }
            ).rejections.first
        }
    }
}

extension PostgresLogReader {
    /// The projections' snapshot in the store, if one fits the log (read piece by piece).
    func savedSnapshot() throws -> DomainState? {
        let size = try PostgresStore.size(session)
        let name = DomainProjection.snapshotName
        var after = ""
        return DomainProjection.snapshot(size: size) {
            let piece = try? session.rows(
                """
                SELECT name, seq, state FROM projection_snapshots WHERE (name = \(name) OR name LIKE \(name + "#%"))
                AND name > \(after) ORDER BY name LIMIT 1
                """
            ) { row in
                let (name, seq, state) = try row.decode((String, Int64, ByteBuffer).self)
                return (name, seq, Array(buffer: state))
            }.first
            guard let (name, seq, bytes) = piece else { return nil }
            after = name
            return (seq, bytes)
        }
    }

    /// Saves `state` as the store's projections' snapshot (one transaction): a cache that `findings`,
    /// `timeline`, `export` and probityd start from. Needs the primary (a standby refuses writes).
    public func saveSnapshot(_ state: DomainState) throws {
        guard let last = state.lastSeq else { return }
        let name = DomainProjection.snapshotName
        try session.execute("BEGIN")
        do {
            try session.execute("DELETE FROM projection_snapshots WHERE name = \(name) OR name LIKE \(name + "#%")")
            var piece = 0
            try DomainSnapshot.encode(state, chunkSize: 1 << 20) { bytes in
                try session.execute(
                    """
                    INSERT INTO projection_snapshots (name, seq, state)
                    VALUES (\(DomainProjection.snapshotPiece(piece)), \(Int64(last)), \(ByteBuffer(bytes: bytes)))
                    """)
                piece += 1
            }
            try session.execute("COMMIT")
        } catch {
            try? session.execute("ROLLBACK")
            throw error
        }
    }
}
