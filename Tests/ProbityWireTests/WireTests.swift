import Foundation
import ProbityDomain
import ProbityLog
import ProbityStore
import ProbityWire
import Testing

@Suite("Wire formats")
struct WireTests {
    static func newStore() throws -> LogWriter {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("probity-wire-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let origin = "achats.example.fr/probity"
        let signer = try NoteSigner(name: origin, privateKey: Ed25519PrivateKey.generate())
        return try LogWriter.create(
            path: dir.appendingPathComponent("log.sqlite").path, origin: origin, signer: signer, keyPath: "",
            by: "test", software: "test")
    }

    @Test("probityd's fast receipt writer gives the canonical encoding of the receipts, byte for byte")
    func receipts() throws {
        let writer = try Self.newStore()
        func exchange(_ id: String, _ platform: String = "email") -> EventInput {
            EventInput(
                type: "exchange.recorded",
                data: ["channel": .string("x"), "source": .object(["platform": .string(platform), "id": .string(id)])])
        }
        let first = try writer.append(
            [exchange("1"), exchange("2"), exchange("1"), exchange("1", "linkedin")], by: "t")
        let groups = try writer.append([
            LogWriter.Submission(events: [exchange("2"), exchange("4")], by: "a"),
            LogWriter.Submission(events: [exchange("4")], by: "b"),
        ]).map { try $0.get() }
        let all = first.receipts + groups.flatMap(\.receipts)
        #expect(all.contains { $0.duplicate } && all.contains { !$0.duplicate })
        #expect(ReceiptsJSON.encode(all) == CanonicalJSON.encode(.object(["receipts": .array(all.map(\.json))])))
    }

    @Test("an events request round-trips: what the client writes, the server parses to the same events")
    func eventsRequest() throws {
        let events = [
            try EventInput(
                json: JSONParser.parse(#"{"type":"x-ville.note","data":{"procedure":"p"},"payload":{"b":1,"a":2}}"#)),
            try EventInput(json: JSONParser.parse(#"{"type":"x-ville.note","data":{"procedure":"q","n":"é/"}}"#)),
        ]
        #expect(try EventsRequest.parse(EventsRequest.body(events), maxEvents: 10) == events)
        #expect(
            throws: WireError(
                413, "batch_too_large",
                "2 events in one request; the limit is 1 (limits.max_batch_events): split the batch", field: "events")
        ) {
            try EventsRequest.parse(EventsRequest.body(events), maxEvents: 1)
        }
    }

    @Test("error bodies: what the server writes, the client reads back; other bodies keep their status")
    func errorBodies() throws {
        let error = WireError(409, "legal_hold", "entry 3 is under a legal hold", field: "seq")
        #expect(WireError(status: 409, body: CanonicalJSON.encode(error.json)) == error)
        #expect(
            WireError(status: 502, body: Array("<html>Bad gateway</html>".utf8))
                == WireError(502, "http_502", "<html>Bad gateway</html>"))
    }

    @Test("events requests: one event or a batch; errors carry the field")
    func eventsRequests() throws {
        #expect(try EventsRequest.parse(Array(#"{"type":"x-a","data":{}}"#.utf8), maxEvents: 5).count == 1)
        #expect(
            try EventsRequest.parse(
                Array(#"{"events":[{"type":"x-a","data":{}},{"type":"x-b","data":{}}]}"#.utf8), maxEvents: 5
            ).map(\.type) == ["x-a", "x-b"])
        #expect {
            try EventsRequest.parse(Array(#"{"events":[{"type":"x-a","data":{"to":[1]}}]}"#.utf8), maxEvents: 5)
        } throws: { error in
            (error as? WireError)?.field == "events[0].data.to[0]" && (error as? WireError)?.status == 400
        }
        #expect {
            try EventsRequest.parse(
                Array(#"{"events":[{"type":"x-a","data":{}},{"type":"x-a","data":{}}]}"#.utf8), maxEvents: 1)
        } throws: { error in
            (error as? WireError)?.code == "batch_too_large" && (error as? WireError)?.status == 413
        }
    }
}
