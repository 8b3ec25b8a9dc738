import ProbityDomain
import ProbityLog
import Testing

@testable import ProbityFixtures

@Suite("event input")
struct EventInputTests {
    @Test(
        "bad events are refused naming the field",
        arguments: [
            (#"{"data":{}}"#, "type"), (#"{"type":1,"data":{}}"#, "type"), (#"{"type":"nope","data":{}}"#, "type"),
            (#"{"type":"log.created","data":{}}"#, "type"), (#"{"type":"exchange.recorded"}"#, "data"),
            (#"{"type":"exchange.recorded","data":[]}"#, "data"),
            (#"{"type":"exchange.recorded","data":{"to":["a",2]}}"#, "data.to[1]"),
            (#"{"type":"exchange.recorded","data":{"procedure":5}}"#, "data.procedure"),
            (#"{"type":"x-a","data":{},"payload":"x"}"#, "payload"),
            (#"{"type":"exchange.recorded","data":{},"extra":1}"#, "extra"),
        ])
    func badEvents(text: String, field: String) throws {
        let value = try JSONParser.parse(text)
        #expect { try EventInput(json: value) } throws: { ($0 as? EventInputError)?.field == field }
    }

    @Test("extension types are accepted")
    func extensionTypes() throws {
        let event = try EventInput(
            json: JSONParser.parse(#"{"type":"x-ville.note","data":{"procedure":"p"},"payload":{"b":1,"a":2}}"#))
        #expect(event.payload == Array(#"{"a":2,"b":1}"#.utf8))
    }
}
