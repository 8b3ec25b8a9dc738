public import ProbityDomain
public import ProbityLog

/// The body of `POST /v1/events`: one event object, or `{"events": [...]}`. Pure: bytes in, validated
/// events or a `WireError` naming the place out; and the same body written for a list of events.
public enum EventsRequest {
    public static func parse(_ body: [UInt8], maxEvents: Int) throws(WireError) -> [EventInput] {
        let value: JSONValue
        do { value = try JSONParser.parse(body, numbers: .exact) } catch {
            throw WireError(
                400, "invalid_json",
                "the body is not valid JSON: line \(error.line), column \(error.column): \(error.message)")
        }
        guard case .object(let members) = value else {
            throw WireError(
                400, "invalid_event", "the body must be one event object or {\"events\": [...]}, got \(value.typeName)")
        }
        guard members["events"] != nil, members["type"] == nil else {
            return [try event(value, path: nil)]
        }
        if let other = members.keys.sorted().first(where: { $0 != "events" }) {
            throw WireError(400, "invalid_event", "unknown member \"\(other)\" beside \"events\"", field: other)
        }
        guard case .array(let items) = members["events"]! else {
            throw WireError(
                400, "invalid_event", "\"events\" must be an array, got \(members["events"]!.typeName)", field: "events"
            )
        }
        guard !items.isEmpty else { throw WireError(400, "invalid_event", "\"events\" is empty", field: "events") }
        guard items.count <= maxEvents else {
            throw WireError(
                413, "batch_too_large",
                "\(items.count) events in one request; the limit is \(maxEvents) (limits.max_batch_events): split the batch",
                field: "events")
        }
        var events: [EventInput] = []
        events.reserveCapacity(items.count)
        for (index, item) in items.enumerated() { events.append(try event(item, path: "events[\(index)]")) }
        return events
    }

    private static func event(_ value: JSONValue, path: String?) throws(WireError) -> EventInput {
        do { return try EventInput(json: value) } catch {
            let field = [path, error.field].compactMap { $0 }.joined(separator: ".")
            throw WireError(
                400, "invalid_event", (path.map { "\($0): " } ?? "") + error.description,
                field: field.isEmpty ? nil : field)
        }
    }

    /// The body of `POST /v1/events` for `events`: `{"events": [...]}` with each event's data and payload
    /// as validated (canonical) bytes.
    public static func body(_ events: some Collection<EventInput>) -> [UInt8] {
        var body: [UInt8] = Array(#"{"events":["#.utf8)
        for (index, event) in events.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body += Array(#"{"type":"#.utf8) + CanonicalJSON.encode(.string(event.type))
            body += Array(#","data":"#.utf8) + event.dataBytes
            if let payload = event.payload { body += Array(#","payload":"#.utf8) + payload }
            body.append(UInt8(ascii: "}"))
        }
        body += Array("]}".utf8)
        return body
    }
}
