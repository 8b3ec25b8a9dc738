import Foundation
import ProbityClient
import ProbityDomain
import ProbityHTTP
import ProbityLog
import ProbityStore
import Testing

@testable import ProbityFixtures

/// Every malformed request gets a 4xx JSON error that names the problem, appends nothing, and leaves
/// the daemon serving.
@Suite("probityd bad requests", .serialized)
struct DaemonBadRequestTests {
    struct Case: CustomStringConvertible, Sendable {
        let name: String
        let body: [UInt8]
        let status: Int
        let code: String
        /// Words the message must contain (the field, the reason).
        let mentions: [String]
        var description: String { name }
    }

    static let event =
        #"{"type":"exchange.recorded","data":{"channel":"x","kind":"message","visibility":"direct","from":"sup-a","to":["agent-b"],"occurred_at":"2026-03-10T08:14:00Z"}}"#

    static let cases: [Case] = [
        Case(
            name: "truncated JSON", body: Array(#"{"type":"exchange.recorded","data":{"#.utf8), status: 400,
            code: "invalid_json", mentions: ["line 1", "column"]),
        Case(
            name: "not JSON", body: Array("type=exchange".utf8), status: 400, code: "invalid_json",
            mentions: ["not valid JSON"]),
        Case(name: "empty body", body: [], status: 400, code: "invalid_json", mentions: ["not valid JSON"]),
        Case(
            name: "duplicate member", body: Array(#"{"type":"x-a","type":"x-b","data":{}}"#.utf8), status: 400,
            code: "invalid_json", mentions: ["duplicate"]),
        Case(name: "an array", body: Array("[\(event)]".utf8), status: 400, code: "invalid_event", mentions: ["array"]),
        Case(
            name: "type is a number", body: Array(#"{"type":42,"data":{}}"#.utf8), status: 400, code: "invalid_event",
            mentions: ["type", "string"]),
        Case(
            name: "data is a string", body: Array(#"{"type":"x-a","data":"hello"}"#.utf8), status: 400,
            code: "invalid_event", mentions: ["data", "object"]),
        Case(
            name: "missing data", body: Array(#"{"type":"x-a"}"#.utf8), status: 400, code: "invalid_event",
            mentions: ["data", "missing"]),
        Case(
            name: "missing type", body: Array(#"{"data":{}}"#.utf8), status: 400, code: "invalid_event",
            mentions: ["type", "missing"]),
        Case(
            name: "unknown type", body: Array(#"{"type":"exchange.invented","data":{}}"#.utf8), status: 400,
            code: "invalid_event", mentions: ["exchange.invented", "unknown event type"]),
        Case(
            name: "reserved type", body: Array(#"{"type":"log.created","data":{}}"#.utf8), status: 400,
            code: "invalid_event", mentions: ["probity init"]),
        Case(
            name: "unknown member", body: Array(#"{"type":"x-a","data":{},"sig":"x"}"#.utf8), status: 400,
            code: "invalid_event", mentions: ["sig"]),
        Case(
            name: "to is not a list", body: Array(#"{"type":"x-a","data":{"to":"b"}}"#.utf8), status: 400,
            code: "invalid_event", mentions: ["data.to"]),
        Case(
            name: "source without id",
            body: Array(
                #"{"type":"exchange.recorded","data":{"channel":"x","kind":"message","visibility":"direct","from":"sup-a","occurred_at":"2026-03-10T08:14:00Z","source":{"platform":"x"}}}"#
                    .utf8), status: 400, code: "invalid_event", mentions: ["data.source.id", "missing"]),
        Case(
            name: "invalid UTF-8",
            body: Array(#"{"type":"x-a","data":{"note":""#.utf8) + [0xC3, 0x28] + Array(#""}}"#.utf8), status: 400,
            code: "invalid_json", mentions: ["UTF-8"]),
        Case(
            name: "lone surrogate", body: Array(#"{"type":"x-a","data":{"note":"\ud800"}}"#.utf8), status: 400,
            code: "invalid_json", mentions: ["surrogate"]),
        Case(
            name: "bad event in a batch", body: Array(#"{"events":[\#(event),{"type":"x-a","data":{"from":7}}]}"#.utf8),
            status: 400, code: "invalid_event", mentions: ["events[1]", "data.from"]),
        Case(
            name: "empty batch", body: Array(#"{"events":[]}"#.utf8), status: 400, code: "invalid_event",
            mentions: ["empty"]),
        Case(
            name: "events not an array", body: Array(#"{"events":{}}"#.utf8), status: 400, code: "invalid_event",
            mentions: ["array"]),
        Case(
            name: "batch over the limit",
            body: Array("{\"events\":[\(Array(repeating: event, count: 6).joined(separator: ","))]}".utf8), status: 413,
            code: "batch_too_large", mentions: ["6 events", "limit is 5"]),
        Case(
            name: "body over the limit",
            body: Array(#"{"type":"x-a","data":{"note":"\#(String(repeating: "é", count: 3000))"}}"#.utf8), status: 413,
            code: "body_too_large", mentions: ["limit"]),
    ]

    static let limits = ["--max-body-bytes", "4096", "--max-batch-events", "5", "--max-commit-events", "10"]

    static func post(
        _ connection: HTTPConnection, _ body: [UInt8], token: String, path: String = "/v1/events"
    ) throws -> (status: Int, error: JSONValue?) {
        let response = try connection.request(
            "POST", path, headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
            body: body)
        return (response.status, (try? JSONParser.parse(response.body))?["error"])
    }

    @Test(arguments: cases)
    func rejected(_ bad: Case) throws {
        let store = try DaemonStore()
        let daemon = try DaemonProcess(store: store, extra: Self.limits)
        defer { daemon.terminate() }
        let connection = HTTPConnection(.unix(path: store.socket))
        for path in ["/v1/events", "/v1/events/validate"] {
            let (status, error) = try Self.post(connection, bad.body, token: store.tokens["ingest"]!, path: path)
            #expect(status == bad.status, "\(path): \(error.map(CanonicalJSON.encodeString) ?? "no JSON error")")
            #expect(error?["code"]?.stringValue == bad.code)
            let message = error?["message"]?.stringValue ?? ""
            for word in bad.mentions { #expect(message.contains(word), "\"\(message)\" does not mention \(word)") }
        }
        #expect(try LogReader.open(path: store.db).size() == store.base, "nothing appended")
        // Still serving, on the same connection when the server kept it.
        #expect(
            try Self.post(
                HTTPConnection(.unix(path: store.socket)), Array(Self.event.utf8), token: store.tokens["ingest"]!
            ).status == 201)
    }

    /// A few thousand random bodies: random bytes, and valid events with a byte changed, cut or repeated.
    @Test func randomBodiesNeverAppendOrCrash() throws {
        let store = try DaemonStore()
        let daemon = try DaemonProcess(store: store, extra: Self.limits)
        defer { daemon.terminate() }
        var generator = SplitMix(seed: 0x5EED)
        let seeds: [[UInt8]] = [
            Array(Self.event.utf8), Array("{\"events\":[\(Self.event),\(Self.event)]}".utf8),
            Array(#"{"type":"x-note","data":{"procedure":"p","to":["a","b"],"n":1.5e3,"ok":true,"z":null}}"#.utf8),
        ]
        let connection = HTTPConnection(.unix(path: store.socket))
        var statuses: [Int: Int] = [:]
        var appended = 0
        for round in 0..<3000 {
            var body: [UInt8]
            switch round % 4 {
            case 0: body = (0..<Int(generator.next() % 200)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            case 1:
                body = seeds[Int(generator.next() % 3)]
                for _ in 0...(generator.next() % 3) {
                    body[Int(generator.next() % UInt64(body.count))] = UInt8(truncatingIfNeeded: generator.next())
                }
            case 2:
                body = seeds[Int(generator.next() % 3)]
                body = Array(body.prefix(Int(generator.next() % UInt64(body.count))))
            default:
                body = seeds[Int(generator.next() % 3)]
                let at = Int(generator.next() % UInt64(body.count))
                body.insert(contentsOf: body[at...].prefix(Int(generator.next() % 20)), at: at)
            }
            let (status, error) = try Self.post(
                connection, body, token: store.tokens["ingest"]!, path: "/v1/events/validate")
            statuses[status, default: 0] += 1
            if status == 200 {
                // A mutation can still be a valid event: then the real route must accept it.
                #expect(try Self.post(connection, body, token: store.tokens["ingest"]!).status == 201)
                appended += try JSONParser.parse(body)["events"]?.arrayValue?.count ?? 1
                continue
            }
            #expect((400..<500).contains(status), "body \(round) got \(status)")
            #expect(
                error?["code"]?.stringValue?.isEmpty == false && error?["message"]?.stringValue?.isEmpty == false,
                "body \(round): no JSON error")
        }
        #expect(statuses.keys.allSatisfy { $0 == 200 || (400..<500).contains($0) }, "\(statuses)")
        #expect(try LogReader.open(path: store.db).size() == store.base + UInt64(appended))
        #expect(try Self.post(connection, Array(Self.event.utf8), token: store.tokens["ingest"]!).status == 201)
        #expect(try CLI.run(["verify", "--db", store.db]).status == 0)
    }

    @Test func declaredOversizedBodiesAreRefusedBeforeBeingRead() throws {
        let store = try DaemonStore()
        let daemon = try DaemonProcess(store: store, extra: Self.limits)
        defer { daemon.terminate() }
        // Declares 100 MB and sends a little: the answer comes without the rest being awaited.
        let connection = HTTPConnection(.unix(path: store.socket), timeout: 10)
        let response = try connection.request(
            "POST", "/v1/events",
            headers: [("Authorization", "Bearer \(store.tokens["ingest"]!)"), ("Content-Length", "100000000")])
        #expect(response.status == 413)
        #expect(
            try Self.post(
                HTTPConnection(.unix(path: store.socket)), Array(Self.event.utf8), token: store.tokens["ingest"]!
            ).status == 201)
    }
}

/// A small deterministic generator, so that a failing random body can be found again.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
