import Foundation
public import ProbityLog

/// The shape of each catalogue type's `data` (docs/EVENTS.md): which fields it has, which are
/// required, and what each may hold. Schemas are closed: a field the catalogue does not name is refused,
/// which is also what keeps personal data (names, text, addresses) out of `data` — it belongs in the
/// payload, which redaction can erase.
///
/// What a schema checks needs nothing but the event. Whether a referenced party or procedure is in the
/// log is the `ReferenceLedger`'s job, at append time.
public struct EventSchema: Sendable {
    public enum Value: Sendable {
        /// A short code or free label (≤ 200 characters, no control characters, no e-mail address).
        case code
        /// An opaque reference from a platform (a conversation id, a Message-ID): ≤ 300 characters, no control characters.
        case opaque
        /// A party or procedure identifier (see `Identifier`).
        case identifier
        case oneOf([String])
        /// RFC 3339 date-time with an offset (`2026-03-30T12:00:00+02:00`).
        case time
        case bool
        case nonNegativeInteger
        /// Several identifiers.
        case identifiers
        /// `{"platform": …, "id": …}`: an exchange's identity on its platform.
        case source
        case sources
        /// `[{"sha256": hex, "size": n, "media_type": "type/subtype"}]`.
        case attachments
        /// 14 digits (French SIRET).
        case siret
        /// An IANA time-zone name (`Europe/Paris`).
        case timeZone
    }

    public struct Field: Sendable {
        public let name: String
        public let value: Value
        public let required: Bool
        /// `data.<name>`, as errors name the field (made once, not for every event checked).
        let path: String

        static func field(_ name: String, _ value: Value, required: Bool = false) -> Field {
            Field(name: name, value: value, required: required, path: "data." + name)
        }
    }

    public let fields: [Field]
    /// Checks across fields (dates in order, a field required by another's value).
    let rules: @Sendable ([String: JSONValue]) throws(EventInputError) -> Void

    init(
        _ fields: [Field],
        rules: @escaping @Sendable ([String: JSONValue]) throws(EventInputError) -> Void = {
            _ throws(EventInputError) in
        }
    ) {
        self.fields = fields
        self.rules = rules
    }

    public func check(_ data: [String: JSONValue], type: String) throws(EventInputError) {
        // Unknown fields are named in sorted order, so the message does not depend on the dictionary's
        // (sorted only when there is one to name).
        let known = { (key: String) in fields.contains { $0.name == key } }
        for key in data.keys.contains(where: { !known($0) }) ? data.keys.sorted() : [] where !known(key) {
            throw EventInputError(
                field: "data.\(key)",
                "\"\(type)\" has no field \"\(key)\" (fields: \(fields.map(\.name).joined(separator: ", "))); personal data such as names, text or addresses belongs in the payload"
            )
        }
        for field in fields {
            guard let value = data[field.name], value != .null else {
                if field.required {
                    throw EventInputError(field: "data.\(field.name)", "missing; \"\(type)\" requires it")
                }
                continue
            }
            try Self.check(value, as: field.value, at: field.path)
        }
        try rules(data)
    }

    public static func check(_ value: JSONValue, as kind: Value, at path: String) throws(EventInputError) {
        switch kind {
        case .code:
            let s = try string(value, at: path)
            guard s.unicodeScalars.count <= 200 else {
                throw EventInputError(field: path, "longer than 200 characters; put free text in the payload")
            }
            try refuseContactData(s, at: path)
        case .opaque:
            let s = try string(value, at: path)
            guard s.unicodeScalars.count <= 300, !s.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
                throw EventInputError(field: path, "must be at most 300 characters without control characters")
            }
        case .identifier:
            let s = try string(value, at: path)
            guard Identifier.isValid(s) else {
                throw EventInputError(field: path, "\"\(s)\" is not an identifier (\(Identifier.rule))")
            }
        case .oneOf(let allowed):
            let s = try string(value, at: path)
            guard allowed.contains(s) else {
                throw EventInputError(field: path, "\"\(s)\" is not one of \(allowed.joined(separator: ", "))")
            }
        case .time:
            let s = try string(value, at: path)
            guard Timestamp(rfc3339: s) != nil else {
                throw EventInputError(
                    field: path,
                    "\"\(s)\" is not an RFC 3339 date-time with an offset, such as 2026-03-30T12:00:00+02:00")
            }
        case .bool:
            guard case .bool = value else {
                throw EventInputError(field: path, "must be true or false, got \(value.typeName)")
            }
        case .nonNegativeInteger:
            guard value.uint64Value != nil else {
                throw EventInputError(field: path, "must be a non-negative integer, got \(value)")
            }
        case .identifiers:
            guard case .array(let items) = value else {
                throw EventInputError(field: path, "must be an array of identifiers, got \(value.typeName)")
            }
            for (i, item) in items.enumerated() { try check(item, as: .identifier, at: "\(path)[\(i)]") }
            if let repeated = firstRepeated(items) { throw EventInputError(field: path, "\(repeated) is listed twice") }
        case .source:
            guard case .object(let members) = value else {
                throw EventInputError(field: path, "must be an object {\"platform\", \"id\"}, got \(value.typeName)")
            }
            for key in members.keys.sorted() where key != "platform" && key != "id" {
                throw EventInputError(
                    field: "\(path).\(key)", "unknown member; a source has only \"platform\" and \"id\"")
            }
            for key in ["platform", "id"] {
                guard let v = members[key] else { throw EventInputError(field: "\(path).\(key)", "missing") }
                guard case .string(let s) = v, !s.isEmpty else {
                    throw EventInputError(field: "\(path).\(key)", "must be a non-empty string, got \(v.typeName)")
                }
            }
        case .sources:
            guard case .array(let items) = value else {
                throw EventInputError(
                    field: path, "must be an array of sources {\"platform\", \"id\"}, got \(value.typeName)")
            }
            for (i, item) in items.enumerated() { try check(item, as: .source, at: "\(path)[\(i)]") }
        case .attachments:
            guard case .array(let items) = value else {
                throw EventInputError(field: path, "must be an array of attachments, got \(value.typeName)")
            }
            for (i, item) in items.enumerated() { try checkAttachment(item, at: "\(path)[\(i)]") }
        case .siret:
            let s = try string(value, at: path)
            guard s.utf8.count == 14, s.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
                throw EventInputError(field: path, "\"\(s)\" is not a SIRET (14 digits)")
            }
        case .timeZone:
            let s = try string(value, at: path)
            guard TimeZone(identifier: s) != nil else {
                throw EventInputError(field: path, "\"\(s)\" is not an IANA time zone such as Europe/Paris")
            }
        }
    }

    private static func checkAttachment(_ value: JSONValue, at path: String) throws(EventInputError) {
        guard case .object(let m) = value else {
            throw EventInputError(
                field: path, "must be an object {\"sha256\", \"size\", \"media_type\"}, got \(value.typeName)")
        }
        for key in m.keys.sorted() where !["sha256", "size", "media_type"].contains(key) {
            throw EventInputError(
                field: "\(path).\(key)",
                "unknown member; an attachment has \"sha256\", \"size\" and \"media_type\" (its name is personal data: payload)"
            )
        }
        guard case .string(let digest)? = m["sha256"], digest.utf8.count == 64,
            digest.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else {
            throw EventInputError(field: "\(path).sha256", "must be 64 lowercase hex digits")
        }
        guard m["size"]?.uint64Value != nil else {
            throw EventInputError(field: "\(path).size", "must be a non-negative integer")
        }
        guard case .string(let type)? = m["media_type"], type.split(separator: "/").count == 2 else {
            throw EventInputError(field: "\(path).media_type", "must be a media type such as application/pdf")
        }
    }

    static func string(_ value: JSONValue, at path: String) throws(EventInputError) -> String {
        guard case .string(let s) = value else {
            throw EventInputError(field: path, "must be a string, got \(value.typeName)")
        }
        guard !s.isEmpty else { throw EventInputError(field: path, "must not be empty") }
        return s
    }

    /// E-mail addresses and web addresses identify people: they are refused outside payloads.
    static func refuseContactData(_ s: String, at path: String) throws(EventInputError) {
        if s.contains("@") || s.contains("://") {
            throw EventInputError(
                field: path, "looks like an e-mail or web address; personal data belongs in the payload")
        }
    }

    private static func firstRepeated(_ items: [JSONValue]) -> JSONValue? {
        var seen = Set<JSONValue>()
        return items.first { !seen.insert($0).inserted }
    }

}

extension EventSchema {
    /// Fields of `x-…` extension types are free, but never personal data: names of payload fields are
    /// refused, and so is any string that looks like an address.
    static func checkExtension(_ data: [String: JSONValue]) throws(EventInputError) {
        let payloadOnly: Set<String> = [
            "name", "names", "email", "e-mail", "text", "subject", "body", "url", "handle", "handles", "phone",
            "display_name", "display_names", "address",
        ]
        func walk(_ value: JSONValue, _ path: String) throws(EventInputError) {
            switch value {
            case .string(let s): try refuseContactData(s, at: path)
            case .array(let items): for (i, item) in items.enumerated() { try walk(item, "\(path)[\(i)]") }
            case .object(let members):
                for (key, member) in members.sorted(by: { $0.key < $1.key }) {
                    if payloadOnly.contains(key.lowercased()) {
                        throw EventInputError(field: "\(path).\(key)", "is personal data; put it in the payload")
                    }
                    try walk(member, "\(path).\(key)")
                }
            default: break
            }
        }
        try walk(.object(data), "data")
        // The fields that make streams (see `Streams`) are identifiers in every type: a hold on a party
        // covers the streams its identifier names, and a stream name is signed in stream heads.
        for key in ["procedure", "party", "from"] where data[key]?.stringValue != nil {
            try check(data[key]!, as: .identifier, at: "data.\(key)")
        }
        for (i, item) in (data["to"]?.arrayValue ?? []).enumerated() where item.stringValue != nil {
            try check(item, as: .identifier, at: "data.to[\(i)]")
        }
    }
}
