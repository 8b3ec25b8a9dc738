import Foundation
import Synchronization
import Testing

@testable import ProbityDomain
@testable import ProbityFixtures
@testable import ProbityLog
@testable import ProbityPostgres
@testable import ProbityStore

/// The PostgreSQL store against real servers (a primary and a streaming standby started by the test):
/// the same log as the SQLite store byte for byte, one fenced writer, copies both ways, reads from a standby.
@Suite("PostgreSQL store", .serialized)
struct PostgresStoreTests {
    static let origin = "test.example/log"
    static let key = try! Ed25519PrivateKey.generate()

    /// The example conversation's events (parties, a procedure, exchanges with sources).
    static func conversation() throws -> [EventInput] {
        try String(contentsOf: CLI.exampleConversation, encoding: .utf8).split(separator: "\n").map {
            try EventInput(json: JSONParser.parse(String($0)))
        }
    }

    /// A fixed clock and counter bytes: what a writer writes is then a function of its input.
    static func fixedSources() -> WriteSources {
        let counter = Mutex<UInt8>(0)
        return WriteSources(
            now: { Timestamp(entryTime: "2026-03-01T09:30:00.000001Z")! },
            randomBytes: { count in
                (0..<count).map { _ in
                    counter.withLock {
                        $0 &+= 1; return $0
                    }
                }
            })
    }

    static func signer() throws -> NoteSigner { try NoteSigner(name: origin, privateKey: key) }

    /// A new log in the empty database at `location`, led by `holder`.
    static func createWriter(
        _ location: PostgresLocation, holder: String = "test", sources: WriteSources = .system
    ) throws -> PostgresLogWriter {
        try PostgresLogWriter.create(
            location: location, origin: origin, signer: signer(), keyPath: "", by: "test", software: "test",
            holder: holder, sources: sources)
    }

    /// Runs `body` with a fresh cluster, stopped afterwards whatever happens.
    static func withCluster(standby: Bool = false, _ body: (PostgresCluster, PostgresLocation) throws -> Void) throws {
        guard PostgresCluster.required() else { return }
        let cluster = try PostgresCluster(standby: standby)
        defer { cluster.stop() }
        setenv("PGPASSFILE", cluster.passFile, 1)
        try body(cluster, try PostgresLocation(parsing: cluster.primaryURL))
    }

    /// The same appends (a batch, a group commit of two submissions, one rejected, then duplicates) on
    /// SQLite and on PostgreSQL give the same entries, checkpoints and receipts, byte for byte.
    @Test("appends give the same bytes on SQLite and PostgreSQL: entries, checkpoints, receipts, duplicates")
    func sameBytes() throws {
        try Self.withCluster { cluster, location in
            let dir = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let sqlite = try LogWriter.create(
                path: dir.appendingPathComponent("log.sqlite").path, origin: Self.origin, signer: Self.signer(),
                keyPath: "", by: "test", software: "test", sources: Self.fixedSources())
            let postgres = try Self.createWriter(location, sources: Self.fixedSources())
            let events = try Self.conversation()
            let unknownParty = EventInput(
                type: "party.registered",
                data: ["party": .string("x"), "role": .string("supplier_agent"), "org": .string("nobody")])
            func run(
                _ append: ([LogWriter.Submission]) throws -> [Result<LogWriter.Batch, EventRejection>]
            ) throws
                -> [String]
            {
                var out: [String] = []
                for submissions in [
                    [LogWriter.Submission(events: Array(events[0..<6]), by: "a")],
                    [
                        LogWriter.Submission(events: Array(events[6...]), by: "b"),
                        LogWriter.Submission(events: [unknownParty], by: "c"),
                    ],
                    // every exchange again: duplicates, answered with their original receipts
                    [LogWriter.Submission(events: events.filter { $0.source != nil }, by: "d")],
                ] {
                    for outcome in try append(submissions) {
                        switch outcome {
                        case .success(let batch):
                            out += batch.receipts.map {
                                "\($0.seq) \($0.leafHash) \($0.duplicate)\n\($0.proof.encoded)"
                            }
                        case .failure(let rejection): out.append("rejected \(rejection)")
                        }
                    }
                }
                return out
            }
            // Events that refer to an exchange stored by an earlier transaction (a tag, an edit at the source).
            let source = try #require(events.compactMap(\.source).first)
            let later = [
                EventInput(
                    type: "exchange.tagged",
                    data: [
                        "source": .object(["platform": .string(source.platform), "id": .string(source.id)]),
                        "procedure": .string("2026-042"), "tagged_at": .string("2026-03-12T09:00:00Z"),
                    ]),
                EventInput(
                    type: "exchange.edited_at_source",
                    data: [
                        "source": .object(["platform": .string(source.platform), "id": .string(source.id)]),
                        "observed_at": .string("2026-03-12T09:00:00Z"),
                    ]),
            ]
            func runAll(
                _ append: ([LogWriter.Submission]) throws -> [Result<LogWriter.Batch, EventRejection>]
            ) throws
                -> [String]
            {
                let earlier = try run(append)
                let tagged = try append([LogWriter.Submission(events: later, by: "e")])[0]
                guard case .success(let batch) = tagged else { return earlier + ["rejected \(tagged)"] }
                return earlier + batch.receipts.map { "\($0.seq) \($0.leafHash)\n\($0.proof.encoded)" }
            }
            let fromSQLite = try runAll { try sqlite.append($0) }
            let fromPostgres = try runAll { try postgres.append($0) }
            #expect(fromPostgres.last?.hasPrefix("rejected") == false, "\(fromPostgres.last ?? "")")
            #expect(fromSQLite == fromPostgres)
            #expect(fromSQLite.contains { $0.hasPrefix("rejected event 1") })
            #expect(fromSQLite.filter { $0.contains(" true\n") }.count == events.count { $0.source != nil })

            // The whole store, row for row.
            let copy = dir.appendingPathComponent("copy.sqlite").path
            _ = try PostgresStore.copy(from: location, toSQLite: copy)
            var left: [String: [[StoreValue]]] = [:], right: [String: [[StoreValue]]] = [:]
            try LogReader.open(path: sqlite.path).readAllTables { left[$0.name, default: []] += $1 }
            try LogReader.open(path: copy).readAllTables { right[$0.name, default: []] += $1 }
            for table in StoreTable.all where table.name != "meta" {
                #expect(left[table.name] == right[table.name], "table \(table.name)")
            }
            let report = try LogReader.open(path: copy).verify(trust: .verifier(try Self.signer().verifier))
            #expect(report.intact, "\(report.failures)")
            #expect(try cluster.psql("SELECT count(*) FROM entries") == String(report.size))
        }
    }

    @Test("one writer: a second is refused while the first leads; a writer whose epoch ended commits nothing")
    func fencing() throws {
        try Self.withCluster { cluster, location in
            let first = try Self.createWriter(location, holder: "first")
            let events = try Self.conversation()
            _ = try first.append(Array(events[0..<3]), by: "first")
            #expect(throws: PostgresStoreError.self) {
                _ = try PostgresLogWriter.open(location: location, signer: Self.signer(), holder: "second")
            }
            do {
                _ = try PostgresLogWriter.open(location: location, signer: Self.signer(), holder: "second")
            } catch let error as PostgresStoreError {
                #expect(error.code == .notLeader)
                #expect(error.message.contains("first"))
            }
            // A takeover behind the first writer's back (as a standby that took the lead would do): its
            // next commit is refused, and nothing of it is stored.
            try cluster.psql("UPDATE leader SET epoch = epoch + 1, holder = 'usurper'")
            do {
                _ = try first.append(Array(events[3..<6]), by: "first")
                Issue.record("a writer whose epoch ended committed")
            } catch let error as PostgresStoreError {
                #expect(error.code == .fenced)
            }
            #expect(try cluster.psql("SELECT count(*) FROM entries") == "4")
            // When the first writer's session ends, the server releases its lock: a second takes the lead.
            try cluster.psql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'probity' AND datname = 'probity'"
            )
            let second = try PostgresLogWriter.open(location: location, signer: Self.signer(), holder: "second")
            #expect(second.epoch > first.epoch)
            let batch = try second.append(Array(events[3..<6]), by: "second")
            #expect(batch.entries.first?.seq == 4)
            #expect(throws: (any Error).self) { _ = try first.append(Array(events[6...]), by: "first") }
            #expect(try cluster.psql("SELECT count(*) FROM entries") == "7")
        }
    }

    /// A batch the server refuses (PostgreSQL's text holds no U+0000, SQLite's does) fails its append
    /// whole, even though its rows were sent while the writer went on; the writer then appends again.
    @Test("a batch the server refuses appends nothing, and the writer goes on")
    func refusedBatch() throws {
        try Self.withCluster { cluster, location in
            let writer = try Self.createWriter(location)
            let events = try Self.conversation()
            _ = try writer.append(Array(events[0..<6]), by: "test")
            let nul = try EventInput(
                json: JSONParser.parse(
                    #"{"type":"exchange.recorded","data":{"procedure":"2026-042","channel":"email","kind":"message","visibility":"direct","direction":"inbound","from":"contact-martin","to":["agent-durand"],"source":{"platform":"email","id":"nul\u0000id"},"occurred_at":"2026-03-11T10:00:00Z"},"payload":{"text":"x"}}"#
                ))
            var batches = 0
            do {
                try writer.appendAll(by: "test") {
                    batches += 1
                    return batches == 1 ? Array(events[6...]) : batches == 2 ? [nul] : nil
                } written: { _ in
                }
                Issue.record("a batch with U+0000 in a text column was appended")
            } catch let error as PostgresStoreError {
                #expect(error.message.contains("0x00"), "\(error.message)")
            }
            #expect(try cluster.psql("SELECT count(*) FROM entries") == "7")
            let batch = try writer.append(Array(events[6...]), by: "test")
            #expect(batch.entries.first?.seq == 7)
        }
    }

    @Test("a SQLite log copied to PostgreSQL and back holds the same rows; a standby serves the same checkpoint")
    func copiesAndStandby() throws {
        try Self.withCluster(standby: true) { cluster, location in
            let dir = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let path = dir.appendingPathComponent("log.sqlite").path
            let writer = try LogWriter.create(
                path: path, origin: Self.origin, signer: Self.signer(), keyPath: "", by: "test", software: "test")
            _ = try writer.append(try Self.conversation(), by: "test")
            let report = try PostgresStore.copy(from: LogReader.open(path: path), to: location)
            #expect(report.size == 14)
            // A second copy into the same database is refused, and changes nothing.
            #expect(throws: PostgresStoreError.self) {
                _ = try PostgresStore.copy(from: LogReader.open(path: path), to: location)
            }
            try cluster.waitForStandby()
            let standby = try PostgresLocation(parsing: cluster.standbyURL)
            let back = dir.appendingPathComponent("back.sqlite").path
            _ = try PostgresStore.copy(from: standby, toSQLite: back)
            var left: [String: [[StoreValue]]] = [:], right: [String: [[StoreValue]]] = [:]
            try LogReader.open(path: path).readAllTables { left[$0.name, default: []] += $1 }
            try LogReader.open(path: back).readAllTables { right[$0.name, default: []] += $1 }
            #expect(left.mapValues(\.count) == right.mapValues(\.count))
            for table in StoreTable.all { #expect(left[table.name] == right[table.name], "table \(table.name)") }
            #expect(try PostgresLogReader(location: standby).checkpoint().encoded == writer.checkpoint().encoded)
            #expect(
                try PostgresLogReader(location: standby).receipt(seq: 7).proof.encoded
                    == writer.receipt(seq: 7).proof.encoded)
            // The standby cannot be written.
            do {
                _ = try PostgresLogWriter.open(location: standby, signer: Self.signer(), holder: "test")
                Issue.record("a writer opened on a standby")
            } catch let error as PostgresStoreError {
                #expect(error.code == .readOnly)
            }
        }
    }

    /// Whether any file under `directory` holds `marker` (the servers' table files, not their WAL).
    static func filesHold(_ marker: String, under directory: String) -> Bool {
        let needle = Data(marker.utf8)
        guard let files = FileManager.default.enumerator(atPath: directory) else { return false }
        for case let file as String in files {
            if let data = FileManager.default.contents(atPath: directory + "/" + file), data.range(of: needle) != nil {
                return true
            }
        }
        return false
    }

    @Test(
        "redaction erases: the payload row deleted and the table rewritten, the bytes gone from the table files of primary and standby; a legal hold refuses it"
    )
    func redactionErases() throws {
        try Self.withCluster(standby: true) { cluster, location in
            let writer = try Self.createWriter(location)
            _ = try writer.append(try Self.conversation(), by: "test")
            let marker = "ERASE-ME-\(UUID().uuidString)"
            let note = try writer.append(
                [
                    EventInput(
                        type: "x-note", data: ["procedure": .string("2026-042")],
                        payload: .object(["text": .string(marker)]))
                ], by: "test")
            let seq = note.entries[0].seq
            try cluster.psql("CHECKPOINT")
            try cluster.waitForStandby()
            try cluster.psql("CHECKPOINT", standby: true)
            for server in ["primary", "standby"] {
                #expect(Self.filesHold(marker, under: cluster.directory.path + "/\(server)/base"), "\(server) before")
            }
            // Under a legal hold on its procedure, the entry cannot be redacted, and nothing changes.
            _ = try writer.append(
                [
                    EventInput(
                        type: "legal_hold.placed",
                        data: [
                            "hold": .string("hold-1"), "procedure": .string("2026-042"), "reason": .string("litige"),
                        ])
                ], by: "test")
            do {
                _ = try writer.redact(seq: seq, legalBasis: "rgpd-17", requestedBy: "dpo", by: "test")
                Issue.record("a held entry was redacted")
            } catch let error as StoreError {
                #expect(error.code == .legalHold)
            }
            #expect(try cluster.psql("SELECT count(*) FROM payloads WHERE seq = \(seq)") == "1")
            _ = try writer.append(
                [
                    EventInput(
                        type: "legal_hold.released", data: ["hold": .string("hold-1"), "reason": .string("clos")])
                ],
                by: "test")
            let redaction = try writer.redact(seq: seq, legalBasis: "rgpd-17", requestedBy: "dpo", by: "test")
            #expect(redaction.entries.count == 1)
            #expect(try cluster.psql("SELECT count(*) FROM payloads WHERE seq = \(seq)") == "0")
            #expect(throws: StoreError.self) {
                _ = try writer.redact(seq: seq, legalBasis: "rgpd-17", requestedBy: "dpo", by: "test")
            }
            try cluster.psql("CHECKPOINT")
            try cluster.waitForStandby()
            try cluster.psql("CHECKPOINT", standby: true)
            for server in ["primary", "standby"] {
                #expect(!Self.filesHold(marker, under: cluster.directory.path + "/\(server)/base"), "\(server) after")
            }
            // The log still verifies, the entry reported redacted by the new one.
            let dir = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let copy = dir.appendingPathComponent("copy.sqlite").path
            _ = try PostgresStore.copy(from: location, toSQLite: copy)
            let report = try LogReader.open(path: copy).verify(trust: .verifier(try Self.signer().verifier))
            #expect(report.intact, "\(report.failures)")
            #expect(report.redacted[seq] == redaction.entries[0].seq)
        }
    }

    @Test("the projections' snapshot saved in the store is what readers start from, brought up to date")
    func projectionSnapshot() throws {
        try Self.withCluster { _, location in
            let writer = try Self.createWriter(location)
            let events = try Self.conversation()
            _ = try writer.append(Array(events[0..<8]), by: "a")
            let reader = try PostgresLogReader(location: location)
            #expect(try reader.savedSnapshot() == nil)
            try reader.saveSnapshot(try reader.replay().domain)
            let saved = try #require(try reader.savedSnapshot())
            #expect(saved.lastSeq == 8)
            // Entries appended since are applied on top of it: the same state as a replay from nothing.
            _ = try writer.append(Array(events[8...]), by: "b")
            #expect(try reader.domainState() == reader.replay().domain)
            #expect(try reader.domainState().lastSeq == UInt64(events.count))
        }
    }

    @Test("wrong credentials and a password in the URL get clear errors")
    func credentials() throws {
        try Self.withCluster { cluster, location in
            let wrong = cluster.directory.path + "/wrong-pass"
            try "127.0.0.1:*:*:probity:not-the-password\n".write(toFile: wrong, atomically: true, encoding: .utf8)
            chmod(wrong, 0o600)
            setenv("PGPASSFILE", wrong, 1)
            defer { setenv("PGPASSFILE", cluster.passFile, 1) }
            do {
                _ = try PostgresLogReader(location: location)
                Issue.record("connected with a wrong password")
            } catch let error as PostgresStoreError {
                #expect(error.code == .credentials)  // SQLSTATE 28P01: a setting to fix, not a server away
                #expect(error.message.contains("password authentication failed"), "\(error.message)")
            }
            chmod(wrong, 0o644)
            #expect(throws: PostgresStoreError.self) { _ = try PostgresLogReader(location: location) }
        }
        #expect(throws: PostgresStoreError.self) {
            try PostgresLocation(parsing: "postgres://probity:secret@db/probity")
        }
        #expect(throws: PostgresStoreError.self) {
            try PostgresLocation(parsing: "postgres://probity@db/probity?sslmode=prefer")
        }
        #expect(throws: PostgresStoreError.self) { try PostgresLocation(parsing: "postgres://@db/probity") }
    }
}

@Suite("PostgreSQL locations and password files")
struct PostgresLocationTests {
    @Test("URLs: TCP, Unix socket directories, defaults and sslmode")
    func parsing() throws {
        let tcp = try PostgresLocation(parsing: "postgres://probity@127.0.0.1:6543/audit")
        #expect(tcp.endpoint == .tcp(host: "127.0.0.1", port: 6543))
        #expect(tcp.database == "audit")
        #expect(tcp.tls == .disable)
        let remote = try PostgresLocation(parsing: "postgresql://probity@db.example/probity")
        #expect(remote.tls == .verifyFull)
        #expect(remote.endpoint == .tcp(host: "db.example", port: 5432))
        let socket = try PostgresLocation(parsing: "postgres://probity@%2Frun%2Fpostgresql/probity")
        #expect(socket.endpoint == .socket(directory: "/run/postgresql", port: 5432))
        let query = try PostgresLocation(parsing: "postgres://probity@/probity?host=/tmp/pg&port=5433")
        #expect(query.endpoint == .socket(directory: "/tmp/pg", port: 5433))
    }

    @Test("PGPASSFILE lines: wildcards and escapes, the first match wins; the systemd credential comes first")
    func passwords() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("pgpass").path
        try """
        # comment
        other:5432:*:probity:nope
        db.example:*:probity:probity:pa\\:ss\\\\word
        *:*:*:*:fallback
        """.write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o600)
        let location = try PostgresLocation(parsing: "postgres://probity@db.example/probity")
        #expect(try location.password(environment: ["PGPASSFILE": file]) == "pa:ss\\word")
        let other = try PostgresLocation(parsing: "postgres://someone@elsewhere/x")
        #expect(try other.password(environment: ["PGPASSFILE": file]) == "fallback")
        try "from-credential\n".write(
            toFile: dir.appendingPathComponent("postgres-password").path, atomically: true, encoding: .utf8)
        #expect(
            try location.password(environment: ["PGPASSFILE": file, "CREDENTIALS_DIRECTORY": dir.path])
                == "from-credential")
        #expect(throws: PostgresStoreError.self) {
            try location.password(environment: ["PGPASSFILE": file + ".missing"])
        }
    }
}
