import Foundation
import ProbityClient
import ProbityDomain
import ProbityHTTP
import ProbityLog
import ProbityStore
import Testing

@testable import ProbityFixtures

/// The HTTP API of a real `probityd` process, over its Unix socket.
@Suite("probityd API", .serialized)
struct DaemonAPITests {
    /// Checks a receipt as a client would: the checkpoint is signed by the log key, the proof leads to it,
    /// and the entry the log serves has the receipt's leaf hash.
    func checkReceipt(_ receipt: JSONValue, store: DaemonStore) throws -> (seq: UInt64, leafHash: String) {
        let seq = try #require(receipt["seq"]?.uint64Value)
        let leafHash = try #require(receipt["leaf_hash"]?.stringValue)
        let proof = try TlogProof.parse(try #require(receipt["proof"]?.stringValue))
        #expect(proof.index == seq)
        try proof.verify(leafHash: try #require(Hex.digest(leafHash)), verifier: store.vkey)
        let entry = try store.client("read").send("GET", "/v1/events/\(seq)")
        let served = try JSONParser.parse(entry.body)
        let bytes = CanonicalJSON.encode(try #require(served["entry"]))
        #expect(Hex.encode(Merkle.leafHash(bytes)) == leafHash)
        return (seq, leafHash)
    }

    @Test func appendsReturnVerifiableReceiptsAndDuplicatesAppendNothing() throws {
        let store = try DaemonStore()
        let daemon = try DaemonProcess(store: store)
        defer { daemon.terminate() }
        let client = store.client()

        let single = try client.send("POST", "/v1/events", body: TestEvents.exchange("m-1"))
        #expect(single.status == 201)
        let first = try #require(try JSONParser.parse(single.body)["receipts"]?.arrayValue)
        #expect(first.count == 1)
        let original = try checkReceipt(first[0], store: store)
        #expect(original.seq == store.base)

        let batch = try client.send("POST", "/v1/events", body: TestEvents.batch(["m-2", "m-3", "m-4"]))
        #expect(batch.status == 201)
        let receipts = try #require(try JSONParser.parse(batch.body)["receipts"]?.arrayValue)
        #expect(
            try receipts.map { try checkReceipt($0, store: store).seq } == [
                store.base + 1, store.base + 2, store.base + 3,
            ])
        #expect(Set(receipts.map { $0["checkpoint"] }).count == 1, "a request is one transaction under one checkpoint")

        // The same exchange again: its original receipt, 200, and nothing appended.
        let again = try client.send("POST", "/v1/events", body: TestEvents.exchange("m-1", text: "sent twice"))
        #expect(again.status == 200)
        let duplicate = try #require(try JSONParser.parse(again.body)["receipts"]?.arrayValue?.first)
        #expect(duplicate["duplicate"] == .bool(true))
        #expect(
            duplicate["seq"]?.uint64Value == original.seq && duplicate["leaf_hash"]?.stringValue == original.leafHash)
        #expect(duplicate["proof"] == first[0]["proof"])
        // A batch mixing a new and a known exchange appends only the new one.
        let mixed = try client.send("POST", "/v1/events", body: TestEvents.batch(["m-5", "m-2", "m-5"]))
        #expect(mixed.status == 201)
        let mixedReceipts = try #require(try JSONParser.parse(mixed.body)["receipts"]?.arrayValue)
        #expect(mixedReceipts.map { $0["seq"]?.uint64Value } == [store.base + 4, store.base + 1, store.base + 4])
        #expect(mixedReceipts.map { $0["duplicate"] == .bool(true) } == [false, true, true])
        #expect(try LogReader.open(path: store.db).size() == store.base + 5)
    }

    @Test func checkpointsProofsAndEntriesAreServedByRole() throws {
        let store = try DaemonStore()
        let daemon = try DaemonProcess(store: store)
        defer { daemon.terminate() }
        for i in 0..<3 {
            _ = try store.client().send("POST", "/v1/events", body: TestEvents.batch(["a-\(i)", "b-\(i)"]))
        }

        let note = try store.client("read").send("GET", "/v1/checkpoint")
        #expect(note.header("content-type")?.hasPrefix("text/plain") == true)
        let checkpoint = try SignedCheckpoint(parsing: note.text)
        #expect(checkpoint.isSigned(by: store.vkey) && checkpoint.checkpoint.size == store.base + 6)

        let inclusion = try store.client("ingest").json("GET", "/v1/proofs/inclusion?seq=2&size=\(store.base + 2)")
        let proof = try TlogProof.parse(try #require(inclusion["proof"]?.stringValue))
        #expect(proof.checkpoint.checkpoint.size == store.base + 2)
        try proof.verify(
            leafHash: try #require(Hex.digest(inclusion["leaf_hash"]?.stringValue ?? "")), verifier: store.vkey)

        let consistency = try store.client("read").json("GET", "/v1/proofs/consistency?old=3")
        let hashes = try #require(consistency["proof"]?.arrayValue).compactMap { $0.stringValue.flatMap(Base64.digest) }
        try Merkle.verifyConsistency(
            oldSize: 3, newSize: store.base + 6,
            oldRoot: try #require(Base64.digest(consistency["old_root"]?.stringValue ?? "")),
            newRoot: checkpoint.checkpoint.root, proof: hashes)

        // Paging, and payloads only for roles that may read personal data.
        let page = try store.client("read").json("GET", "/v1/events?after=\(store.base)&limit=3")
        let entries = try #require(page["entries"]?.arrayValue)
        #expect(
            entries.map { $0["seq"]?.uint64Value } == [store.base + 1, store.base + 2, store.base + 3]
                && page["next_after"]?.uint64Value == store.base + 3)
        #expect(entries.allSatisfy { $0["payload"] == nil })
        let withPayload = try store.client("export").json("GET", "/v1/events/\(store.base)")
        #expect(withPayload["payload"]?["text"] != nil && withPayload["salt"]?.stringValue?.count == 64)

        let missing = try store.client("read").connection.request(
            "GET", "/v1/events/99", headers: [("Authorization", "Bearer \(store.tokens["read"]!)")])
        #expect(missing.status == 404)
        let stream = try store.client("read").send("GET", "/v1/proofs/stream?stream=procedure:2026-042").text
        #expect(
            stream.hasPrefix(
                "probity.stream-head/v1\ntest.example/probity\n\(store.base + 6)\nprocedure:2026-042\n\(store.base + 5)\n"
            ))
    }

    @Test func tokensAndRolesAreEnforced() throws {
        let store = try DaemonStore()
        let daemon = try DaemonProcess(store: store)
        defer { daemon.terminate() }
        let raw = HTTPConnection(.unix(path: store.socket))
        func status(_ method: String, _ path: String, token: String?, body: [UInt8]? = nil) throws -> (Int, JSONValue) {
            let response = try raw.request(
                method, path, headers: token.map { [("Authorization", "Bearer \($0)")] } ?? [], body: body)
            return (response.status, (try? JSONParser.parse(response.body)) ?? .null)
        }
        let (noToken, error) = try status("POST", "/v1/events", token: nil, body: TestEvents.exchange("x"))
        #expect(noToken == 401 && error["error"]?["code"] == .string("unauthorized"))
        #expect(
            try status("GET", "/v1/checkpoint", token: "prb_000000000000_" + String(repeating: "0", count: 64)).0 == 401
        )
        #expect(try status("GET", "/v1/checkpoint", token: "not-a-token").0 == 401)
        let (forbidden, message) = try status(
            "POST", "/v1/events", token: store.tokens["read"], body: TestEvents.exchange("x"))
        #expect(forbidden == 403 && message["error"]?["message"]?.stringValue?.contains("ingest") == true)
        #expect(try status("GET", "/v1/events", token: store.tokens["ingest"]).0 == 403)
        #expect(try status("GET", "/v1/events", token: store.tokens["admin"]).0 == 200)
        #expect(try LogReader.open(path: store.db).size() == store.base, "refused requests append nothing")

        // Revocation takes effect within the cache's lifetime (one second).
        #expect(try status("GET", "/v1/checkpoint", token: store.tokens["read"]).0 == 200)
        let revoked = try CLI.run(["tokens", "revoke", "--db", store.db, "read-token"])
        #expect(revoked.status == 0, "\(revoked.stderr)")
        Thread.sleep(forTimeInterval: 1.2)
        #expect(try status("GET", "/v1/checkpoint", token: store.tokens["read"]).0 == 401)
        let listed = try CLI.run(["tokens", "list", "--db", store.db, "--all", "--json"])
        #expect(listed.json.arrayValue?.count == 4)
        #expect(!listed.stdout.contains(store.tokens["admin"]!), "secrets are never shown again")
    }

    @Test func healthAndMetrics() throws {
        let store = try DaemonStore()
        let daemon = try DaemonProcess(store: store)
        defer { daemon.terminate() }
        _ = try store.client().send("POST", "/v1/events", body: TestEvents.batch(["h-1", "h-2"]))
        _ = try? store.client().send("POST", "/v1/events", body: Array("{".utf8))
        let health = try JSONParser.parse(try HTTPConnection(.unix(path: store.socket)).request("GET", "/healthz").body)
        #expect(health["status"] == .string("ok") && health["size"]?.uint64Value == store.base + 2)
        let metrics = try HTTPConnection(.unix(path: store.socket)).request("GET", "/metrics").text
        for line in [
            "probity_appended_events_total 2", "probity_tree_size_entries \(store.base + 2).0",
            "probity_rejected_requests_total{reason=\"invalid_json\"} 1",
            "probity_commit_batch_events_count 1", "probity_commit_duration_seconds_count 1",
        ] {
            #expect(metrics.contains(line), "\(line) not in /metrics")
        }
    }

    @Test func theCLIWorksThroughTheDaemon() throws {
        let store = try DaemonStore(seeded: false)
        let daemon = try DaemonProcess(store: store)
        defer { daemon.terminate() }
        let env = ProcessInfo.processInfo.environment.merging(["PROBITY_TOKEN": store.tokens["ingest"]!]) { $1 }
        let appended = try CLI.run(
            ["append", "--socket", store.socket, "--json", CLI.exampleConversation.path], environment: env)
        #expect(appended.status == 0, "\(appended.stderr)")
        let receipts = appended.stdout.split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8)) }
        #expect(receipts.count == 13)
        // The conversation's exchanges again: recorded already, nothing appended.
        let exchanges = try String(contentsOf: CLI.exampleConversation, encoding: .utf8).split(separator: "\n").filter {
            $0.contains("exchange.recorded")
        }
        let again = try CLI.run(
            ["append", "--socket", store.socket, "--quiet", "-"], stdin: Array(exchanges.joined(separator: "\n").utf8),
            environment: env)
        #expect(again.stderr.contains("(2 already in the log)"), "\(again.stderr)")
        // Its registrations again: refused, naming the line and the field; nothing appended.
        let size = try LogReader.open(path: store.db).size()
        let twice = try CLI.run(["append", "--socket", store.socket, CLI.exampleConversation.path], environment: env)
        #expect(
            twice.status == 2 && twice.stderr.contains("422") && twice.stderr.contains("data.party")
                && twice.stderr.contains("already registered"), "\(twice.stderr)")
        #expect(try LogReader.open(path: store.db).size() == size)

        let checkpoint = try CLI.run(["checkpoint", "--socket", store.socket], environment: env)
        #expect(checkpoint.stdout == (try LogReader.open(path: store.db).checkpoint().encoded))
        let proof = try CLI.run(["prove", "inclusion", "--socket", store.socket, "5"], environment: env)
        let entry = try CLI.run(["show", "--db", store.db, "5"])
        let dir = store.directory
        try Data(proof.stdout.utf8).write(to: dir.appendingPathComponent("5.tlog-proof"))
        try Data(entry.stdout.utf8).write(to: dir.appendingPathComponent("5.json"))
        let checked = try CLI.run([
            "verify-proof", "--entry", dir.appendingPathComponent("5.json").path, "--proof",
            dir.appendingPathComponent("5.tlog-proof").path,
            "--vkey", store.vkey.description,
        ])
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
        let consistency = try CLI.run(
            ["prove", "consistency", "--socket", store.socket, "3", "--json"], environment: env)
        let local = try CLI.run(["prove", "consistency", "--db", store.db, "3", "--json"])
        #expect(consistency.status == 0 && consistency.stdout == local.stdout)

        // Errors say what to do.
        let noToken = try CLI.run(
            ["checkpoint", "--socket", store.socket],
            environment: ProcessInfo.processInfo.environment.filter { $0.key != "PROBITY_TOKEN" })
        #expect(noToken.status == 2 && noToken.stderr.contains("PROBITY_TOKEN"))
        let wrongRole = try CLI.run(
            ["append", "--socket", store.socket, CLI.exampleConversation.path],
            environment: env.merging(["PROBITY_TOKEN": store.tokens["read"]!]) { $1 })
        #expect(wrongRole.status == 2 && wrongRole.stderr.contains("403"))
        let noDaemon = try CLI.run(
            ["checkpoint", "--socket", dir.appendingPathComponent("none.sock").path], environment: env)
        #expect(noDaemon.status == 2 && noDaemon.stderr.contains("is the daemon running"))
        #expect(try CLI.run(["verify", "--db", store.db]).status == 0)
    }

    @Test func theOptionalTCPListenerServesTheSameAPI() throws {
        let store = try DaemonStore()
        let port = 20_000 + Int(getpid() % 20_000)
        let daemon = try DaemonProcess(store: store, extra: ["--tcp", "127.0.0.1:\(port)"])
        defer { daemon.terminate() }
        let env = ProcessInfo.processInfo.environment.merging(["PROBITY_TOKEN": store.tokens["read"]!]) { $1 }
        let overTCP = try CLI.run(["checkpoint", "--url", "http://127.0.0.1:\(port)"], environment: env)
        let local = try LogReader.open(path: store.db).checkpoint().encoded
        #expect(overTCP.status == 0 && overTCP.stdout == local, "\(overTCP.stderr)")
        let overUnixURL = try CLI.run(["checkpoint", "--url", "unix:\(store.socket)"], environment: env)
        #expect(overUnixURL.stdout == overTCP.stdout)
        let badURL = try CLI.run(["checkpoint", "--url", "ftp://127.0.0.1:\(port)"], environment: env)
        #expect(badURL.status == 2 && badURL.stderr.contains("must start with http://"), "\(badURL.stderr)")
        let badPort = try CLI.run(["checkpoint", "--url", "http://127.0.0.1:notaport"], environment: env)
        #expect(badPort.status == 2 && badPort.stderr.contains("invalid port"), "\(badPort.stderr)")
    }
}
