/// A log entry (DESIGN §1.1). Its RFC 8785 bytes are what the log stores, hashes and proves.
public struct Entry: Sendable, Equatable {
    public static let version: UInt64 = 1
    public static let zeroHash = [UInt8](repeating: 0, count: 32)

    public var log: String
    public var seq: UInt64
    /// Leaf hash of entry `seq - 1` (all zero for seq 0).
    public var prev: Merkle.Hash
    public var time: Timestamp
    public var type: String
    public var by: String
    public var data: [String: JSONValue]
    public var payload: PayloadCommitment?
    /// For each stream the entry belongs to, the leaf hash of the stream's previous entry.
    public var streams: [String: Merkle.Hash]

    public init(log: String, seq: UInt64, prev: Merkle.Hash, time: Timestamp, type: String, by: String,
                data: [String: JSONValue], payload: PayloadCommitment? = nil, streams: [String: Merkle.Hash] = [:]) {
        self.log = log; self.seq = seq; self.prev = prev; self.time = time; self.type = type; self.by = by
        self.data = data; self.payload = payload; self.streams = streams
    }

    public var jsonValue: JSONValue {
        var members: [String: JSONValue] = [
            "v": .number(Double(Self.version)),
            "log": .string(log),
            "seq": .number(Double(seq)),
            "prev": .string(Hex.encode(prev)),
            "time": .string(time.description),
            "type": .string(type),
            "by": .string(by),
            "data": .object(data),
        ]
        if let payload {
            members["payload"] = .object(["sha256": .string(Hex.encode(payload.sha256)), "size": .number(Double(payload.size))])
        }
        if !streams.isEmpty {
            members["streams"] = .object(streams.mapValues { .string(Hex.encode($0)) })
        }
        return .object(members)
    }

    public var canonicalBytes: [UInt8] { CanonicalJSON.encode(jsonValue) }

    /// Decodes stored entry bytes, refusing anything that is not canonical or not a well-formed v1 entry.
    public init(bytes: [UInt8]) throws(EntryFormatError) {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch { throw EntryFormatError(.malformedJSON, "\(error)") }
        try self.init(json: value)
        guard canonicalBytes == bytes else {
            throw EntryFormatError(.notCanonical, "the entry bytes are not in RFC 8785 canonical form")
        }
    }

    init(json value: JSONValue) throws(EntryFormatError) {
        guard case .object(let m) = value else { throw EntryFormatError(.badMember, "the entry is not a JSON object") }
        let allowed: Set<String> = ["v", "log", "seq", "prev", "time", "type", "by", "data", "payload", "streams"]
        if let unknown = m.keys.first(where: { !allowed.contains($0) }) {
            throw EntryFormatError(.badMember, "unknown member \"\(unknown)\"")
        }
        func string(_ key: String) throws(EntryFormatError) -> String {
            guard let s = m[key]?.stringValue else { throw EntryFormatError(.badMember, "member \"\(key)\" is missing or not a string") }
            return s
        }
        func hash(_ text: String, _ what: String) throws(EntryFormatError) -> Merkle.Hash {
            guard text.utf8.count == 64, let h = Hex.decode(text) else { throw EntryFormatError(.badMember, "\(what) is not 64 lowercase hex digits") }
            return h
        }
        guard m["v"]?.uint64Value == Self.version else { throw EntryFormatError(.badMember, "member \"v\" is not 1") }
        guard let seq = m["seq"]?.uint64Value else { throw EntryFormatError(.badMember, "member \"seq\" is missing or not a non-negative integer") }
        let timeText = try string("time")
        guard let time = Timestamp(entryTime: timeText) else {
            throw EntryFormatError(.badMember, "member \"time\" is not YYYY-MM-DDTHH:MM:SS.ffffffZ: \(timeText)")
        }
        guard case .object(let data)? = m["data"] else { throw EntryFormatError(.badMember, "member \"data\" is missing or not an object") }
        var payload: PayloadCommitment?
        if let p = m["payload"] {
            guard case .object(let pm) = p, pm.count == 2, let digest = pm["sha256"]?.stringValue, let size = pm["size"]?.uint64Value else {
                throw EntryFormatError(.badMember, "member \"payload\" is not {\"sha256\": hex, \"size\": integer}")
            }
            payload = PayloadCommitment(sha256: try hash(digest, "payload.sha256"), size: size)
        }
        var streams: [String: Merkle.Hash] = [:]
        if let s = m["streams"] {
            guard case .object(let sm) = s, !sm.isEmpty else { throw EntryFormatError(.badMember, "member \"streams\" is not a non-empty object") }
            for (id, v) in sm {
                guard let text = v.stringValue else { throw EntryFormatError(.badMember, "streams[\"\(id)\"] is not a string") }
                streams[id] = try hash(text, "streams[\"\(id)\"]")
            }
        }
        self.init(log: try string("log"), seq: seq, prev: try hash(try string("prev"), "member \"prev\""), time: time,
                  type: try string("type"), by: try string("by"), data: data, payload: payload, streams: streams)
    }
}

public struct EntryFormatError: Error, CustomStringConvertible, Equatable {
    public enum Code: String, Sendable { case malformedJSON, notCanonical, badMember }
    public let code: Code
    public let message: String
    init(_ code: Code, _ message: String) { self.code = code; self.message = message }
    public var description: String { message }
}

/// The entry's commitment to its payload: `SHA-256(salt ‖ payload bytes)` and the payload's size.
/// The 32-byte random salt keeps a short redacted payload from being guessed from its commitment.
public struct PayloadCommitment: Sendable, Equatable {
    public static let saltLength = 32

    public let sha256: [UInt8]
    public let size: UInt64

    public init(sha256: [UInt8], size: UInt64) { self.sha256 = sha256; self.size = size }

    public init(salt: [UInt8], payload: [UInt8]) {
        self.sha256 = SHA256.hash([salt, payload])
        self.size = UInt64(payload.count)
    }

    public func matches(salt: [UInt8], payload: [UInt8]) -> Bool {
        salt.count == Self.saltLength && UInt64(payload.count) == size && SHA256.hash([salt, payload]) == sha256
    }
}
