import Foundation
import GRDB
import ProbityCore

/// What `verify` checks beyond the entries: every table the writer trusts must agree with them, or with
/// the schema Probity creates. The writer links new entries to the `streams` heads, counts into
/// `type_counts`, refuses references `refs` does not hold, answers duplicates from `sources`, and signs
/// stream heads from `streams`: a table rewound or edited behind its back would make it sign a lie.
enum StoreAudit {
    typealias Failure = LogVerifier.Failure

    /// Found while reading the entries: a row whose seq cannot be a log position.
    static func negativeSeq(_ seq: Int64) -> Failure {
        Failure(kind: .sequence, seq: 0, message: "a stored entry has seq \(seq); seqs start at 0: the row was inserted or changed")
    }

    /// A row's derived columns (`type`, `time`) against its entry, on the per-entry workers.
    static func columnProblem(_ entry: CheckedEntry, type: String, time: String) -> String? {
        guard case .success(let header) = entry.entry else { return nil }
        if header.type != type { return "the stored type \"\(type)\" is not the entry's type \"\(header.type)\"" }
        if Timestamp(entryTime: time) != header.time { return "the stored time \"\(time)\" is not the entry's time" }
        return nil
    }

    /// The checks of the other tables, after the entries were scanned into `verifier`.
    static func failures(_ db: Database, verifier: LogVerifier) throws -> [Failure] {
        var found: [Failure] = []
        func fail(_ seq: UInt64, _ message: String) { found.append(Failure(kind: .derivedTable, seq: seq, message: message)) }
        try schema(db, fail)
        try checkpoints(db, fail)
        try payloads(db, fail)
        try streams(db, verifier: verifier, fail)
        try typeCounts(db, verifier: verifier, fail)
        try references(db, fail)
        try sources(db, fail)
        if let current = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'current_vkey'"),
           let last = verifier.keys.last?.verifier.description, current != last {
            fail(verifier.size == 0 ? 0 : verifier.size - 1, "the store's current key (meta current_vkey) is not the last key of the log's key chain")
        }
        return found
    }

    /// Tables, indexes, triggers and views must be exactly those of Probity's migrations: a trigger
    /// could rewrite what the writer inserts, a view or index could change what readers see.
    private static func schema(_ db: Database, _ fail: (UInt64, String) -> Void) throws {
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
            fail(0, "the store has a \(object[0]) \"\(object[1])\" on \(object[2]) that Probity does not create (or changed): remove it and verify again")
        }
        // Objects of a migration this store has not run yet are not missing (opening it for writing runs it).
        let pending = Set(Schema.migrator.migrations).subtracting(migrated)
        if pending.isEmpty {
            for object in expected.subtracting(actual).sorted(by: { $0[1] < $1[1] }) {
                fail(0, "the store lacks Probity's \(object[0]) \"\(object[1])\" (or it was changed)")
            }
        }
    }

    private static func checkpoints(_ db: Database, _ fail: (UInt64, String) -> Void) throws {
        for row in try Row.fetchAll(db, sql: "SELECT size, note FROM checkpoints ORDER BY size") {
            let size: Int64 = row[0]
            guard size > 0 else { fail(0, "a stored checkpoint row has size \(size)"); continue }
            if let checkpoint = try? SignedCheckpoint(parsing: row[1]), checkpoint.checkpoint.size != UInt64(size) {
                fail(UInt64(size) - 1, "the checkpoint row of size \(size) holds a checkpoint of size \(checkpoint.checkpoint.size)")
            }
        }
    }

    private static func payloads(_ db: Database, _ fail: (UInt64, String) -> Void) throws {
        let orphans = try Int64.fetchAll(db, sql: "SELECT seq FROM payloads WHERE seq NOT IN (SELECT seq FROM entries) ORDER BY seq LIMIT 6")
        if !orphans.isEmpty {
            fail(UInt64(clamping: orphans[0]), "payloads are stored for seqs the log does not hold: \(orphans.prefix(5).map(String.init).joined(separator: ", "))\(orphans.count > 5 ? "…" : "")")
        }
    }

    private static func streams(_ db: Database, verifier: LogVerifier, _ fail: (UInt64, String) -> Void) throws {
        var seen = Set<String>()
        for row in try Row.fetchAll(db, sql: "SELECT stream, seq, leaf_hash, entries FROM streams ORDER BY stream") {
            let stream: String = row[0]
            seen.insert(stream)
            guard let head = verifier.streamHeads[stream] else {
                fail(0, "the streams table has \(stream), which no entry belongs to")
                continue
            }
            let (seq, hash, count): (Int64, Data, Int64) = (row[1], row[2], row[3])
            if seq != Int64(clamping: head.seq) || [UInt8](hash) != head.hash {
                fail(head.seq, "the streams table says \(stream) ends at seq \(seq), but its last entry is seq \(head.seq) (the table was rewound or edited)")
            } else if count != verifier.streamCounts[stream, default: 0] {
                fail(head.seq, "the streams table counts \(count) entries in \(stream); the entries give \(verifier.streamCounts[stream, default: 0])")
            }
        }
        for (stream, head) in verifier.streamHeads where !seen.contains(stream) {
            fail(head.seq, "the streams table lacks \(stream) (last entry seq \(head.seq))")
        }
    }

    private static func typeCounts(_ db: Database, verifier: LogVerifier, _ fail: (UInt64, String) -> Void) throws {
        var stored: [String: Int] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT type, entries FROM type_counts") { stored[row[0]] = row[1] }
        for type in Set(stored.keys).union(verifier.typeCounts.keys).sorted() where stored[type, default: 0] != verifier.typeCounts[type, default: 0] {
            fail(0, "type_counts says \(stored[type, default: 0]) entries of type \(type); the entries give \(verifier.typeCounts[type, default: 0])")
        }
    }

    /// The JSON of an entry's bytes, or NULL when they are not JSON (those entries fail verify already).
    private static let entryJSON = "CASE WHEN json_valid(CAST(bytes AS TEXT)) THEN CAST(bytes AS TEXT) END"

    /// `refs` must be the latest fact of each (kind, id), as `ReferenceLedger.facts` derives them.
    private static func references(_ db: Database, _ fail: (UInt64, String) -> Void) throws {
        let derived = """
            WITH e AS (SELECT seq, type, \(entryJSON) AS j FROM entries
                       WHERE type IN ('party.registered', 'procedure.opened', 'legal_hold.placed', 'legal_hold.released')),
            f AS (SELECT seq,
                    CASE type WHEN 'party.registered' THEN 'party' WHEN 'procedure.opened' THEN 'procedure' ELSE 'hold' END AS kind,
                    CASE type WHEN 'party.registered' THEN json_extract(j, '$.data.party') WHEN 'procedure.opened' THEN json_extract(j, '$.data.procedure')
                              ELSE json_extract(j, '$.data.hold') END AS id,
                    CASE type WHEN 'party.registered' THEN CASE WHEN json_type(j, '$.data.role') = 'text' THEN json_extract(j, '$.data.role') END
                              WHEN 'procedure.opened' THEN CASE WHEN json_type(j, '$.data.kind') = 'text' THEN json_extract(j, '$.data.kind') END
                              WHEN 'legal_hold.placed' THEN 'open' ELSE 'released' END AS detail
                  FROM e WHERE j IS NOT NULL),
            facts AS (SELECT kind, id, detail, seq FROM f WHERE typeof(id) = 'text' AND detail IS NOT NULL),
            -- SQLite takes a bare column of a MAX() aggregate from the row holding the maximum: the latest fact.
            latest AS (SELECT kind, id, detail, MAX(seq) AS seq FROM facts GROUP BY kind, id)
            """
        for row in try Row.fetchAll(db, sql: derived + " SELECT kind, id, seq FROM (SELECT * FROM refs EXCEPT SELECT * FROM latest) LIMIT 5") {
            fail(UInt64(clamping: row[2] as Int64), "the refs table holds \(row[0] as String) \"\(row[1] as String)\" (seq \(row[2] as Int64)) as the entries do not")
        }
        for row in try Row.fetchAll(db, sql: derived + " SELECT kind, id, seq FROM (SELECT * FROM latest EXCEPT SELECT * FROM refs) LIMIT 5") {
            fail(UInt64(clamping: row[2] as Int64), "the refs table lacks \(row[0] as String) \"\(row[1] as String)\" as seq \(row[2] as Int64) gives it")
        }
    }

    /// `sources` must name, for each (platform, id) of an `exchange.recorded`, the first entry with it.
    private static func sources(_ db: Database, _ fail: (UInt64, String) -> Void) throws {
        let sourceOf = """
            SELECT seq, json_extract(j, '$.data.source.platform') AS platform, json_extract(j, '$.data.source.id') AS id
            FROM (SELECT seq, \(entryJSON) AS j FROM entries WHERE type = 'exchange.recorded')
            WHERE json_type(j, '$.data.source.platform') = 'text' AND json_type(j, '$.data.source.id') = 'text'
            """
        // Each row against its entry, found by seq (the primary key): one pass over `sources`.
        let wrongRows = try Row.fetchAll(db, sql: """
            SELECT s.platform, s.id, s.seq FROM sources s LEFT JOIN entries e ON e.seq = s.seq
            WHERE CASE WHEN e.seq IS NULL OR e.type != 'exchange.recorded' OR NOT json_valid(CAST(e.bytes AS TEXT)) THEN 1
                       ELSE json_extract(CAST(e.bytes AS TEXT), '$.data.source.platform') IS NOT s.platform
                            OR json_extract(CAST(e.bytes AS TEXT), '$.data.source.id') IS NOT s.id END
            LIMIT 5
            """)
        for row in wrongRows {
            fail(UInt64(clamping: row[2] as Int64), "the sources table says \(row[0] as String) \"\(row[1] as String)\" is seq \(row[2] as Int64), whose entry is not that exchange")
        }
        let unlisted = try Row.fetchAll(db, sql: """
            SELECT x.seq, x.platform, x.id FROM (\(sourceOf)) x
            WHERE NOT EXISTS (SELECT 1 FROM sources s WHERE s.platform = x.platform AND s.id = x.id AND s.seq <= x.seq) LIMIT 5
            """)
        for row in unlisted {
            fail(UInt64(clamping: row[0] as Int64), "the sources table lacks \(row[1] as String) \"\(row[2] as String)\" of seq \(row[0] as Int64) (a re-sent exchange would be appended twice)")
        }
    }
}
