/// A log entry (docs/FORMATS.md). Its RFC 8785 bytes are what the log stores, hashes and proves.
public struct Entry: Sendable, Equatable {
    public static let version: UInt64 = 1
    public static let zeroHash = SHA256Digest([UInt8](repeating: 0, count: 32))!

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

    public init(
        log: String, seq: UInt64, prev: Merkle.Hash, time: Timestamp, type: String, by: String,
        data: [String: JSONValue], payload: PayloadCommitment? = nil, streams: [String: Merkle.Hash] = [:]
    ) {
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
            members["payload"] = .object([
                "sha256": .string(Hex.encode(payload.sha256)), "size": .number(Double(payload.size)),
            ])
        }
        if !streams.isEmpty {
            members["streams"] = .object(streams.mapValues { .string(Hex.encode($0)) })
        }
        return .object(members)
    }

    /// The RFC 8785 bytes; equal to `CanonicalJSON.encode(jsonValue)`.
    public var canonicalBytes: [UInt8] {
        Self.encode(
            log: log, seq: seq, prev: prev, time: time.entryBytes, type: type, by: by,
            data: CanonicalJSON.encode(.object(data)), payload: payload,
            streams: CanonicalJSON.sortedKeys(streams).map { ($0, streams[$0]!) })
    }

    /// Writes entry bytes member by member in their canonical (ASCII, so byte) order, from parts already
    /// encoded: the writer calls this on every append, with `data` encoded when the event was accepted
    /// (off the single-writer path) and `time` once per batch. `streams` must be in canonical order.
    public static func encode(
        log: String, seq: UInt64, prev: Merkle.Hash, time: [UInt8], type: String, by: String,
        data: [UInt8], payload: PayloadCommitment?, streams: [(id: String, previous: Merkle.Hash)]
    ) -> [UInt8] {
        var out: [UInt8] = []
        // The fixed members (hashes in hex, time, seq, names) take about 330 bytes: one allocation, no regrowth.
        out.reserveCapacity(
            400 + log.utf8.count + type.utf8.count + by.utf8.count + data.count
                + streams.reduce(0) { $0 + $1.id.utf8.count + 72 })
        func key(_ name: StaticString, first: Bool = false) {
            if !first { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            out.append(UInt8(ascii: "\""))
            out.append(UInt8(ascii: ":"))
        }
        func hex(_ hash: SHA256Digest) {
            out.append(UInt8(ascii: "\""))
            Hex.append(hash, to: &out)
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "{"))
        key("by", first: true); CanonicalJSON.writeString(by, into: &out)
        key("data"); out.append(contentsOf: data)
        key("log"); CanonicalJSON.writeString(log, into: &out)
        if let payload {
            key("payload"); out.append(UInt8(ascii: "{"))
            key("sha256", first: true); hex(payload.sha256)
            key("size"); out.append(contentsOf: String(payload.size).utf8)
            out.append(UInt8(ascii: "}"))
        }
        key("prev"); hex(prev)
        key("seq"); out.append(contentsOf: String(seq).utf8)
        if !streams.isEmpty {
            key("streams"); out.append(UInt8(ascii: "{"))
            for (i, stream) in streams.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                CanonicalJSON.writeString(stream.id, into: &out)
                out.append(UInt8(ascii: ":"))
                hex(stream.previous)
            }
            out.append(UInt8(ascii: "}"))
        }
        key("time"); out.append(UInt8(ascii: "\"")); out.append(contentsOf: time); out.append(UInt8(ascii: "\""))
        key("type"); CanonicalJSON.writeString(type, into: &out)
        key("v"); out.append(UInt8(ascii: "1"))
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Decodes stored entry bytes, refusing anything that is not canonical or not a well-formed v1 entry.
    public init(bytes: [UInt8]) throws(EntryFormatError) {
        let header = try EntryHeader(bytes: bytes)
        guard case .object(let data)? = try? JSONParser.parse(bytes[header.dataRange]) else {
            throw EntryFormatError(.badMember, "member \"data\" is not an object")
        }
        self.init(
            log: header.log, seq: header.seq, prev: header.prev, time: header.time, type: header.type, by: header.by,
            data: data, payload: header.payload,
            streams: Dictionary(uniqueKeysWithValues: header.streams.map { ($0.id, $0.previous) }))
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

    public let sha256: SHA256Digest
    public let size: UInt64

    public init(sha256: SHA256Digest, size: UInt64) { self.sha256 = sha256; self.size = size }

    public init(salt: [UInt8], payload: [UInt8]) {
        self.sha256 = SHA256.digest(salt, payload)
        self.size = UInt64(payload.count)
    }

    public func matches(salt: [UInt8], payload: [UInt8]) -> Bool {
        salt.withUnsafeBufferPointer { s in payload.withUnsafeBufferPointer { matches(salt: s, payload: $0) } }
    }

    public func matches(salt: UnsafeBufferPointer<UInt8>, payload: UnsafeBufferPointer<UInt8>) -> Bool {
        salt.count == Self.saltLength && UInt64(payload.count) == size
            && SHA256.digest(UnsafeRawBufferPointer(salt), UnsafeRawBufferPointer(payload)) == sha256
    }
}
