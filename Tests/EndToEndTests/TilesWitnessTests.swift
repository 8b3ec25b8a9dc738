import Foundation
import ProbityHTTP
import ProbityLog
import ProbityStore
import Testing

@testable import ProbityFixtures

/// The tiles probityd serves and `probity export tiles` writes, read by Go's sumdb/tlog; and
/// `probity witness serve` as a log (or a forger) meets it over HTTP.
@Suite("tlog-tiles and the witness", .serialized)
struct TilesWitnessTests {
    /// A TCP port nobody listens on now.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(bound == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func goTiles(_ arguments: [String], cache: URL) throws -> CLI.Result {
        try InteropTests.goRun("gotiles.go", arguments, cache: cache)
    }

    /// Every file under `directory`, as paths below it.
    static func files(_ directory: URL) throws -> [String] {
        let enumerator = try #require(FileManager.default.enumerator(atPath: directory.path))
        return enumerator.compactMap { $0 as? String }.filter { path in
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(
                atPath: directory.appendingPathComponent(path).path, isDirectory: &isDirectory)
            return !isDirectory.boolValue
        }.sorted()
    }

    @Test("Go's tlog reads the served and the exported tiles, which are byte-identical, as the log grows")
    func tilesForGo() throws {
        let store = try DaemonStore()
        let exported = store.directory.appendingPathComponent("www")
        let cache = store.directory.appendingPathComponent("gocache")
        // 604 entries: two full leaf tiles, a partial one, a partial level-1 tile.
        let appended = try CLI.run(
            ["append", "--db", store.db, "--quiet", "-"], stdin: TestEvents.lines(600, prefix: "a"))
        #expect(appended.status == 0, "\(appended.stderr)")
        let first = try CLI.run(["export", "tiles", "--db", store.db, "--dir", exported.path, "--json"])
        #expect(first.status == 0 && first.json["size"]?.uint64Value == 604, "\(first.stdout)\(first.stderr)")
        #expect(try Self.files(exported).contains("tile/0/001"))

        let port = try Self.freePort()
        let daemon = try DaemonProcess(store: store, extra: ["--tiles-listen", "127.0.0.1:\(port)"])
        defer { daemon.terminate() }
        let base = "http://127.0.0.1:\(port)/tlog"
        var checked = try Self.goTiles([store.vkey.description, base], cache: cache)
        #expect(checked.status == 0 && checked.stdout == "ok 604 604\n", "\(checked.stdout)\(checked.stderr)")

        // Appends through the daemon, then an incremental export: Go follows both, with a consistency proof.
        let env = ProcessInfo.processInfo.environment.merging(["PROBITY_TOKEN": store.tokens["ingest"]!]) { $1 }
        let more = try CLI.run(
            ["append", "--socket", store.socket, "--quiet", "-"], stdin: TestEvents.lines(300, prefix: "b"),
            environment: env)
        #expect(more.status == 0, "\(more.stderr)")
        let second = try CLI.run(["export", "tiles", "--db", store.db, "--dir", exported.path, "--json"])
        #expect(second.json["previous_size"]?.uint64Value == 604 && second.json["size"]?.uint64Value == 904)
        for source in [base, exported.path] {
            checked = try Self.goTiles([store.vkey.description, source, "604"], cache: cache)
            #expect(
                checked.status == 0 && checked.stdout == "ok 904 904\n", "\(source): \(checked.stdout)\(checked.stderr)"
            )
        }
        // Byte for byte what the daemon serves, file by file (older partial tiles included).
        let publicListener = HTTPConnection(.tcp(host: "127.0.0.1", port: UInt16(port)))
        for path in try Self.files(exported) {
            let served = try publicListener.request("GET", "/tlog/" + path)
            #expect(served.status == 200, "\(path)")
            let file = Array(try Data(contentsOf: exported.appendingPathComponent(path)))
            #expect(served.body == file, "\(path)")
            if path.hasPrefix("tile/"), !path.contains(".p/") {
                #expect(served.header("Cache-Control")?.contains("immutable") == true, "\(path)")
            }
        }
        // The public listener serves the tiles only; the API's listeners ask a token that may read entries.
        #expect(try publicListener.request("GET", "/v1/events").status == 404)
        #expect(try publicListener.request("GET", "/tlog/tile/0/004").status == 404)
        #expect(try publicListener.request("GET", "/tlog/tile/0/x000/001").status == 404)
        let local = HTTPConnection(.unix(path: store.socket))
        #expect(try local.request("GET", "/tlog/checkpoint").status == 401)
        let ingest = try local.request(
            "GET", "/tlog/tile/entries/000", headers: [("Authorization", "Bearer \(store.tokens["ingest"]!)")])
        #expect(ingest.status == 403)
        let read = try local.request(
            "GET", "/tlog/tile/entries/000", headers: [("Authorization", "Bearer \(store.tokens["read"]!)")])
        let bundle = Array(try Data(contentsOf: exported.appendingPathComponent("tile/entries/000")))
        #expect(read.status == 200 && read.body == bundle)

        // Go is really checking: a changed byte in a copied tile is caught.
        var tile = Array(try Data(contentsOf: exported.appendingPathComponent("tile/0/001")))
        tile[100] ^= 1
        try Data(tile).write(to: exported.appendingPathComponent("tile/0/001"))
        let refused = try Self.goTiles([store.vkey.description, exported.path], cache: cache)
        #expect(refused.status == 1 && refused.stdout.contains("FAIL"), "\(refused.stdout)\(refused.stderr)")
        // An export into the copy of another log, or of another history, is refused (exit 1).
        let other = try DaemonStore(directory: store.directory.appendingPathComponent("other"))
        let mismatch = try CLI.run(["export", "tiles", "--db", other.db, "--dir", exported.path])
        #expect(mismatch.status == 1 && mismatch.stderr.contains("not the log's"), "\(mismatch.stderr)")
    }

    @Test("a witness cosigns a growing log, refuses forks with 409 or 422, and keeps its state across SIGKILL")
    func witness() throws {
        let store = try DaemonStore(seeded: false)
        let dir = store.directory
        let state = dir.appendingPathComponent("witness").path
        let created = try CLI.run(["witness", "init", "--state", state, "--name", "witness.example/w1", "--json"])
        #expect(created.status == 0, "\(created.stderr)")
        let witnessKey = try CosignatureVerifier(try #require(created.json["verifier_key"]?.stringValue))
        let logArgument = "test.example/probity=\(store.vkey)"
        let port = try Self.freePort()
        var witness = try WitnessProcess(state: state, port: port, logs: [logArgument])
        let connection = HTTPConnection(.tcp(host: "127.0.0.1", port: UInt16(port)))
        func add(_ request: AddCheckpointRequest) throws -> HTTPResponse {
            try connection.request("POST", "/add-checkpoint", body: request.body)
        }
        func grow(_ count: Int, round: Int, db: String = store.db) throws -> SignedCheckpoint {
            #expect(
                try CLI.run(
                    ["append", "--db", db, "--quiet", "-"], stdin: TestEvents.lines(count, prefix: "r\(round)")
                ).status == 0)
            return try LogReader.open(path: db).checkpoint()
        }
        let seed = try CLI.run(["append", "--db", store.db, "--quiet", "-"], stdin: TestEvents.seed)
        #expect(seed.status == 0)
        let at4 = try LogReader.open(path: store.db).checkpoint()

        // First use: old 0. The cosignature verifies with the witness's key, over this checkpoint.
        let firstAnswer = try add(AddCheckpointRequest(oldSize: 0, proof: [], checkpoint: at4))
        #expect(firstAnswer.status == 200, "\(firstAnswer.text)")
        let cosigned = try SignedNote.parse(at4.encoded + firstAnswer.text)
        #expect(witnessKey.cosignatureTime(on: cosigned) != nil)
        #expect(store.vkey.verifies(cosigned))

        // Growth with a consistency proof; a stale old size is answered 409 with the size held.
        let at14 = try grow(10, round: 0)
        let proof = try LogReader.open(path: store.db).consistencyProof(from: 4, to: 14)
        #expect(try add(AddCheckpointRequest(oldSize: 4, proof: proof, checkpoint: at14)).status == 200)
        let stale = try add(AddCheckpointRequest(oldSize: 4, proof: proof, checkpoint: at14))
        #expect(stale.status == 409 && stale.text == "14\n" && stale.header("Content-Type") == "text/x.tlog.size")

        // SIGKILL, restart: the witness still holds 14.
        witness.kill9()
        witness = try WitnessProcess(state: state, port: port, logs: [logArgument])
        let after = try add(AddCheckpointRequest(oldSize: 0, proof: [], checkpoint: at4))
        #expect(after.status == 409 && after.text == "14\n")

        // A fork with the same key and origin: the same size with another root (409), and a longer tree
        // whose past differs (its proof from 14 does not lead to the held root: 422).
        let forkDB = dir.appendingPathComponent("fork.sqlite").path
        let keyPath = dir.appendingPathComponent("log.key.pem").path
        #expect(
            try CLI.run(["init", "--db", forkDB, "--origin", "test.example/probity", "--key", keyPath]).status == 0)
        #expect(try CLI.run(["append", "--db", forkDB, "--quiet", "-"], stdin: TestEvents.seed).status == 0)
        let fork14 = try grow(10, round: 7, db: forkDB)
        #expect(fork14.checkpoint.size == 14 && fork14.checkpoint.root != at14.checkpoint.root)
        #expect(try add(AddCheckpointRequest(oldSize: 14, proof: [], checkpoint: fork14)).status == 409)
        let fork20 = try grow(6, round: 8, db: forkDB)
        let forkProof = try LogReader.open(path: forkDB).consistencyProof(from: 14, to: 20)
        let rewritten = try add(AddCheckpointRequest(oldSize: 14, proof: forkProof, checkpoint: fork20))
        #expect(rewritten.status == 422, "\(rewritten.text)")

        // The other refusals: unknown origin 404, untrusted key 403, old above the size 400, a bad body 400.
        let strangerDB = dir.appendingPathComponent("stranger.sqlite").path
        #expect(try CLI.run(["init", "--db", strangerDB, "--origin", "other.example/log"]).status == 0)
        let strangerCheckpoint = try LogReader.open(path: strangerDB).checkpoint()
        #expect(try add(AddCheckpointRequest(oldSize: 0, proof: [], checkpoint: strangerCheckpoint)).status == 404)
        let impostorDB = dir.appendingPathComponent("impostor.sqlite").path
        #expect(try CLI.run(["init", "--db", impostorDB, "--origin", "test.example/probity"]).status == 0)
        let impostor = try LogReader.open(path: impostorDB).checkpoint()
        #expect(try add(AddCheckpointRequest(oldSize: 0, proof: [], checkpoint: impostor)).status == 403)
        #expect(try add(AddCheckpointRequest(oldSize: 15, proof: [], checkpoint: at14)).status == 400)
        #expect(try connection.request("POST", "/add-checkpoint", body: Array("old x\n\n".utf8)).status == 400)

        // The real log goes on: the witness still cosigns it, from what it holds.
        let at20 = try grow(6, round: 1)
        let onward = try LogReader.open(path: store.db).consistencyProof(from: 14, to: 20)
        #expect(try add(AddCheckpointRequest(oldSize: 14, proof: onward, checkpoint: at20)).status == 200)
        let held = try String(contentsOfFile: state + "/logs/test.example%2Fprobity.checkpoint", encoding: .utf8)
        #expect(held == at20.encoded)

        // One witness per state directory.
        let second = try CLI.run([
            "witness", "serve", "--state", state, "--tcp", "127.0.0.1:\(try Self.freePort())", "--log", logArgument,
        ])
        #expect(second.status == 2 && second.stderr.contains("in use by"), "\(second.stderr)")
        #expect(witness.terminate() == 0)
    }
}

extension TilesWitnessTests {
    /// A witness state made with `probity witness init`, and its verifier key.
    static func witnessState(_ dir: URL, _ name: String) throws -> (state: String, key: String) {
        let state = dir.appendingPathComponent(name).path
        let created = try CLI.run(["witness", "init", "--state", state, "--name", "\(name).example/w", "--json"])
        #expect(created.status == 0, "\(created.stderr)")
        return (state, try #require(created.json["verifier_key"]?.stringValue))
    }

    @Test("probityd gets 2 of 3 witnesses (one down) to cosign, across restarts of both; auditors check with --witness")
    func cosignedByTwoOfThree() throws {
        let store = try DaemonStore()
        let dir = store.directory
        let logArgument = "test.example/probity=\(store.vkey)"
        let witnesses = try ["w1", "w2", "w3"].map { try Self.witnessState(dir, $0) }
        let ports = try witnesses.map { _ in try Self.freePort() }
        var w1 = try WitnessProcess(state: witnesses[0].state, port: ports[0], logs: [logArgument])
        let w2 = try WitnessProcess(state: witnesses[1].state, port: ports[1], logs: [logArgument])
        defer { w2.terminate() }
        // w3 is never started: its port answers nothing.
        let tilesPort = try Self.freePort()
        let flags =
            zip(witnesses, ports).flatMap { ["--witness", "http://127.0.0.1:\($1) \($0.key)"] }
            + ["--witness-quorum", "2", "--tiles-listen", "127.0.0.1:\(tilesPort)"]
        var daemon = try DaemonProcess(store: store, extra: flags)
        let env = ProcessInfo.processInfo.environment.merging(["PROBITY_TOKEN": store.tokens["ingest"]!]) { $1 }
        func append(_ prefix: String) throws {
            let appended = try CLI.run(
                ["append", "--socket", store.socket, "--quiet", "-"], stdin: TestEvents.lines(20, prefix: prefix),
                environment: env)
            #expect(appended.status == 0, "\(appended.stderr)")
        }
        let read = [("Authorization", "Bearer \(store.tokens["read"]!)")]
        func witnessedCheckpoint() throws -> SignedCheckpoint {
            let answer = try HTTPConnection(.unix(path: store.socket)).request(
                "GET", "/v1/checkpoint?witnessed=1", headers: read)
            #expect(answer.status == 200, "\(answer.text)")
            return try SignedCheckpoint(parsing: answer.text)
        }
        let keys = try witnesses.map { try CosignatureVerifier($0.key) }
        let quorum = WitnessQuorum(witnesses: keys, quorum: 2)

        try append("a")
        var cosigned = try witnessedCheckpoint()
        #expect(cosigned.checkpoint.size == store.base + 20)
        #expect(quorum.cosigners(of: cosigned.note).map(\.witness.name) == ["w1.example/w", "w2.example/w"])
        let metrics = try HTTPConnection(.unix(path: store.socket)).request("GET", "/metrics").text
        #expect(metrics.contains(#"probity_witness_requests_total{witness="w3.example/w",outcome="unreachable"}"#))

        // Restarts of the daemon and of a witness (SIGKILL): the daemon learns the size held from a 409.
        #expect(daemon.terminate() == 0)
        w1.kill9()
        w1 = try WitnessProcess(state: witnesses[0].state, port: ports[0], logs: [logArgument])
        defer { w1.terminate() }
        daemon = try DaemonProcess(store: store, extra: flags)
        defer { daemon.terminate() }
        try append("b")
        cosigned = try witnessedCheckpoint()
        #expect(cosigned.checkpoint.size == store.base + 40 && quorum.isMet(by: cosigned.note))
        let proofAnswer = try HTTPConnection(.unix(path: store.socket)).request(
            "GET", "/v1/proofs/inclusion?seq=\(store.base + 30)&witnessed=1", headers: read)
        #expect(proofAnswer.status == 200, "\(proofAnswer.text)")
        // Receipts that wait for the quorum: proven against a cosigned checkpoint, the duplicate flag kept.
        let ingest = [("Authorization", "Bearer \(store.tokens["ingest"]!)"), ("Content-Type", "application/json")]
        for (event, duplicate) in [("c-1", false), ("c-1", true)] {
            let posted = try HTTPConnection(.unix(path: store.socket)).request(
                "POST", "/v1/events?witnessed=1", headers: ingest, body: TestEvents.exchange(event))
            #expect(posted.status == (duplicate ? 200 : 201) && posted.header("probity-witnessed") == "true")
            let receipt = try #require(try JSONParser.parse(posted.text)["receipts"]?.arrayValue?.first)
            let note = try SignedCheckpoint(parsing: receipt["checkpoint"]?.stringValue ?? "").note
            #expect(quorum.isMet(by: note), "\(posted.text)")
            #expect((receipt["duplicate"] == .bool(true)) == duplicate)
        }

        // The auditor's side, with only the keys: verify, verify-proof, the monitor, a bundle, the Python verifier.
        let witnessFlags = keys.flatMap { ["--witness", $0.description] }
        let verified = try CLI.run(
            ["verify", "--db", store.db, "--vkey", store.vkey.description] + witnessFlags + ["--quorum", "2"])
        #expect(
            verified.status == 0 && verified.stdout.contains("witnessed: the checkpoint of size \(store.base + 41)"),
            "\(verified.stdout)")
        let all = try CLI.run(["verify", "--db", store.db] + witnessFlags)
        #expect(all.status == 1 && all.stdout.contains("NOT WITNESSED"), "\(all.stdout)")
        let proofJSON = try JSONParser.parse(proofAnswer.text)
        let proofFile = dir.appendingPathComponent("e.tlog-proof"), entryFile = dir.appendingPathComponent("e.json")
        try Data((proofJSON["proof"]?.stringValue ?? "").utf8).write(to: proofFile)
        try Data(try #require(try LogReader.open(path: store.db).entry(seq: store.base + 30)).bytes).write(
            to: entryFile)
        let proven = try CLI.run(
            ["verify-proof", "--entry", entryFile.path, "--proof", proofFile.path, "--vkey", store.vkey.description]
                + witnessFlags + ["--quorum", "2"])
        #expect(
            proven.status == 0 && proven.stdout.contains("cosigned by w1.example/w"), "\(proven.stdout)\(proven.stderr)"
        )
        let unmet = try CLI.run(
            ["verify-proof", "--entry", entryFile.path, "--proof", proofFile.path, "--vkey", store.vkey.description]
                + witnessFlags)
        #expect(unmet.status == 1 && unmet.stdout.contains("fewer than the 3 required"), "\(unmet.stdout)")
        let monitor = try CLI.run(
            [
                "monitor", "--url", "http://127.0.0.1:\(tilesPort)/tlog", "--vkey", store.vkey.description, "--state",
                dir.appendingPathComponent("monitor").path, "--once",
            ] + witnessFlags + ["--quorum", "2"])
        #expect(monitor.status == 0 && monitor.stdout.contains("cosigned by"), "\(monitor.stdout)\(monitor.stderr)")

        #expect(daemon.terminate() == 0)
        let bundle = dir.appendingPathComponent("b.zip").path
        let exported = try CLI.run(["export", "bundle", "--db", store.db, "--procedure", "2026-042", "-o", bundle])
        #expect(exported.status == 0, "\(exported.stderr)")
        let bundled = try CLI.run(
            ["verify-bundle", bundle, "--vkey", store.vkey.description] + witnessFlags + ["--quorum", "2"])
        #expect(bundled.status == 0 && bundled.stdout.contains("cosigned by 2 of the 3 witnesses"), "\(bundled.stdout)")
        let script = CLI.packageRoot.appendingPathComponent("Sources/ProbityEvidence/Resources/verify_bundle.py").path
        let python = try CLI.run(
            [script, bundle, "--vkey", store.vkey.description] + witnessFlags + ["--quorum", "2"],
            executable: "/usr/bin/python3")
        #expect(
            python.status == 0 && python.stdout.contains("cosigned by 2 of the 3 witnesses"),
            "\(python.stdout)\(python.stderr)")
        let pythonAll = try CLI.run([script, bundle] + witnessFlags, executable: "/usr/bin/python3")
        #expect(pythonAll.status == 1 && pythonAll.stdout.contains("fewer than the 3 required"), "\(pythonAll.stdout)")
    }

    @Test(
        "the monitor keeps its state and catches a rewritten tile, a fork, a missing bundle and an unwitnessed checkpoint"
    )
    func monitorCatches() throws {
        let store = try DaemonStore()
        let dir = store.directory
        let www = dir.appendingPathComponent("www")
        func export(_ db: String, _ target: URL) throws {
            let result = try CLI.run(["export", "tiles", "--db", db, "--dir", target.path])
            #expect(result.status == 0, "\(result.stderr)")
        }
        #expect(
            try CLI.run(["append", "--db", store.db, "--quiet", "-"], stdin: TestEvents.lines(300, prefix: "a")).status
                == 0)
        try export(store.db, www)
        let server = try StaticServer(directory: www)
        defer { server.stop() }
        let state = dir.appendingPathComponent("monitor").path
        func monitor(_ state: String, _ extra: [String] = []) throws -> CLI.Result {
            try CLI.run(
                ["monitor", "--url", server.url, "--vkey", store.vkey.description, "--state", state, "--once"] + extra)
        }
        var result = try monitor(state)
        #expect(result.status == 0 && result.stdout.contains("304 new entries"), "\(result.stdout)\(result.stderr)")
        #expect(
            try CLI.run(["append", "--db", store.db, "--quiet", "-"], stdin: TestEvents.lines(10, prefix: "b")).status
                == 0)
        try export(store.db, www)
        result = try monitor(state)
        #expect(
            result.status == 0 && result.stdout.contains("10 new entries")
                && result.stdout.contains("consistent with size 304"), "\(result.stdout)")

        // A witness that never saw the checkpoint.
        let (_, witnessKey) = try Self.witnessState(dir, "w9")
        result = try monitor(dir.appendingPathComponent("m2").path, ["--witness", witnessKey])
        #expect(result.status == 1 && result.stdout.contains("never saw"), "\(result.stdout)")

        // A rewritten tile: a full one, caught by a fresh monitor (one with state checked it already);
        // the right edge, caught by both.
        for (tile, states) in [
            ("tile/0/000", [dir.appendingPathComponent("m3").path]),
            ("tile/0/001.p/58", [state, dir.appendingPathComponent("m5").path]),
        ] {
            let tilePath = www.appendingPathComponent(tile)
            let original = try Data(contentsOf: tilePath)
            var changed = original
            changed[40] ^= 1
            try changed.write(to: tilePath)
            for monitorState in states {
                result = try monitor(monitorState)
                #expect(result.status == 1 && result.stdout.contains("ALERT: rewritten"), "\(tile): \(result.stdout)")
            }
            try original.write(to: tilePath)
        }

        // A missing entry bundle.
        let bundlePath = www.appendingPathComponent("tile/entries/001.p/58")
        let bundle = try Data(contentsOf: bundlePath)
        try FileManager.default.removeItem(at: bundlePath)
        result = try monitor(dir.appendingPathComponent("m4").path)
        #expect(result.status == 1 && result.stdout.contains("ALERT: missing"), "\(result.stdout)")
        try bundle.write(to: bundlePath)

        // A fork signed with the log's own key: another history served at the same URL.
        let forkDB = dir.appendingPathComponent("fork.sqlite").path
        let key = dir.appendingPathComponent("log.key.pem").path
        #expect(try CLI.run(["init", "--db", forkDB, "--origin", "test.example/probity", "--key", key]).status == 0)
        #expect(
            try CLI.run(
                ["append", "--db", forkDB, "--quiet", "-"],
                stdin: TestEvents.seed + Array("\n".utf8) + TestEvents.lines(320, prefix: "f")
            ).status == 0)
        try FileManager.default.removeItem(at: www)
        try export(forkDB, www)
        result = try monitor(state)
        #expect(result.status == 1 && result.stdout.contains("ALERT: fork"), "\(result.stdout)")
        // The state still holds the last good checkpoint.
        let kept = try SignedCheckpoint(parsing: try String(contentsOfFile: state + "/checkpoint", encoding: .utf8))
        #expect(kept.checkpoint.size == 314)
    }
}

/// A directory served over HTTP by Python's `http.server`, as a static web server would serve an export.
final class StaticServer {
    let process = Process()
    let url: String

    init(directory: URL) throws {
        let port = try TilesWitnessTests.freePort()
        url = "http://127.0.0.1:\(port)"
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-m", "http.server", "--bind", "127.0.0.1", "--directory", directory.path, String(port)]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if (try? HTTPConnection(.tcp(host: "127.0.0.1", port: UInt16(port)), timeout: 2).request(
                "GET", "/checkpoint"))?.status == 200
            {
                return
            }
            usleep(50_000)
        }
        throw ClientError("python3 -m http.server did not start")
    }

    /// SIGKILL: a child of the test process may inherit a mask that blocks SIGTERM.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// `probity witness serve` on a TCP port, started as an operator would.
final class WitnessProcess {
    let process = Process()
    let stderrPath: String

    init(state: String, port: Int, logs: [String]) throws {
        stderrPath = state + ".stderr-\(UUID().uuidString.prefix(6))"
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments =
            ["witness", "serve", "--state", state, "--tcp", "127.0.0.1:\(port)"] + logs.flatMap { ["--log", $0] }
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            guard process.isRunning else { throw ClientError("the witness exited: \(stderr)") }
            if (try? HTTPConnection(.tcp(host: "127.0.0.1", port: UInt16(port)), timeout: 5).request("GET", "/healthz"))?
                .status == 200
            {
                return
            }
            usleep(20_000)
        }
        throw ClientError("the witness did not start within 30 s: \(stderr)")
    }

    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    func kill9() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    @discardableResult
    func terminate() -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit { kill9() }
}
