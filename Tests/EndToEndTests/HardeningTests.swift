import Foundation
import GRDB
import ProbityClient
import ProbityDomain
import ProbityHTTP
import ProbityLog
import ProbityStore
import Testing

@testable import ProbityFixtures

/// The defect classes of the hardening review (docs/SECURITY.md), each tried the way a hostile or clumsy
/// user would: through the CLI and the daemon, as they are run.
@Suite("Hardening", .serialized)
struct HardeningTests {
    static let huge = "9223372036854775808"  // 2^63: one past what SQLite's integers hold

    func scenarioStore() throws -> (dir: URL, db: String) {
        let dir = try CLI.temporaryDirectory()
        let db = dir.appendingPathComponent("log.sqlite").path
        #expect(try CLI.run(["init", "--db", db, "--origin", "test.example/probity"]).status == 0)
        #expect(try CLI.run(["append", "--db", db, "--quiet", DomainTests.scenario.path]).status == 0)
        return (dir, db)
    }

    @Test("numbers past 2^63 - 1 are refused by every command with exit 2, naming the range")
    func hugeNumbersInTheCLI() throws {
        let (_, db) = try scenarioStore()
        for arguments in [
            ["show", Self.huge], ["prove", "inclusion", Self.huge], ["prove", "inclusion", "1", "--size", Self.huge],
            ["checkpoint", "--size", Self.huge], ["prove", "consistency", "1", "99999999999999999999"],
            ["redact", Self.huge, "--legal-basis", "x", "--requested-by", "DPO"], ["replay", "--until", Self.huge],
        ] {
            let result = try CLI.run(arguments + ["--db", db])
            #expect(result.status == 2, "\(arguments): exit \(result.status) \(result.stderr)")
            if arguments[0] != "replay" {
                #expect(result.stderr.contains("9223372036854775807"), "\(arguments): \(result.stderr)")
            }
        }
        // The largest number the log can hold is a number, not an error of the parser.
        let last = try CLI.run(["show", "9223372036854775807", "--db", db])
        #expect(last.status == 2 && last.stderr.contains("no entry"), "\(last.stderr)")
    }

    @Test("probityd answers 400 naming the parameter for every number past 2^63 - 1, and keeps serving")
    func hugeNumbersInTheAPI() throws {
        let store = try DaemonStore()
        let daemon = try DaemonProcess(store: store)
        defer { _ = daemon.terminate() }
        for (target, parameter) in [
            ("/v1/checkpoint?size=\(Self.huge)", "size"), ("/v1/events/\(Self.huge)", "seq"),
            ("/v1/events?after=\(Self.huge)", "after"), ("/v1/events?limit=\(Self.huge)", "limit"),
            ("/v1/proofs/inclusion?seq=\(Self.huge)", "seq"), ("/v1/proofs/inclusion?seq=1&size=\(Self.huge)", "size"),
            ("/v1/proofs/consistency?old=1&new=\(Self.huge)", "new"),
            ("/v1/proofs/consistency?old=\(Self.huge)", "old"),
            ("/v1/events/-1", "seq"), ("/v1/checkpoint?size=%2B1", "size"),
        ] {
            let response = try request(store, "export", "GET", target)
            #expect(
                response.status == 400 && response.text.contains("\"field\":\"\(parameter)\""),
                "\(target): \(response.status) \(response.text)")
        }
        // The last position there can be: an empty page, not an overflow of after + 1.
        let page = try request(store, "export", "GET", "/v1/events?after=9223372036854775807")
        #expect(page.status == 200 && page.text.contains(#""entries":[]"#), "\(page.text)")
        let redaction = try request(
            store, "admin", "POST", "/v1/redactions",
            body: Array(#"{"seq":1e300,"legal_basis":"x","requested_by":"DPO"}"#.utf8))
        #expect(redaction.status == 400, "\(redaction.text)")
        #expect(try request(store, "read", "GET", "/healthz").status == 200)
    }

    @Test(
        "a legal hold protects every entry of its streams, whatever the type: extensions and edits at source included")
    func holdsCoverEveryType() throws {
        let (_, db) = try scenarioStore()
        let events = [
            #"{"type":"legal_hold.placed","data":{"hold":"recours-voltaire","party":"sup-voltaire","reason":"recours"}}"#,
            #"{"type":"x-call-note","data":{"party":"sup-voltaire"},"payload":{"note":"appel du gérant"}}"#,
            #"{"type":"x-call-note","data":{"from":"contact-roux"},"payload":{"note":"appel de la contact"}}"#,
            #"{"type":"exchange.edited_at_source","data":{"source":{"platform":"platform","id":"question-2026-057-0001"},"observed_at":"2026-03-20T10:00:00Z"},"payload":{"text":"question modifiée"}}"#,
            #"{"type":"x-call-note","data":{"party":"sup-lumiere-sa"},"payload":{"note":"un autre candidat"}}"#,
        ]
        let size = try LogReader.open(path: db).size()
        #expect(
            try CLI.run(["append", "--db", db, "--quiet", "-"], stdin: Array(events.joined(separator: "\n").utf8))
                .status == 0)
        func redact(_ seq: UInt64) throws -> CLI.Result {
            try CLI.run(["redact", "--db", db, String(seq), "--legal-basis", "RGPD art. 17", "--requested-by", "DPO"])
        }
        // The organisation's own extension event, its contact's, and the edit of the contact's exchange.
        for seq in [size + 1, size + 2, size + 3] {
            let held = try redact(seq)
            #expect(
                held.status == 2 && held.stderr.contains("under legal hold \"recours-voltaire\""),
                "seq \(seq): \(held.stderr)")
        }
        #expect(try redact(size + 4).status == 0, "another party's entry is not held")
        #expect(try LogReader.open(path: db).size() == size + 6, "refused redactions append nothing")
    }

    @Test("the edit of a held party's exchange is held too (through the daemon)")
    func holdsThroughTheDaemon() throws {
        let store = try DaemonStore()
        let daemon = try DaemonProcess(store: store)
        defer { _ = daemon.terminate() }
        let ingest = store.client()
        #expect(try ingest.send("POST", "/v1/events", body: TestEvents.exchange("held-1")).status == 201)
        let hold = #"{"type":"legal_hold.placed","data":{"hold":"h-1","procedure":"2026-042","reason":"contentieux"}}"#
        let note = #"{"type":"x-memo","data":{"procedure":"2026-042"},"payload":{"memo":"compte rendu"}}"#
        #expect(try ingest.send("POST", "/v1/events", body: Array(hold.utf8)).status == 201)
        let memo = try ingest.json("POST", "/v1/events", body: Array(note.utf8))
        let seq = try #require(memo["receipts"]?.arrayValue?.first?["seq"]?.uint64Value)
        let refused = try request(
            store, "admin", "POST", "/v1/redactions",
            body: Array(#"{"seq":\#(seq),"legal_basis":"x","requested_by":"DPO"}"#.utf8))
        #expect(
            refused.status == 409 && refused.text.contains("legal_hold") && refused.text.contains("h-1"),
            "\(refused.text)")
        // An oversized body is 413, not 500.
        let big = try request(
            store, "admin", "POST", "/v1/redactions",
            body: Array(repeating: UInt8(ascii: " "), count: 70_000) + Array("{}".utf8))
        #expect(big.status == 413, "\(big.status) \(big.text)")
        // A stream name is validated before anything is signed: no second line in a signed note.
        for stream in [
            "procedure:2026-042%0Aprobity.stream-head/v1", "party:a%E2%80%AEb", "procedure:", "party:a@b.fr",
        ] {
            let response = try request(store, "read", "GET", "/v1/proofs/stream?stream=\(stream)")
            #expect(
                response.status == 400 && response.text.contains("\"field\":\"stream\""), "\(stream): \(response.text)")
        }
        // A number a double cannot hold is refused, not rounded.
        let precise = Array(#"{"type":"x-memo","data":{"n":12345678901234567890}}"#.utf8)
        let rounded = try request(store, "ingest", "POST", "/v1/events", body: precise)
        #expect(rounded.status == 400 && rounded.text.contains("would be recorded as"), "\(rounded.text)")
    }

    @Test("lock files are never followed through a symlink, and nothing is clobbered")
    func lockSymlinks() throws {
        let (dir, db) = try scenarioStore()
        let victim = dir.appendingPathComponent("victim.txt")
        try Data("precious".utf8).write(to: victim)
        try FileManager.default.removeItem(atPath: db + ".lock")
        try FileManager.default.createSymbolicLink(atPath: db + ".lock", withDestinationPath: victim.path)
        let result = try CLI.run(
            ["append", "--db", db, "--quiet", "-"], stdin: Array(#"{"type":"x-memo","data":{}}"#.utf8))
        #expect(result.status == 2 && result.stderr.contains("symbolic link"), "\(result.stderr)")
        #expect(try String(contentsOf: victim, encoding: .utf8) == "precious")
        // The socket's lock too.
        let store = try DaemonStore()
        try FileManager.default.createSymbolicLink(atPath: store.socket + ".lock", withDestinationPath: victim.path)
        let daemon = try DaemonProcess(store: store, wait: false)
        #expect(daemon.exitStatus() != 0)
        #expect(try String(contentsOf: victim, encoding: .utf8) == "precious")
    }

    @Test("a new store and its WAL and SHM files are readable by their owner only, whatever the umask")
    func storeMode() throws {
        let (_, db) = try scenarioStore()
        for path in [db, db + "-wal", db + "-shm"] where FileManager.default.fileExists(atPath: path) {
            let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
            #expect(mode & 0o077 == 0, "\(path) is \(String(mode, radix: 8))")
        }
        let dir = try CLI.temporaryDirectory()
        let result = try CLI.run([
            "init", "--db", dir.appendingPathComponent("x.sqlite").path, "--origin", "test.example/probity",
        ])
        #expect(result.stdout.contains("mode 0600"), "\(result.stdout)")
    }

    @Test("slow and numerous clients are closed or refused; /healthz still answers")
    func connectionLimits() throws {
        let store = try DaemonStore()
        let daemon = try DaemonProcess(
            store: store, extra: ["--max-connections", "4", "--header-timeout", "1", "--body-timeout", "1"])
        defer { _ = daemon.terminate() }
        // Four clients that connect and send half a request head: they hold every slot…
        var idle: [Int32] = []
        for _ in 0..<4 { idle.append(try connectUnix(store.socket, send: "GET /healthz HTTP/1.1\r\nHost: x\r\n")) }
        Thread.sleep(forTimeInterval: 0.2)
        // … so the fifth is told why it is refused, unless it is a health check, which is answered.
        let refused = try request(store, "read", "GET", "/v1/checkpoint")
        #expect(
            refused.status == 503 && refused.text.contains("too_many_connections"), "\(refused.status) \(refused.text)")
        let health = try request(store, "read", "GET", "/healthz")
        #expect(health.status == 200, "\(health.status) \(health.text)")
        // The header timeout closes the slow ones; then the daemon serves again.
        Thread.sleep(forTimeInterval: 1.8)
        for fd in idle {
            var byte: UInt8 = 0
            #expect(recv(fd, &byte, 1, 0) <= 0, "a slow client was not closed")
            close(fd)
        }
        #expect(try request(store, "read", "GET", "/healthz").status == 200)
        // A body that never ends is cut after the body timeout.
        let slowBody = try connectUnix(
            store.socket, send: "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        Thread.sleep(forTimeInterval: 1.8)
        var buffer = [UInt8](repeating: 0, count: 512)
        _ = recv(slowBody, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        var byte: UInt8 = 0
        #expect(recv(slowBody, &byte, 1, 0) <= 0, "a slow body was not cut")
        close(slowBody)
        #expect(try request(store, "read", "GET", "/healthz").status == 200)
    }

    @Test("a keep-alive connection stays open while it sends requests, and is closed once idle for the header timeout")
    func keepAliveTimeout() throws {
        let store = try DaemonStore()
        let daemon = try DaemonProcess(store: store, extra: ["--header-timeout", "1"])
        defer { _ = daemon.terminate() }
        let fd = try connectUnix(store.socket, send: "")
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        // A request every 0.3 s for 2.4 s, on one connection: longer than the timeout, which each answer
        // starts again (a check armed once and never moved on would close the connection midway).
        for i in 0..<8 {
            let request = Array("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
            #expect(request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == request.count, "request \(i)")
            Thread.sleep(forTimeInterval: 0.3)
            let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            let answer = String(decoding: buffer[0..<max(0, count)], as: UTF8.self)
            #expect(answer.hasPrefix("HTTP/1.1 200"), "request \(i): \(count) bytes: \(answer)")
        }
        // Then idle: still open half a second after the last answer, closed a second after it.
        Thread.sleep(forTimeInterval: 0.5)
        #expect(recv(fd, &buffer, 1, Int32(MSG_DONTWAIT)) < 0 && errno == EAGAIN, "closed before the timeout")
        Thread.sleep(forTimeInterval: 1.3)
        #expect(recv(fd, &buffer, 1, 0) == 0, "an idle connection was not closed")
    }

    @Test("verify reports, and does not trap on, every stored state the writer would trust")
    func verifyStoredStates() throws {
        let (dir, db) = try scenarioStore()
        let cases: [(String, String, String)] = [
            ("a negative seq", "UPDATE entries SET seq = -5 WHERE seq = 33", "seq -5"),
            (
                "a rewound streams table", "UPDATE streams SET seq = seq - 1 WHERE stream = 'procedure:2026-057'",
                "rewound"
            ),
            ("a payload for no entry", "INSERT INTO payloads VALUES (4242, x'00', x'7b7d')", "4242"),
            ("an added trigger", "CREATE TRIGGER t AFTER INSERT ON entries BEGIN SELECT 1; END", "trigger \"t\""),
            ("a checkpoint of negative size", "INSERT INTO checkpoints VALUES (-3, 'x', 'x')", "size -3"),
            ("a source forgotten", "DELETE FROM sources WHERE seq = (SELECT MIN(seq) FROM sources)", "lacks"),
            ("a reference forged", "INSERT INTO refs VALUES ('party', 'ghost', 'supplier_org', 3)", "ghost"),
        ]
        for (name, sql, words) in cases {
            let copy = dir.appendingPathComponent("copy.sqlite").path
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: copy + suffix) }
            try FileManager.default.copyItem(atPath: db, toPath: copy)
            try DatabaseQueue(path: copy).write { try $0.execute(sql: sql) }
            let result = try CLI.run(["verify", "--db", copy])
            #expect(
                result.status == 1 && result.stdout.contains(words),
                "\(name): exit \(result.status) \(result.stdout) \(result.stderr)")
        }
        // probityd does not sign a stream head from a rewound table it cannot trust: verify first.
        #expect(try CLI.run(["verify", "--db", db]).status == 0)
    }

    @Test("bidirectional and control characters in payloads show as visible marks in every export")
    func displaySafety() throws {
        let (dir, db) = try scenarioStore()
        let event =
            #"{"type":"exchange.recorded","data":{"procedure":"2026-057","channel":"email","kind":"message","visibility":"direct","direction":"inbound","from":"contact-roux","to":["agent-lefevre"],"source":{"platform":"email","id":"bidi-1"},"occurred_at":"2026-03-12T09:30:00Z"},"payload":{"text":"facture\u202Efdp.exe \u001B[31mrouge"}}"#
        #expect(try CLI.run(["append", "--db", db, "--quiet", "-"], stdin: Array(event.utf8)).status == 0)
        for format in ["csv", "html"] {
            let out = dir.appendingPathComponent("t.\(format)").path
            #expect(
                try CLI.run([
                    "export", "timeline", "--db", db, "--procedure", "2026-057", "--format", format, "-o", out,
                ]).status == 0)
            let text = try String(contentsOfFile: out, encoding: .utf8)
            #expect(text.contains("facture[U+202E]fdp.exe") && !text.contains("\u{202E}"), "\(format)")
        }
        let timeline = try CLI.run(["timeline", "--db", db, "--procedure", "2026-057"])
        #expect(
            timeline.stdout.contains("[U+202E]") && timeline.stdout.contains("[U+001B]")
                && !timeline.stdout.contains("\u{1B}"))
    }

    /// One request to the daemon with `role`'s token, whatever the status.
    func request(
        _ store: DaemonStore, _ role: String, _ method: String, _ target: String, body: [UInt8]? = nil
    ) throws -> HTTPResponse {
        var headers = [("Authorization", "Bearer \(store.tokens[role]!)")]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        return try HTTPConnection(.unix(path: store.socket), timeout: 10).request(
            method, target, headers: headers, body: body)
    }

    /// A raw Unix-socket connection that sent `text` and is left open.
    func connectUnix(_ path: String, send text: String) throws -> Int32 {
        let fd = try DaemonProcess.connectUnix(path)
        _ = Array(text.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        return fd
    }
}
