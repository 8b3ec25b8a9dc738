import Foundation
import ProbityLog
import Testing

@testable import ProbityFixtures

/// probityd answers plain appends, checkpoints and proofs on the event loop (`EventLoopRoutes`) and
/// everything else through Hummingbird: these tests hold the two paths to the same answers, and the
/// connection to HTTP's rules (order of pipelined responses, `Connection: close`, `Expect`, chunked bodies).
@Suite("probityd's append path on the event loop", .serialized)
struct DaemonFastPathTests {
    /// A raw HTTP/1.1 connection to the daemon's socket, reading responses one by one.
    final class RawConnection {
        let fd: Int32
        private var buffered: [UInt8] = []

        init(_ socketPath: String) throws {
            fd = try DaemonProcess.connectUnix(socketPath)
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        deinit { close(fd) }

        func send(_ bytes: [UInt8]) {
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        }

        struct Response {
            let status: Int
            let headers: [String: String]
            let body: [UInt8]
            var text: String { String(decoding: body, as: UTF8.self) }
        }

        /// The next response (its body by `Content-Length`), or nil once the daemon closed the connection.
        func response() throws -> Response? {
            while true {
                if let end = buffered.firstRange(of: Array("\r\n\r\n".utf8)) {
                    let head = String(decoding: buffered[..<end.lowerBound], as: UTF8.self)
                    var lines = head.components(separatedBy: "\r\n")
                    let status = Int(lines.removeFirst().split(separator: " ")[1])!
                    var headers: [String: String] = [:]
                    for line in lines {
                        let parts = line.split(separator: ":", maxSplits: 1)
                        headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces)
                    }
                    let length = Int(headers["content-length"] ?? "0")!
                    while buffered.count < end.upperBound + length { try #require(fill(), "the body was cut short") }
                    let body = Array(buffered[end.upperBound..<end.upperBound + length])
                    buffered.removeFirst(end.upperBound + length)
                    return Response(status: status, headers: headers, body: body)
                }
                guard fill() else { return nil }
            }
        }

        /// Reads more; false at end of stream.
        private func fill() -> Bool {
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = read(fd, &chunk, chunk.count)
            guard count > 0 else { return false }
            buffered += chunk[..<count]
            return true
        }
    }

    static func post(_ token: String, _ body: [UInt8], headers: [String] = []) -> [UInt8] {
        let lines =
            [
                "POST /v1/events HTTP/1.1", "Host: probityd", "Authorization: Bearer \(token)",
                "Content-Type: application/json", "Content-Length: \(body.count)",
            ] + headers
        return Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8) + body
    }

    /// The same body sent chunked, which `EventLoopRoutes` leaves to Hummingbird.
    static func postChunked(_ token: String, _ body: [UInt8]) -> [UInt8] {
        let lines = [
            "POST /v1/events HTTP/1.1", "Host: probityd", "Authorization: Bearer \(token)",
            "Content-Type: application/json", "Transfer-Encoding: chunked",
        ]
        let half = body.count / 2
        func chunk(_ part: ArraySlice<UInt8>) -> [UInt8] {
            Array((String(part.count, radix: 16) + "\r\n").utf8) + part + Array("\r\n".utf8)
        }
        return Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8) + chunk(body[..<half]) + chunk(body[half...])
            + Array("0\r\n\r\n".utf8)
    }

    @Test("pipelined requests are answered in order, whichever path answers each")
    func pipelinedRequestsKeepTheirOrder() throws {
        let store = try DaemonStore()
        let daemon = try DaemonProcess(store: store)
        defer { _ = daemon.terminate() }
        let token = store.tokens["ingest"]!
        let connection = try RawConnection(store.socket)
        // One write: an append, a read Hummingbird answers, another append, the first again (a duplicate),
        // a chunked append (Hummingbird's route), and an append with a bad token.
        connection.send(
            Self.post(token, TestEvents.exchange("pipe-1"))
                + Array("GET /healthz HTTP/1.1\r\nHost: probityd\r\n\r\n".utf8)
                + Self.post(token, TestEvents.exchange("pipe-2")) + Self.post(token, TestEvents.exchange("pipe-1"))
                + Self.postChunked(token, TestEvents.exchange("pipe-3"))
                + Self.post("prb_nope", TestEvents.exchange("pipe-4")))
        var answers: [RawConnection.Response] = []
        for _ in 0..<6 {
            answers.append(try #require(try connection.response(), "answer \(answers.count + 1) missing"))
        }
        #expect(
            answers.map(\.status) == [201, 200, 201, 200, 201, 401], "\(answers.map { "\($0.status) \($0.text)" })")
        #expect(answers[1].text.contains("\"status\":\"ok\""))
        // Seqs follow the order of the requests: each append was committed before the next was read.
        let seqs = [0, 2, 3, 4].map { index in
            (try? JSONParser.parse(answers[index].body))?["receipts"]?.arrayValue?.first?["seq"]?.uint64Value
        }
        #expect(seqs == [4, 5, 4, 6], "\(seqs)")
        #expect(answers[5].headers["www-authenticate"] == "Bearer realm=\"probityd\"")
        for answer in answers {
            #expect(answer.headers["server"] == "probityd" && answer.headers["date"]?.hasSuffix(" GMT") == true)
        }
    }

    @Test("the event loop's answers are Hummingbird's, byte for byte, for good and bad requests")
    func bothPathsAnswerAlike() throws {
        let store = try DaemonStore()
        let daemon = try DaemonProcess(store: store)
        defer { _ = daemon.terminate() }
        let ingest = store.tokens["ingest"]!
        let cases: [(String, String, [UInt8])] = [
            ("no such token", "prb_unknown", TestEvents.exchange("x-1")),
            ("a read token", store.tokens["read"]!, TestEvents.exchange("x-1")),
            ("not JSON", ingest, Array("{\"type\":".utf8)),
            ("an unknown type", ingest, Array(#"{"type":"exchange.invented","data":{}}"#.utf8)),
            (
                "an unknown procedure", ingest,
                Array(
                    String(decoding: TestEvents.exchange("x-2"), as: UTF8.self).replacing("2026-042", with: "2026-999")
                        .utf8)
            ),
            ("a batch with a bad event", ingest, Array(TestEvents.batch(["x-3"]).dropLast(2)) + Array(",{}]}".utf8)),
        ]
        for (name, token, body) in cases {
            let fast = try RawConnection(store.socket)
            fast.send(Self.post(token, body))
            let slow = try RawConnection(store.socket)
            slow.send(Self.postChunked(token, body))
            let a = try #require(try fast.response()), b = try #require(try slow.response())
            #expect(a.status == b.status && a.body == b.body, "\(name): \(a.status) \(a.text) vs \(b.status) \(b.text)")
            #expect(a.status >= 400, "\(name): \(a.status)")
            #expect(a.headers["content-type"] == b.headers["content-type"])
        }
        // Nothing of them was appended; a good append through either path is 201 and the next seq.
        let good = try RawConnection(store.socket)
        good.send(Self.post(ingest, TestEvents.exchange("x-ok")))
        #expect(try good.response()?.status == 201)
        good.send(Self.postChunked(ingest, TestEvents.exchange("x-ok-2")))
        let second = try #require(try good.response())
        #expect(second.status == 201 && second.text.contains("\"seq\":5"), "\(second.text)")
    }

    @Test("Connection: close is honoured, and Expect: 100-continue goes through Hummingbird")
    func connectionCloseAndExpect() throws {
        let store = try DaemonStore()
        let daemon = try DaemonProcess(store: store)
        defer { _ = daemon.terminate() }
        let token = store.tokens["ingest"]!
        let closing = try RawConnection(store.socket)
        closing.send(Self.post(token, TestEvents.exchange("c-1"), headers: ["Connection: close"]))
        let answer = try #require(try closing.response())
        #expect(answer.status == 201 && answer.headers["connection"] == "close")
        #expect(try closing.response() == nil, "the connection stayed open")

        let expecting = try RawConnection(store.socket)
        expecting.send(Self.post(token, TestEvents.exchange("c-2"), headers: ["Expect: 100-continue"]))
        var final = try #require(try expecting.response())
        if final.status == 100 { final = try #require(try expecting.response()) }
        #expect(final.status == 201, "\(final.status) \(final.text)")
    }

    @Test("checkpoints and proofs read on the event loop are the router's answers, byte for byte")
    func readsAnswerAlike() throws {
        let store = try DaemonStore()
        let daemon = try DaemonProcess(store: store)
        defer { _ = daemon.terminate() }
        let read = store.tokens["read"]!
        let targets = [
            "/v1/checkpoint", "/v1/checkpoint?size=4", "/v1/checkpoint?size=2", "/v1/proofs/inclusion?seq=1",
            "/v1/proofs/inclusion?seq=2&size=4", "/v1/proofs/inclusion?seq=9", "/v1/proofs/inclusion?seq=x",
            "/v1/proofs/inclusion", "/v1/proofs/consistency?old=2", "/v1/proofs/consistency?old=5",
            "/v1/proofs/consistency?old=0",
        ]
        for target in targets {
            for token in [read, store.tokens["ingest"]!, "prb_unknown"] {
                let head = "GET \(target) HTTP/1.1\r\nHost: probityd\r\nAuthorization: Bearer \(token)\r\n"
                let fast = try RawConnection(store.socket)
                fast.send(Array((head + "\r\n").utf8))
                // `Expect` sends the same request through Hummingbird's router.
                let routed = try RawConnection(store.socket)
                routed.send(Array((head + "Expect: 100-continue\r\n\r\n").utf8))
                let a = try #require(try fast.response())
                var b = try #require(try routed.response())
                if b.status == 100 { b = try #require(try routed.response()) }
                #expect(
                    a.status == b.status && a.body == b.body && a.headers["content-type"] == b.headers["content-type"],
                    "\(target): \(a.status) \(a.text) vs \(b.status) \(b.text)")
                let bad = ["size=2", "seq=9", "seq=x", "old=5", "old=0"].contains { target.contains($0) }
                if token != "prb_unknown", !bad, target != "/v1/proofs/inclusion" {
                    #expect(a.status == 200, "\(target): \(a.status) \(a.text)")
                } else {
                    #expect(a.status >= 400, "\(target) with \(token.prefix(8)): \(a.status)")
                }
            }
        }
    }
}
