import Foundation
import ProbityClient
import ProbityHTTP
import ProbityLog
import Testing

@testable import ProbityFixtures

/// probityd on PostgreSQL, run as an operator would: two daemons on one primary (one writes, one waits),
/// the writer SIGKILLed under load, the server stopped under load, wrong credentials; the log checked with
/// `probity verify` on the primary and on a streaming standby.
@Suite("probityd on PostgreSQL", .serialized)
struct PostgresDaemonTests {
    /// A PostgreSQL log with an ingest and a read token, the seed parties and procedure, and its key.
    struct Log {
        let cluster: PostgresCluster
        let url: String
        let directory: URL
        let key: String
        let vkey: String
        var tokens: [String: String] = [:]

        init(cluster: PostgresCluster, database: String = "probity") throws {
            self.cluster = cluster
            url = "postgres://probity@127.0.0.1:\(cluster.primaryPort)/\(database)"
            directory = try CLI.temporaryDirectory()
            let seed = directory.appendingPathComponent("seed.sqlite").path
            #expect(try CLI.run(["init", "--db", seed, "--origin", "test.example/probity"]).status == 0)
            key = directory.appendingPathComponent("seed.key.pem").path
            vkey = try String(contentsOfFile: directory.appendingPathComponent("seed.vkey").path, encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let env = cluster.environment
            let created = try CLI.run(
                ["init", "--store", url, "--origin", "test.example/probity", "--key", key],
                environment: env)
            #expect(created.status == 0, "\(created.stderr)")
            for role in ["ingest", "read", "export", "admin"] {
                let token = try CLI.run(
                    [
                        "tokens", "create", "--store", url, "--name", "\(role)-token", "--role", role,
                        "--json",
                    ],
                    environment: env)
                #expect(token.status == 0, "\(token.stderr)")
                tokens[role] = token.json["token"]?.stringValue
            }
            let seeded = try CLI.run(
                ["append", "--store", url, "--quiet", "-"], stdin: TestEvents.seed, environment: env)
            #expect(seeded.status == 0, "\(seeded.stderr)")
        }

        func socket(_ name: String) -> String { directory.appendingPathComponent("\(name).sock").path }

        func daemon(
            _ name: String, store: String? = nil, extra: [String] = [], wait: Bool = true
        ) throws -> DaemonProcess {
            try DaemonProcess(
                ["--store", store ?? url, "--key-file", key, "--socket", socket(name)] + extra, socket: socket(name),
                environment: ["PGPASSFILE": cluster.passFile], wait: wait)
        }

        /// `GET /healthz` of the daemon on `name`'s socket: its status and `status` field.
        func health(_ name: String) -> (Int, String)? {
            guard let response = try? HTTPConnection(.unix(path: socket(name)), timeout: 5).request("GET", "/healthz")
            else { return nil }
            let json = try? JSONParser.parse(response.body)
            return (response.status, json?["status"]?.stringValue ?? "")
        }

        /// `POST target` with the ingest token to the daemon on `name`, whatever the status: status and body.
        func post(_ name: String, _ target: String, body: [UInt8]) throws -> (status: Int, text: String) {
            let response = try HTTPConnection(.unix(path: socket(name))).request(
                "POST", target, headers: [("Authorization", "Bearer \(tokens["ingest"]!)")], body: body)
            return (response.status, String(decoding: response.body, as: UTF8.self))
        }

        /// Waits until the daemon on `name` writes; the seconds it took.
        func waitUntilWriting(_ name: String, within limit: TimeInterval = 10) throws -> TimeInterval {
            let start = Date()
            while Date().timeIntervalSince(start) < limit {
                if health(name)?.1 == "ok" { return Date().timeIntervalSince(start) }
                usleep(20_000)
            }
            throw ClientError("the probityd on \(name) did not take the lead within \(limit) s")
        }

        /// Which of `daemons` leads, as the leader row names it (its health may say degraded for a moment).
        func leader(of daemons: [String: DaemonProcess]) throws -> String {
            let holder = try cluster.psql("SELECT holder FROM leader")
            return try #require(
                daemons.first { holder.contains("pid \($0.value.process.processIdentifier) ") }?.key,
                "the leader row names \(holder)")
        }

        /// The seq of each recorded e-mail exchange, by source id, as the database holds them.
        func storedSources() throws -> [String: UInt64] {
            var stored: [String: UInt64] = [:]
            let database = String(url.split(separator: "/").last!)
            for line in try cluster.psql("SELECT id, seq FROM sources WHERE platform = 'email'", database: database)
                .split(separator: "\n")
            {
                let parts = line.split(separator: "|")
                stored[String(parts[0])] = UInt64(parts[1])
            }
            return stored
        }

        func verify(_ url: String) throws -> CLI.Result {
            try CLI.run(["verify", "--store", url, "--vkey", vkey, "--json"], environment: cluster.environment)
        }
    }

    /// Runs `body` with a new log on a new cluster (and a streaming standby if asked); both are removed after.
    static func withLog(standby: Bool = false, _ body: (PostgresCluster, Log) throws -> Void) throws {
        guard PostgresCluster.required() else { return }
        let cluster = try PostgresCluster(standby: standby)
        defer { cluster.stop() }
        let log = try Log(cluster: cluster)
        defer { try? FileManager.default.removeItem(at: log.directory) }
        try body(cluster, log)
    }

    /// Clients appending single events with unique sources, each to the daemon that last answered, moving
    /// to the other on a 503 or a broken connection and sending the same event again (idempotent: a second
    /// copy of a source is answered with the first one's receipt). What each acknowledgement said is kept.
    final class Clients: @unchecked Sendable {
        let sockets: [String]
        let token: String
        let acknowledged = Locked<[String: UInt64]>([:])
        let refusals = Locked<[String: Int]>([:])
        private let stop = Locked(false)
        private var threads: [Thread] = []
        private let finished = DispatchGroup()

        init(sockets: [String], token: String, count: Int) {
            self.sockets = sockets
            self.token = token
            for client in 0..<count {
                finished.enter()
                let thread = Thread { [self] in
                    run(client)
                    finished.leave()
                }
                threads.append(thread)
                thread.start()
            }
        }

        private func run(_ client: Int) {
            var target = client % sockets.count
            var connection = HTTPConnection(.unix(path: sockets[target]), timeout: 15)
            var n = 0
            let deadline = Date().addingTimeInterval(300)
            while !stop.withLock({ $0 }) && Date() < deadline {
                let source = "c\(client)-\(n)"
                let response = try? connection.request(
                    "POST", "/v1/events",
                    headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
                    body: TestEvents.exchange(source))
                if let response, response.status == 201 || response.status == 200,
                    let receipts = try? JSONParser.parse(response.body),
                    let seq = receipts["receipts"]?.arrayValue?.first?["seq"]?.uint64Value
                {
                    acknowledged.withLock { $0[source] = seq }
                    n += 1
                    continue
                }
                let why = response.map { "\($0.status)" } ?? "no answer"
                refusals.withLock { $0[why, default: 0] += 1 }
                // The same source again, on the other daemon.
                connection.close()
                target = (target + 1) % sockets.count
                connection = HTTPConnection(.unix(path: sockets[target]), timeout: 15)
                usleep(20_000)
            }
        }

        func finish() {
            stop.withLock { $0 = true }
            finished.wait()
        }
    }

    @Test(
        "two probityd on one primary: the standby takes the lead within seconds of the writer's SIGKILL (5 rounds, 16 clients); every acknowledged event is in the log once; verify passes on the primary and the standby"
    )
    func failover() throws {
        try Self.withLog(standby: true) { cluster, log in
            var daemons = ["a": try log.daemon("a")]
            _ = try log.waitUntilWriting("a")
            daemons["b"] = try log.daemon("b")
            // The second one waits: health says so, appends are refused with not_leader, reads are served.
            #expect(log.health("b")?.0 == 503)
            #expect(log.health("b")?.1 == "standby")
            let refused = try log.post("b", "/v1/events", body: TestEvents.exchange("to-the-standby"))
            #expect(refused.status == 503)
            #expect(refused.text.contains("not_leader"))
            let read = DaemonClient(.unix(path: log.socket("b")), token: log.tokens["read"])
            #expect(try read.send("GET", "/v1/checkpoint").body.starts(with: Array("test.example/probity\n4\n".utf8)))

            let clients = Clients(sockets: [log.socket("a"), log.socket("b")], token: log.tokens["ingest"]!, count: 16)
            var takeovers: [TimeInterval] = []
            for round in 0..<5 {
                usleep(UInt32.random(in: 300_000...1_200_000))
                let writer = try log.leader(of: daemons)
                let standby = writer == "a" ? "b" : "a"
                let before = clients.acknowledged.withLock { $0.count }
                daemons[writer]!.kill9()
                takeovers.append(try log.waitUntilWriting(standby))
                // The killed one comes back, as systemd restarts it, and waits as the standby.
                daemons[writer] = try log.daemon(writer)
                #expect(log.health(writer)?.1 == "standby", "round \(round)")
                usleep(300_000)
                #expect(clients.acknowledged.withLock { $0.count } > before, "round \(round): nothing acknowledged")
            }
            usleep(500_000)
            clients.finish()
            #expect(takeovers.allSatisfy { $0 < 5 }, "takeovers took \(takeovers) s")
            print("failover: the standby wrote \(takeovers.map { String(format: "%.2f", $0) }) s after each SIGKILL")
            // A redaction through the writer's API: the payload row is gone from the database.
            let writer = try log.leader(of: daemons)
            let redacted = try #require(clients.acknowledged.withLock { $0.values.min() })
            let admin = DaemonClient(.unix(path: log.socket(writer)), token: log.tokens["admin"])
            _ = try admin.send(
                "POST", "/v1/redactions",
                body: Array(#"{"seq":\#(redacted),"legal_basis":"rgpd-art-17","requested_by":"dpo"}"#.utf8))
            #expect(try cluster.psql("SELECT count(*) FROM payloads WHERE seq = \(redacted)") == "0")
            for daemon in daemons.values { #expect(daemon.terminate() == 0, "\(daemon.stderr)") }

            // Every acknowledged event is in the log, at the seq its receipt named, and only once.
            let acknowledged = clients.acknowledged.withLock { $0 }
            #expect(
                acknowledged.count > 100,
                "only \(acknowledged.count) acknowledged; refusals \(clients.refusals.withLock { $0 })")
            let stored = try log.storedSources()
            let lost = acknowledged.filter { stored[$0.key] != $0.value }
            #expect(lost.isEmpty, "acknowledged but not in the log at their seq: \(lost.prefix(5))")
            let exchanges = try cluster.psql("SELECT count(*) FROM entries WHERE type = 'exchange.recorded'")
            #expect(exchanges == String(stored.count), "\(exchanges) exchanges for \(stored.count) sources")
            // One epoch per lead taken: the first daemon's, then one per takeover.
            #expect(try Int(cluster.psql("SELECT epoch FROM leader")) ?? 0 >= 6 + 1)

            try cluster.waitForStandby()
            for url in [cluster.primaryURL, cluster.standbyURL] {
                let verified = try log.verify(url)
                #expect(verified.status == 0, "\(url): \(verified.stdout) \(verified.stderr)")
                #expect(verified.json["intact"] == .bool(true))
            }
            // A probityd on the streaming standby serves the same reads, and refuses appends.
            let replica = try log.daemon("r", store: cluster.standbyURL)
            let fromReplica = DaemonClient(.unix(path: log.socket("r")), token: log.tokens["read"])
            let checkpoint = try CLI.run(
                ["checkpoint", "--store", cluster.primaryURL], environment: cluster.environment)
            #expect(try fromReplica.send("GET", "/v1/checkpoint").body == Array(checkpoint.stdout.utf8))
            let last = try #require(acknowledged.values.max())
            let entry = try fromReplica.json("GET", "/v1/events/\(last)")
            #expect(entry["seq"]?.uint64Value == last)
            let proof = try fromReplica.json("GET", "/v1/proofs/inclusion?seq=\(last)")
            #expect(proof["checkpoint"]?.stringValue == checkpoint.stdout)
            let appendToReplica = try log.post("r", "/v1/events", body: TestEvents.exchange("to-the-replica"))
            #expect(appendToReplica.status == 503)
            #expect(appendToReplica.text.contains("standby (in recovery)"))
            // Events checked against the replica's log, appending nothing: a known procedure passes, an unknown one is 422.
            let validator = DaemonClient(.unix(path: log.socket("r")), token: log.tokens["ingest"])
            #expect(
                try validator.json("POST", "/v1/events/validate", body: TestEvents.exchange("new"))["valid"]
                    == .number(1))
            let unknown = try log.post(
                "r", "/v1/events/validate",
                body: Array(
                    String(decoding: TestEvents.exchange("new"), as: UTF8.self).replacingOccurrences(
                        of: "2026-042", with: "2099-999"
                    ).utf8))
            #expect(unknown.status == 422, "\(unknown.text)")
            // A stream head signed by the replica with the log key, at the primary's size.
            let head = try fromReplica.send("GET", "/v1/proofs/stream?stream=procedure:2026-042").body
            let note = try SignedNote.parse(String(decoding: head, as: UTF8.self))
            #expect(try NoteVerifier(log.vkey).verifies(note))
            #expect(note.text.contains("\nprocedure:2026-042\n"), "\(note.text)")
            // C2SP tiles from the replica: the first full hash tile is the stored one, and the leaf hashes of its
            // entry bundle are that tile's hashes.
            let tile = try fromReplica.send("GET", "/tlog/tile/0/000").body
            #expect(tile.count == 256 * 32)
            #expect(
                try cluster.psql("SELECT encode(hashes, 'hex') FROM tiles WHERE level = 0 AND idx = 0")
                    == Hex.encode(tile))
            var entryBundle = try fromReplica.send("GET", "/tlog/tile/entries/000").body[...]
            var leaves: [UInt8] = []
            while entryBundle.count >= 2 {
                let length =
                    Int(entryBundle[entryBundle.startIndex]) << 8 | Int(entryBundle[entryBundle.startIndex + 1])
                leaves += Merkle.leafHash(Array(entryBundle.dropFirst(2).prefix(length)))
                entryBundle = entryBundle.dropFirst(2 + length)
            }
            #expect(leaves == tile)
            // The web console from the replica: signed in with the read token, the dashboard, a procedure and an entry.
            let console = HTTPConnection(.unix(path: log.socket("r")))
            func cookie(_ response: HTTPResponse, _ name: String) throws -> String {
                let header = try #require(
                    response.headers.first { $0.name.lowercased() == "set-cookie" && $0.value.hasPrefix(name + "=") })
                return String(header.value.prefix { $0 != ";" })
            }
            let form = try console.request("GET", "/ui/sign-in")
            let signInCookie = try cookie(form, "probity_signin")
            let csrf = String(signInCookie.dropFirst("probity_signin=".count))
            let signedIn = try console.request(
                "POST", "/ui/sign-in",
                headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", signInCookie)],
                body: Array("token=\(log.tokens["read"]!)&csrf=\(csrf)".utf8))
            #expect(signedIn.status == 303, "\(signedIn.text)")
            let session = [("Cookie", try cookie(signedIn, "probity_session"))]
            for page in ["/ui/", "/ui/procedures/2026-042", "/ui/entries/\(last)"] {
                let answer = try console.request("GET", page, headers: session)
                #expect(answer.status == 200, "\(page): \(answer.text.prefix(300))")
                #expect(answer.text.contains("test.example/probity"), "\(page)")
            }
            // The procedure routes and the exports too: a bundle from the replica proves itself offline.
            let procedure = try fromReplica.json("GET", "/v1/procedures/2026-042")
            #expect(procedure["procedure"]?["procedure"]?.stringValue == "2026-042")
            #expect(procedure["procedure"]?["entries"]?.uint64Value == UInt64(stored.count) + 1)
            let exporter = DaemonClient(.unix(path: log.socket("r")), token: log.tokens["export"])
            let zip = try exporter.send("GET", "/v1/export/bundle?procedure=2026-042").body
            let bundle = log.directory.appendingPathComponent("replica.zip")
            try Data(zip).write(to: bundle)
            let checked = try CLI.run(["verify-bundle", bundle.path, "--vkey", log.vkey])
            #expect(checked.status == 0, "\(checked.stdout) \(checked.stderr)")
            #expect(replica.terminate() == 0)
        }
    }

    @Test(
        "the daemon's sessions cut and the server stopped under load: appends get 503, health says why, and both recover; nothing acknowledged is lost; wrong credentials stop probityd at start with a clear error"
    )
    func serverAway() throws {
        try Self.withLog { cluster, log in
            let daemon = try log.daemon("a")
            _ = try log.waitUntilWriting("a")

            let clients = Clients(sockets: [log.socket("a")], token: log.tokens["ingest"]!, count: 8)
            usleep(500_000)
            // Every session of the daemon cut by the server, mid-commit: the commit in flight fails (its
            // clients send again), the daemon connects anew and takes the lead again.
            let beforeCut = clients.acknowledged.withLock { $0.count }
            try cluster.psql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'probity' AND application_name = 'probity'"
            )
            _ = try log.waitUntilWriting("a")
            usleep(500_000)
            #expect(clients.acknowledged.withLock { $0.count } > beforeCut, "nothing acknowledged after the cut")
            try cluster.script(["stop", cluster.directory.path, "primary"])
            usleep(300_000)
            let degraded = try log.post("a", "/v1/events", body: TestEvents.exchange("while-away"))
            #expect(degraded.status == 503, "\(degraded.text)")
            #expect(degraded.text.contains("store_unavailable"))
            #expect(log.health("a")?.0 == 503)
            let during = clients.acknowledged.withLock { $0.count }
            try cluster.script(["start", cluster.directory.path, "primary"])
            _ = try log.waitUntilWriting("a", within: 15)
            usleep(500_000)
            clients.finish()
            #expect(
                clients.acknowledged.withLock { $0.count } > during, "nothing acknowledged after the server came back")
            #expect(clients.refusals.withLock { $0["503"] ?? 0 } > 0)
            #expect(daemon.terminate() == 0)
            let acknowledged = clients.acknowledged.withLock { $0 }
            let stored = try log.storedSources()
            #expect(acknowledged.filter { stored[$0.key] != $0.value }.isEmpty, "acknowledged events missing")
            let verified = try log.verify(cluster.primaryURL)
            #expect(verified.status == 0, "\(verified.stdout)")

            // Wrong credentials: probityd says so and exits 2 (a setting to fix; restarting cannot help).
            let wrong = log.directory.appendingPathComponent("wrong-pgpass").path
            try "127.0.0.1:*:*:probity:not-the-password\n".write(toFile: wrong, atomically: true, encoding: .utf8)
            chmod(wrong, 0o600)
            let refused = try DaemonProcess(
                ["--store", cluster.primaryURL, "--key-file", log.key, "--socket", log.socket("w")],
                socket: log.socket("w"), environment: ["PGPASSFILE": wrong], wait: false)
            #expect(refused.exitStatus() == 2)
            #expect(refused.stderr.contains("password authentication failed for user \"probity\""), "\(refused.stderr)")
            // A [[capture]] with a PostgreSQL store is refused at start, naming the setting.
            let config = log.directory.appendingPathComponent("capture.toml").path
            try "[[capture]]\nkind = \"maildir\"\npath = \"\(log.directory.path)/mail\"\n".write(
                toFile: config, atomically: true, encoding: .utf8)
            let capture = try DaemonProcess(
                [
                    "--config", config, "--store", cluster.primaryURL, "--key-file", log.key, "--socket",
                    log.socket("x"),
                ],
                socket: log.socket("x"), environment: ["PGPASSFILE": cluster.passFile], wait: false)
            #expect(capture.exitStatus() == 2)
            #expect(
                capture.stderr.contains("[[capture]] is not available with a PostgreSQL store"), "\(capture.stderr)")
        }
    }

    @Test(
        "a full tablespace: appends get 503 naming the full disk and leave nothing behind; once space is freed they succeed, and the log verifies"
    )
    func fullTablespace() throws {
        guard PostgresCluster.required() else { return }
        // Mounting a small filesystem needs root: CI runs as root, so there the test must not be skipped.
        guard getuid() == 0 else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { Issue.record("this test needs root") }
            return
        }
        let cluster = try PostgresCluster()
        defer { cluster.stop() }
        // A 16 MiB tmpfs for the database's tablespace (the WAL stays in the data directory).
        let space = cluster.directory.appendingPathComponent("small").path
        try FileManager.default.createDirectory(atPath: space, withIntermediateDirectories: true)
        let mounted = try CLI.run(["-t", "tmpfs", "-o", "size=16m", "tmpfs", space], executable: "/usr/bin/mount")
        try #require(mounted.status == 0, "\(mounted.stderr)")
        defer { _ = try? CLI.run(["-l", space], executable: "/usr/bin/umount") }
        _ = try CLI.run(["postgres:", space], executable: "/usr/bin/chown")
        try cluster.psql("CREATE TABLESPACE small LOCATION '\(space)'")
        try cluster.psql("CREATE DATABASE full_disk OWNER probity TABLESPACE small")
        let log = try Log(cluster: cluster, database: "full_disk")
        defer { try? FileManager.default.removeItem(at: log.directory) }
        let daemon = try log.daemon("a")
        _ = try log.waitUntilWriting("a")
        let client = DaemonClient(.unix(path: log.socket("a")), token: log.tokens["ingest"])

        var refusal: DaemonClient.APIFailure?
        var batch = 0
        while refusal == nil && batch < 400 {
            let ids = (0..<100).map { "fill-\(batch)-\($0)" }
            do { _ = try client.send("POST", "/v1/events", body: TestEvents.batch(ids)) } catch let failure
                as DaemonClient.APIFailure
            {
                refusal = failure
            }
            batch += 1
        }
        let full = try #require(refusal, "16 MiB never filled")
        #expect(full.status == 503)
        #expect(full.code == "store_unavailable")
        #expect(full.message.contains("No space left on device"), "\(full.message)")
        // Nothing of the refused batch was kept: every stored exchange is of a batch that was acknowledged.
        let stored = try cluster.psql("SELECT count(*) FROM sources WHERE platform = 'email'", database: "full_disk")
        #expect(stored == String((batch - 1) * 100))
        #expect(log.health("a")?.0 == 503)

        // Space freed: the next append commits.
        let grown = try CLI.run(["-o", "remount,size=64m", space], executable: "/usr/bin/mount")
        try #require(grown.status == 0, "\(grown.stderr)")
        var accepted = false
        var lastError = ""
        for attempt in 0..<50 where !accepted {
            do {
                _ = try client.send("POST", "/v1/events", body: TestEvents.batch(["after-\(attempt)"]))
                accepted = true
            } catch {
                lastError = "\(error)"
                usleep(100_000)
            }
        }
        #expect(
            accepted,
            "\(lastError) \((try? cluster.psql("SELECT pid, application_name, state, backend_start, left(query, 60) FROM pg_stat_activity WHERE datname = 'full_disk'")) ?? "")"
        )
        #expect(daemon.terminate() == 0)
        let verified = try log.verify(log.url)
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
    }

    @Test(
        "a witnessed and timestamped log on PostgreSQL: probityd has its checkpoints cosigned and dated by a TSA, and verify --witness --tsa-ca passes on the standby"
    )
    func witnessed() throws {
        try Self.withLog(standby: true) { cluster, log in
            let (state, witnessKey) = try TilesWitnessTests.witnessState(log.directory, "w1")
            let port = try TilesWitnessTests.freePort()
            let witness = try WitnessProcess(state: state, port: port, logs: ["test.example/probity=\(log.vkey)"])
            defer { _ = witness.terminate() }
            let lab = try TimestampTests.Lab()
            defer { lab.tsa.stop() }
            // Two exchanges first: the timestamp probityd takes at start (size 6) dates them.
            let early = try CLI.run(
                ["append", "--store", log.url, "--quiet", "-"], stdin: TestEvents.lines(2, prefix: "w"),
                environment: cluster.environment)
            #expect(early.status == 0, "\(early.stderr)")
            let daemon = try log.daemon(
                "a",
                extra: [
                    "--witness", "http://127.0.0.1:\(port) \(witnessKey)", "--tsa-url", lab.tsa.url + "/tsa",
                    "--tsa-ca",
                    lab.ca,
                ])
            _ = try log.waitUntilWriting("a")
            let client = DaemonClient(.unix(path: log.socket("a")), token: log.tokens["ingest"])
            let receipts = try client.json(
                "POST", "/v1/events?witnessed=1",
                body: Array(#"{"type":"party.registered","data":{"party":"sup-z","role":"supplier_org"}}"#.utf8))
            #expect(receipts["receipts"]?.arrayValue?.count == 1)
            let reader = DaemonClient(.unix(path: log.socket("a")), token: log.tokens["read"])
            let cosigned = try SignedCheckpoint(
                parsing: String(decoding: try reader.send("GET", "/v1/checkpoint?witnessed=1").body, as: UTF8.self))
            #expect(cosigned.checkpoint.size >= 7)
            let quorum = WitnessQuorum(witnesses: [try CosignatureVerifier(witnessKey)], quorum: 1)
            #expect(quorum.cosigners(of: cosigned.note).map(\.witness.name) == ["w1.example/w"])
            // The TSA's token of the checkpoint at start (size 6) is appended as checkpoint.timestamped.
            for _ in 0..<100
            where try cluster.psql("SELECT count(*) FROM entries WHERE type = 'checkpoint.timestamped'") == "0" {
                usleep(100_000)
            }
            #expect(daemon.terminate() == 0)
            // The cosignature and the timestamp are in the store: the standby has them, and verify checks them there.
            try cluster.waitForStandby()
            let verified = try CLI.run(
                [
                    "verify", "--store", cluster.standbyURL, "--vkey", log.vkey, "--witness", witnessKey, "--tsa-ca",
                    lab.ca,
                    "--json",
                ], environment: cluster.environment)
            #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
            #expect(verified.json["timestamps"]?.arrayValue?.count == 1, "\(verified.stdout)")
            // A bundle from the standby carries the checkpoint as the TSA stamped it (the witness cosigned it
            // afterwards): both verifiers check the token, the witness and the rest.
            let bundle = log.directory.appendingPathComponent("dated.zip").path
            let exported = try CLI.run(
                [
                    "export", "bundle", "--store", cluster.standbyURL, "--party", "sup-a", "--key", log.key, "-o",
                    bundle,
                ],
                environment: cluster.environment)
            #expect(exported.status == 0, "\(exported.stderr)")
            let flags = ["--vkey", log.vkey, "--witness", witnessKey, "--tsa-ca", lab.ca]
            // The stored checkpoint of size 6 now carries the witness's line too; the token imprinted it without.
            let stored = try cluster.psql("SELECT note FROM checkpoints WHERE size = 6")
            #expect(stored.contains("— w1.example/w "), "\(stored)")
            let swift = try CLI.run(["verify-bundle", bundle] + flags)
            #expect(swift.status == 0 && swift.stdout.contains("dated the checkpoint of size 6"), "\(swift.stdout)")
            let script = CLI.packageRoot.appendingPathComponent("Sources/ProbityEvidence/Resources/verify_bundle.py")
                .path
            let python = try CLI.run([script, bundle] + flags, executable: "/usr/bin/python3")
            #expect(
                python.status == 0 && python.stdout.contains("dated the checkpoint of size 6"),
                "\(python.stdout)\(python.stderr)")
        }
    }
}
