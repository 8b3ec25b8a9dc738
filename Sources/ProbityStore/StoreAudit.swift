import Foundation
import GRDB
import ProbityDomain
import ProbityLog

/// What `verify` checks beyond the entries: every table the writer trusts must agree with them, or with
/// the schema Probity creates. The writer links new entries to the `streams` heads, counts into
/// `type_counts`, refuses references `refs` does not hold, answers duplicates from `sources`, and signs
/// stream heads from `streams`: a table rewound or edited behind its back would make it sign a lie.
enum StoreAudit {
    typealias Failure = LogVerifier.Failure

    /// Found while reading the entries: a row whose seq cannot be a log position.
    static func negativeSeq(_ seq: Int64) -> Failure {
        Failure(
            kind: .sequence, seq: 0,
            message: "a stored entry has seq \(seq); seqs start at 0: the row was inserted or changed")
    }

    /// What the per-entry workers derive from one row for the table checks.
    struct RowFacts: Sendable {
        /// The row's `type` or `time` column disagrees with its entry.
        var columnProblem: String?
        /// `digest(platform, id, seq)` of an `exchange.recorded` with a source.
        var sourceDigest: UInt64?
        var facts: [ReferenceLedger.Fact] = []
        var hasPayload = false
    }

    /// `bytes` are the entry `entry` was checked from; `type` and `time` the row's columns.
    static func rowFacts(
        _ entry: CheckedEntry, bytes: UnsafeBufferPointer<UInt8>, type: UnsafeBufferPointer<UInt8>,
        time: UnsafeBufferPointer<UInt8>, hasPayload: Bool
    ) -> RowFacts {
        var row = RowFacts(hasPayload: hasPayload)
        guard case .success(let header) = entry.entry else { return row }
        if !header.type.utf8.elementsEqual(type) {
            row.columnProblem =
                "the stored type \"\(String(decoding: type, as: UTF8.self))\" is not the entry's type \"\(header.type)\""
        } else if Timestamp(entryTime: time) != header.time {
            row.columnProblem = "the stored time \"\(String(decoding: time, as: UTF8.self))\" is not the entry's time"
        }
        if header.type == DomainEventType.exchangeRecorded,
            let source = EventFields.source("source", of: header, in: bytes)
        {
            row.sourceDigest = digest(source.platform, source.id, Int64(clamping: entry.position))
        }
        row.facts = ReferenceLedger.facts(type: header.type) { EventFields.string($0, of: header, in: bytes) }
        return row
    }

    /// A keyed digest of a `sources` row, as bytes (so that a row rewritten in another Unicode form differs).
    /// Sums of these compare the table with the entries in one pass and constant memory: `Hasher` is seeded
    /// at random in each process, so whoever edits the store cannot aim at an equal sum.
    static func digest(_ platform: String, _ id: String, _ seq: Int64) -> UInt64 {
        var hasher = Hasher()
        for var part in [platform, id] {
            part.withUTF8 { utf8 in
                hasher.combine(utf8.count)
                hasher.combine(bytes: UnsafeRawBufferPointer(utf8))
            }
        }
        hasher.combine(seq)
        return UInt64(bitPattern: Int64(hasher.finalize()))
    }

    /// What the sequential stage adds up over all rows.
    struct Tally {
        var sourceSum: UInt64 = 0
        var sources = 0
        var payloads = 0
        /// The latest fact of each (kind, id), as `refs` must hold it.
        var facts: [String: (kind: String, id: String, detail: String, seq: Int64)] = [:]

        mutating func add(_ row: RowFacts, seq: UInt64) {
            if let digest = row.sourceDigest { sourceSum &+= digest; sources += 1 }
            if row.hasPayload { payloads += 1 }
            for fact in row.facts {
                facts[fact.kind.rawValue + "\u{0}" + fact.id] = (
                    fact.kind.rawValue, fact.id, fact.detail, Int64(clamping: seq)
                )
            }
        }
    }

    /// The checks of the other tables, after the entries were scanned into `verifier` and `tally`.
    static func failures(_ tables: some AuditTables, verifier: LogVerifier, tally: Tally) throws -> [Failure] {
        var found: [Failure] = []
        func fail(_ seq: UInt64, _ message: String) {
            found.append(Failure(kind: .derivedTable, seq: seq, message: message))
        }
        try tables.schemaFailures(fail)
        try checkpoints(tables, fail)
        try payloads(tables, tally: tally, fail)
        try tiles(tables, size: verifier.size, fail)
        try streams(tables, verifier: verifier, fail)
        try typeCounts(tables, verifier: verifier, fail)
        try references(tables, tally: tally, fail)
        try sources(tables, tally: tally, fail)
        if let current = try tables.meta("current_vkey"), let last = verifier.keys.last?.verifier.description,
            current != last
        {
            fail(
                verifier.size == 0 ? 0 : verifier.size - 1,
                "the store's current key (meta current_vkey) is not the last key of the log's key chain")
        }
        return found
    }

    private static func checkpoints(_ tables: some AuditTables, _ fail: (UInt64, String) -> Void) throws {
        for (size, note) in try tables.checkpointRows() {
            guard size > 0 else { fail(0, "a stored checkpoint row has size \(size)"); continue }
            if let checkpoint = try? SignedCheckpoint(parsing: note), checkpoint.checkpoint.size != UInt64(size) {
                fail(
                    UInt64(size) - 1,
                    "the checkpoint row of size \(size) holds a checkpoint of size \(checkpoint.checkpoint.size)")
            }
        }
    }

    /// The scan compared every tile the entries give; here no other tile may be stored (a tile beyond the
    /// tree would be served, and proofs read, as if the log held more).
    private static func tiles(_ tables: some AuditTables, size: UInt64, _ fail: (UInt64, String) -> Void) throws {
        let layout = Tiles.layout(size: size)
        for (level, count, last) in try tables.tileSummary() {
            let expected = level < layout.count ? layout[level] : nil
            let expectedCount = expected.map { Int64($0.fullTiles) + ($0.partialWidth > 0 ? 1 : 0) } ?? 0
            if count != expectedCount || last >= expectedCount {
                fail(
                    size == 0 ? 0 : size - 1,
                    "the store holds \(count) Merkle tiles of level \(level) (up to index \(last)); its \(size) entries give \(expectedCount)"
                )
            }
        }
    }

    /// Every payload row was met beside its entry in the scan, unless some belong to no entry (named then).
    private static func payloads(_ tables: some AuditTables, tally: Tally, _ fail: (UInt64, String) -> Void) throws {
        guard try tables.payloadCount() != tally.payloads else { return }
        let orphans = try tables.orphanPayloads(limit: 6)
        if !orphans.isEmpty {
            fail(
                UInt64(clamping: orphans[0]),
                "payloads are stored for seqs the log does not hold: \(orphans.prefix(5).map(String.init).joined(separator: ", "))\(orphans.count > 5 ? "…" : "")"
            )
        }
    }

    private static func streams(
        _ tables: some AuditTables, verifier: LogVerifier, _ fail: (UInt64, String) -> Void
    )
        throws
    {
        var seen = Set<String>()
        for (stream, seq, hash, count) in try tables.streamRows() {
            seen.insert(stream)
            guard let head = verifier.streamHeads[stream] else {
                fail(0, "the streams table has \(stream), which no entry belongs to")
                continue
            }
            if seq != Int64(clamping: head.seq) || SHA256Digest(hash) != head.hash {
                fail(
                    head.seq,
                    "the streams table says \(stream) ends at seq \(seq), but its last entry is seq \(head.seq) (the table was rewound or edited)"
                )
            } else if count != head.count {
                fail(head.seq, "the streams table counts \(count) entries in \(stream); the entries give \(head.count)")
            }
        }
        for (stream, head) in verifier.streamHeads where !seen.contains(stream) {
            fail(head.seq, "the streams table lacks \(stream) (last entry seq \(head.seq))")
        }
    }

    private static func typeCounts(
        _ tables: some AuditTables, verifier: LogVerifier, _ fail: (UInt64, String) -> Void
    ) throws {
        var stored: [String: Int] = [:]
        for (type, entries) in try tables.typeCountRows() { stored[type] = entries }
        for type in Set(stored.keys).union(verifier.typeCounts.keys).sorted()
        where stored[type, default: 0] != verifier.typeCounts[type, default: 0] {
            fail(
                0,
                "type_counts says \(stored[type, default: 0]) entries of type \(type); the entries give \(verifier.typeCounts[type, default: 0])"
            )
        }
    }

    /// `refs` must be the latest fact of each (kind, id), as `ReferenceLedger.facts` derives them.
    private static func references(_ tables: some AuditTables, tally: Tally, _ fail: (UInt64, String) -> Void) throws {
        var unseen = tally.facts
        for (kind, id, detail, seq) in try tables.refRows() {
            let fact = unseen.removeValue(forKey: kind + "\u{0}" + id)
            if fact == nil || fact!.detail != detail || fact!.seq != seq {
                fail(
                    UInt64(clamping: seq),
                    "the refs table holds \(kind) \"\(id)\" (\(detail), seq \(seq)) as the entries do not")
            }
        }
        for fact in unseen.values.sorted(by: { $0.seq < $1.seq }).prefix(5) {
            fail(
                UInt64(clamping: fact.seq),
                "the refs table lacks \(fact.kind) \"\(fact.id)\" as seq \(fact.seq) gives it")
        }
    }

    /// `sources` must name, for each (platform, id) of an `exchange.recorded`, the first entry with it. The
    /// keyed sums of rows and exchanges are compared first (one pass each); only when they differ does the
    /// store look for the rows and exchanges concerned.
    private static func sources(_ tables: some AuditTables, tally: Tally, _ fail: (UInt64, String) -> Void) throws {
        var sum: UInt64 = 0, count = 0
        try tables.forEachSource { platform, id, seq in
            sum &+= digest(platform, id, seq)
            count += 1
        }
        guard sum != tally.sourceSum || count != tally.sources else { return }
        let (wrong, unlisted) = try tables.sourceMismatches(limit: 5)
        for (platform, id, seq) in wrong {
            fail(
                UInt64(clamping: seq),
                "the sources table says \(platform) \"\(id)\" is seq \(seq), whose entry is not that exchange")
        }
        for (seq, platform, id) in unlisted {
            fail(
                UInt64(clamping: seq),
                "the sources table lacks \(platform) \"\(id)\" of seq \(seq) (a re-sent exchange would be appended twice)"
            )
        }
        // Neither: the log holds an exchange twice, as logs written before sources were kept may (the table
        // names the first), which is what the writer expects.
    }
}

/// The tables besides the entries that verify audits, as a store gives them (in verify's snapshot).
public protocol AuditTables {
    /// What the store holds that Probity did not create (SQLite: its schema objects; PostgreSQL: triggers,
    /// rules, tables and views), each reported with `fail`.
    func schemaFailures(_ fail: (UInt64, String) -> Void) throws
    func checkpointRows() throws -> [(size: Int64, note: String)]
    /// Per tile level: how many tiles, and the largest index.
    func tileSummary() throws -> [(level: Int, count: Int64, last: Int64)]
    func payloadCount() throws -> Int
    /// Seqs of payload rows without an entry, in order.
    func orphanPayloads(limit: Int) throws -> [Int64]
    func streamRows() throws -> [(stream: String, seq: Int64, leafHash: [UInt8], entries: Int64)]
    func typeCountRows() throws -> [(type: String, entries: Int)]
    func refRows() throws -> [(kind: String, id: String, detail: String, seq: Int64)]
    func forEachSource(_ body: (String, String, Int64) -> Void) throws
    /// Sources rows whose entry is not that exchange, and exchanges no row lists (up to `limit` each).
    func sourceMismatches(
        limit: Int
    ) throws -> (
        wrong: [(platform: String, id: String, seq: Int64)], unlisted: [(seq: Int64, platform: String, id: String)]
    )
    func meta(_ key: String) throws -> String?
}

extension SQLiteVerifiable {
    /// Tables, indexes, triggers and views must be exactly those of Probity's migrations: a trigger
    /// could rewrite what the writer inserts, a view or index could change what readers see.
    func schemaFailures(_ fail: (UInt64, String) -> Void) throws {
        let query = "SELECT type, name, tbl_name, COALESCE(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        func objects(_ db: Database) throws -> Set<[String]> {
            Set(try Row.fetchAll(db, sql: query).map { row in (0..<4).map { row[$0] as String } })
        }
        let expectedDB = try DatabaseQueue()
        try Schema.migrator.migrate(expectedDB)
        let expected = try expectedDB.read(objects)
        let actual = try objects(db)
        let migrated = Set(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"))
        for object in actual.subtracting(expected).sorted(by: { $0[1] < $1[1] }) {
            fail(
                0,
                "the store has a \(object[0]) \"\(object[1])\" on \(object[2]) that Probity does not create (or changed): remove it and verify again"
            )
        }
        // Objects of a migration this store has not run yet are not missing (opening it for writing runs it).
        let pending = Set(Schema.migrator.migrations).subtracting(migrated)
        if pending.isEmpty {
            for object in expected.subtracting(actual).sorted(by: { $0[1] < $1[1] }) {
                fail(0, "the store lacks Probity's \(object[0]) \"\(object[1])\" (or it was changed)")
            }
        }
    }

    func checkpointRows() throws -> [(size: Int64, note: String)] {
        try Row.fetchAll(db, sql: "SELECT size, note FROM checkpoints ORDER BY size").map { ($0[0], $0[1]) }
    }

    func tileSummary() throws -> [(level: Int, count: Int64, last: Int64)] {
        try Row.fetchAll(db, sql: "SELECT level, COUNT(*), MAX(idx) FROM tiles GROUP BY level ORDER BY level").map {
            ($0[0], $0[1], $0[2])
        }
    }

    func payloadCount() throws -> Int { try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM payloads") ?? 0 }

    func orphanPayloads(limit: Int) throws -> [Int64] {
        try Int64.fetchAll(
            db, sql: "SELECT seq FROM payloads WHERE seq NOT IN (SELECT seq FROM entries) ORDER BY seq LIMIT ?",
            arguments: [limit])
    }

    func streamRows() throws -> [(stream: String, seq: Int64, leafHash: [UInt8], entries: Int64)] {
        try Row.fetchAll(db, sql: "SELECT stream, seq, leaf_hash, entries FROM streams ORDER BY stream").map {
            ($0[0], $0[1], [UInt8]($0[2] as Data), $0[3])
        }
    }

    func typeCountRows() throws -> [(type: String, entries: Int)] {
        try Row.fetchAll(db, sql: "SELECT type, entries FROM type_counts").map { ($0[0], $0[1]) }
    }

    func refRows() throws -> [(kind: String, id: String, detail: String, seq: Int64)] {
        try Row.fetchAll(db, sql: "SELECT kind, id, detail, seq FROM refs").map { ($0[0], $0[1], $0[2], $0[3]) }
    }

    func forEachSource(_ body: (String, String, Int64) -> Void) throws {
        let rows = try Row.fetchCursor(db, sql: "SELECT platform, id, seq FROM sources")
        while let row = try rows.next() { body(row[0], row[1], row[2]) }
    }

    func sourceMismatches(
        limit: Int
    ) throws -> (
        wrong: [(platform: String, id: String, seq: Int64)], unlisted: [(seq: Int64, platform: String, id: String)]
    ) {
        let json = "CASE WHEN json_valid(CAST(e.bytes AS TEXT)) THEN CAST(e.bytes AS TEXT) END"
        let wrong = try Row.fetchAll(
            db,
            sql: """
                SELECT s.platform, s.id, s.seq FROM sources s LEFT JOIN entries e ON e.seq = s.seq
                WHERE CASE WHEN e.seq IS NULL OR e.type != 'exchange.recorded' OR \(json) IS NULL THEN 1
                           ELSE json_extract(\(json), '$.data.source.platform') IS NOT s.platform OR json_extract(\(json), '$.data.source.id') IS NOT s.id END
                LIMIT ?
                """, arguments: [limit]
        ).map { (platform: $0[0] as String, id: $0[1] as String, seq: $0[2] as Int64) }
        let unlisted = try Row.fetchAll(
            db,
            sql: """
                SELECT seq, platform, id FROM (
                    SELECT e.seq, json_extract(\(json), '$.data.source.platform') AS platform, json_extract(\(json), '$.data.source.id') AS id
                    FROM entries e WHERE e.type = 'exchange.recorded') x
                WHERE typeof(platform) = 'text' AND typeof(id) = 'text'
                  AND NOT EXISTS (SELECT 1 FROM sources s WHERE s.platform = x.platform AND s.id = x.id AND s.seq <= x.seq) LIMIT ?
                """, arguments: [limit]
        ).map { (seq: $0[0] as Int64, platform: $0[1] as String, id: $0[2] as String) }
        return (wrong, unlisted)
    }

    func meta(_ key: String) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key])
    }
}
