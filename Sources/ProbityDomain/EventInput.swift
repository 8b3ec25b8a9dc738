public import ProbityLog

/// An event as a client submits it.
public struct EventInput: Sendable, Equatable {
    public let type: String
    public let data: [String: JSONValue]
    /// The payload's canonical bytes, when the event has one.
    public let payload: [UInt8]?
    /// `data`'s canonical bytes and the streams it implies (in canonical order), worked out when the
    /// event is accepted so that the single writer only splices them into the entry.
    public let dataBytes: [UInt8]
    public let streams: [String]
    /// Where a recorded exchange came from: the log holds at most one `exchange.recorded` per source,
    /// so that re-sending or re-importing an exchange appends nothing (docs/EVENTS.md, "Recorded once per source").
    public let source: SourceKey?

    public init(type: String, data: [String: JSONValue], payload: JSONValue? = nil) {
        self.type = type
        self.data = data
        self.payload = payload.map(CanonicalJSON.encode)
        self.dataBytes = CanonicalJSON.encode(.object(data))
        self.streams = Streams.ids(for: data).sorted(by: CanonicalJSON.precedes)
        self.source = SourceKey(type: type, data: data)
    }

    /// Validates a submitted event object. `allowReserved` is for Probity's own commands.
    public init(json value: JSONValue, allowReserved: Bool = false) throws(EventInputError) {
        guard case .object(let m) = value else {
            throw EventInputError(field: nil, "an event must be a JSON object, got \(value.typeName)")
        }
        if let unknown = m.keys.sorted().first(where: { !["type", "data", "payload"].contains($0) }) {
            throw EventInputError(
                field: unknown, "unknown member; an event has only \"type\", \"data\" and \"payload\"")
        }
        guard let typeValue = m["type"] else { throw EventInputError(field: "type", "missing") }
        guard case .string(let type) = typeValue else {
            throw EventInputError(field: "type", "must be a string, got \(typeValue.typeName)")
        }
        guard EventCatalogue.isKnown(type) else {
            throw EventInputError(
                field: "type",
                "unknown event type \"\(type)\"; use a type from the catalogue (docs/EVENTS.md) or an \"x-\" extension type"
            )
        }
        if !allowReserved, let command = EventCatalogue.reserved[type] {
            throw EventInputError(field: "type", "\"\(type)\" events are appended by `\(command)` only")
        }
        guard let dataValue = m["data"] else { throw EventInputError(field: "data", "missing") }
        guard case .object(let data) = dataValue else {
            throw EventInputError(field: "data", "must be an object, got \(dataValue.typeName)")
        }
        try Self.checkStreamFields(data)
        try EventCatalogue.checkData(data, type: type)
        var payload: JSONValue?
        if let p = m["payload"] {
            try EventCatalogue.checkPayload(p, type: type)
            payload = p
        }
        self.init(type: type, data: data, payload: payload)
    }

    /// The fields streams are derived from must have the right types, or an entry would silently
    /// land in no stream.
    static func checkStreamFields(_ data: [String: JSONValue]) throws(EventInputError) {
        for key in ["procedure", "party", "from"] {
            if let v = data[key] {
                guard case .string(let s) = v, !s.isEmpty else {
                    throw EventInputError(field: "data.\(key)", "must be a non-empty string, got \(v.typeName)")
                }
            }
        }
        if let to = data["to"] {
            guard case .array(let parties) = to else {
                throw EventInputError(field: "data.to", "must be an array of party ids, got \(to.typeName)")
            }
            for (i, p) in parties.enumerated() {
                guard case .string(let s) = p, !s.isEmpty else {
                    throw EventInputError(field: "data.to[\(i)]", "must be a non-empty string, got \(p.typeName)")
                }
            }
        }
    }
}

/// (platform, source id) of a recorded exchange: `data.source` of `exchange.recorded`.
public struct SourceKey: Hashable, Sendable, CustomStringConvertible {
    public static let eventType = DomainEventType.exchangeRecorded
    /// Both strings hashed once, where the event is parsed: the writer looks a source up several times
    /// (in the batch, in the store's index, among the sources it wrote), and then hashes one word. Equal
    /// keys have equal codes, so comparing it first only speeds up telling keys apart.
    private let hashCode: Int
    public let platform: String
    public let id: String

    public init(platform: String, id: String) {
        var hasher = Hasher()
        hasher.combine(platform)
        hasher.combine(id)
        hashCode = hasher.finalize()
        self.platform = platform
        self.id = id
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(hashCode) }

    /// The key of an event, if it is an exchange with a well-formed `source`.
    public init?(type: String, data: [String: JSONValue]) {
        guard type == Self.eventType else { return nil }
        self.init(data["source"])
    }

    /// A source object `{"platform", "id"}` (as in `source`, `reply_to`, `answers`), if `value` is one.
    public init?(_ value: JSONValue?) {
        guard case .object(let m)? = value, case .string(let platform)? = m["platform"], case .string(let id)? = m["id"]
        else { return nil }
        self.init(platform: platform, id: id)
    }

    public var description: String { "\(platform) \(id)" }
}

public struct EventInputError: Error, CustomStringConvertible, Equatable {
    /// The JSON path of the offending member (`data.to[1]`), if the error is about one.
    public let field: String?
    public let message: String
    public init(field: String?, _ message: String) { self.field = field; self.message = message }
    public var description: String { field.map { "\($0): \(message)" } ?? message }
}
