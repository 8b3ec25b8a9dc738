import Hummingbird
import ProbityCore

/// The body of `POST /v1/events`: one event object, or `{"events": [...]}`. Pure: bytes in, validated
/// events or an APIError naming the place out.
enum EventsRequest {
    static func parse(_ body: [UInt8], maxEvents: Int) throws(APIError) -> [EventInput] {
        let value: JSONValue
        do { value = try JSONParser.parse(body, numbers: .exact) } catch {
            throw APIError(.badRequest, "invalid_json", "the body is not valid JSON: line \(error.line), column \(error.column): \(error.message)")
        }
        guard case .object(let members) = value else {
            throw APIError(.badRequest, "invalid_event", "the body must be one event object or {\"events\": [...]}, got \(value.typeName)")
        }
        guard members["events"] != nil, members["type"] == nil else {
            return [try event(value, path: nil)]
        }
        if let other = members.keys.sorted().first(where: { $0 != "events" }) {
            throw APIError(.badRequest, "invalid_event", "unknown member \"\(other)\" beside \"events\"", field: other)
        }
        guard case .array(let items) = members["events"]! else {
            throw APIError(.badRequest, "invalid_event", "\"events\" must be an array, got \(members["events"]!.typeName)", field: "events")
        }
        guard !items.isEmpty else { throw APIError(.badRequest, "invalid_event", "\"events\" is empty", field: "events") }
        guard items.count <= maxEvents else {
            throw APIError(.contentTooLarge, "batch_too_large", "\(items.count) events in one request; the limit is \(maxEvents) (limits.max_batch_events): split the batch", field: "events")
        }
        var events: [EventInput] = []
        events.reserveCapacity(items.count)
        for (index, item) in items.enumerated() { events.append(try event(item, path: "events[\(index)]")) }
        return events
    }

    private static func event(_ value: JSONValue, path: String?) throws(APIError) -> EventInput {
        do { return try EventInput(json: value) } catch {
            let field = [path, error.field].compactMap { $0 }.joined(separator: ".")
            throw APIError(.badRequest, "invalid_event", (path.map { "\($0): " } ?? "") + error.description, field: field.isEmpty ? nil : field)
        }
    }
}
