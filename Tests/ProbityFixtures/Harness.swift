import Foundation
import GRDB
import ProbityLog
import Testing

/// Runs the built `probity` executable as a user would.
enum CLI {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["PROBITY_BIN"] { return path }
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("probity").path
        if FileManager.default.isExecutableFile(atPath: besideTests) { return besideTests }
        return packageRoot.appendingPathComponent(".build/debug/probity").path
    }()

    /// Where the built executables are (beside `probity`).
    static var binaryDirectory: URL { URL(fileURLWithPath: binary).deletingLastPathComponent() }

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
        var json: JSONValue { (try? JSONParser.parse(stdout)) ?? .null }
    }

    @discardableResult
    static func run(
        _ arguments: [String], stdin: [UInt8]? = nil, executable: String = binary, environment: [String: String]? = nil
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin)) }
        try input.fileHandleForWriting.close()
        // Read both pipes concurrently so a full pipe never blocks the child.
        nonisolated(unsafe) var errData = Data()
        let reader = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !reader.isFinished { usleep(1000) }
        return Result(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }

    static func temporaryDirectory(_ name: String = #function) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "probity-tests-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static var exampleConversation: URL { packageRoot.appendingPathComponent("examples/conversation.jsonl") }

    /// `count` new exchanges between parties of the example conversation (JSONL), each with its own source
    /// `round-<round>-<i>`: for growing a store that holds the conversation.
    static func moreExchanges(_ count: Int, round: Int) -> [UInt8] {
        Array(
            (0..<count).map { i in
                #"{"type":"exchange.recorded","data":{"procedure":"2026-042","channel":"email","kind":"message","visibility":"direct","direction":"inbound","from":"contact-martin","to":["agent-durand"],"source":{"platform":"email","id":"round-\#(round)-\#(i)"},"occurred_at":"2026-03-11T10:00:00Z"},"payload":{"text":"Relance \#(round).\#(i)"}}"#
            }.joined(separator: "\n").utf8)
    }
}

/// Direct SQL access to a store file, to tamper with it as an attacker with file access would.
struct Tamper {
    let db: DatabaseQueue

    init(_ path: String) throws { db = try DatabaseQueue(path: path) }

    func execute(_ sql: String, _ arguments: StatementArguments = []) throws {
        try db.write { try $0.execute(sql: sql, arguments: arguments) }
    }

    func entryBytes(_ seq: Int) throws -> [UInt8] {
        try db.read {
            [UInt8](try Data.fetchOne($0, sql: "SELECT bytes FROM entries WHERE seq = ?", arguments: [seq])!)
        }
    }

    /// Replaces entry `seq` with `bytes`, optionally keeping the stored leaf hash consistent with them.
    func setEntry(_ seq: Int, _ bytes: [UInt8], fixHash: Bool) throws {
        try execute("UPDATE entries SET bytes = ? WHERE seq = ?", [Data(bytes), seq])
        if fixHash {
            try execute("UPDATE entries SET leaf_hash = ? WHERE seq = ?", [Data(Merkle.leafHash(bytes)), seq])
        }
    }

    /// Rebuilds the tables derived from the entries (tiles, streams, type counts, references, sources) from
    /// the entries that remain, as a careful attacker who removed entries would, so that only a kept
    /// checkpoint can tell.
    func rebuildDerivedTables() throws {
        try db.write { db in
            var heads: [String: (seq: Int64, hash: Data, count: Int)] = [:]
            var types: [String: Int] = [:]
            var range = CompactRange()
            var edge = TileEdge()
            var tiles: [(Tiles.ID, [UInt8])] = []
            for row in try Row.fetchAll(db, sql: "SELECT seq, bytes, leaf_hash FROM entries ORDER BY seq") {
                let leaf = SHA256Digest(row["leaf_hash"] as Data)!
                edge.append(leaf: range.size, hash: leaf, created: range.append(leaf)) { tiles.append(($0, $1)) }
                let header = try EntryHeader(bytes: [UInt8](row["bytes"] as Data))
                types[header.type, default: 0] += 1
                for (stream, _) in header.streams {
                    heads[stream] = (row["seq"], row["leaf_hash"], (heads[stream]?.count ?? 0) + 1)
                }
            }
            try db.execute(sql: "DELETE FROM streams; DELETE FROM type_counts; DELETE FROM tiles")
            for (id, hashes) in tiles + edge.partialTiles(size: range.size) {
                try db.execute(
                    sql: "INSERT INTO tiles (level, idx, hashes) VALUES (?, ?, ?)",
                    arguments: [id.level, Int64(id.index), Data(hashes)])
            }
            for (stream, head) in heads {
                try db.execute(
                    sql: "INSERT INTO streams VALUES (?, ?, ?, ?)",
                    arguments: [stream, head.seq, head.hash, head.count])
            }
            for (type, count) in types {
                try db.execute(sql: "INSERT INTO type_counts VALUES (?, ?)", arguments: [type, count])
            }
            try db.execute(sql: "DELETE FROM sources WHERE seq NOT IN (SELECT seq FROM entries)")
            try db.execute(
                sql: """
                    DELETE FROM refs;
                    INSERT OR REPLACE INTO refs (kind, id, detail, seq)
                        SELECT CASE type WHEN 'party.registered' THEN 'party' WHEN 'procedure.opened' THEN 'procedure' ELSE 'hold' END,
                               json_extract(CAST(bytes AS TEXT), CASE type WHEN 'party.registered' THEN '$.data.party' WHEN 'procedure.opened' THEN '$.data.procedure' ELSE '$.data.hold' END),
                               CASE type WHEN 'party.registered' THEN json_extract(CAST(bytes AS TEXT), '$.data.role')
                                         WHEN 'procedure.opened' THEN json_extract(CAST(bytes AS TEXT), '$.data.kind')
                                         WHEN 'legal_hold.placed' THEN 'open' ELSE 'released' END, seq
                        FROM entries WHERE type IN ('party.registered', 'procedure.opened', 'legal_hold.placed', 'legal_hold.released') ORDER BY seq
                    """)
        }
    }

    /// Rewrites entry `seq` through its JSON (re-encoded canonically) and fixes its stored hash.
    func rewriteEntry(_ seq: Int, _ change: (inout [String: JSONValue]) -> Void) throws {
        guard case .object(var members) = try JSONParser.parse(entryBytes(seq)) else {
            throw CocoaError(.coderInvalidValue)
        }
        change(&members)
        try setEntry(seq, CanonicalJSON.encode(.object(members)), fixHash: true)
    }
}

/// The verify outcome as `--json` reports it.
struct VerifyOutcome {
    let status: Int32
    let json: JSONValue
    var intact: Bool { json["intact"] == .bool(true) }
    var firstSeq: UInt64? { json["first_failure"]?["seq"]?.uint64Value }
    var firstKind: String? { json["first_failure"]?["kind"]?.stringValue }
}

func verify(_ db: String, _ extra: [String] = []) throws -> VerifyOutcome {
    let result = try CLI.run(["verify", "--db", db, "--json"] + extra)
    return VerifyOutcome(status: result.status, json: result.json)
}
