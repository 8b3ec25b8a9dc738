public import ProbityLog

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Read access to the `data` of an event, from a parsed object or straight from canonical entry bytes.
/// Replay reads entries the second way: it decodes only the fields the projections use, without
/// building a value tree for every entry.
public struct EventFields: Sendable {
    private enum Storage: Sendable {
        case values([String: JSONValue])
        /// The entry bytes and the ranges of `data`'s members in them (keys without quotes).
        case bytes([UInt8], [CanonicalScanner.Member])
    }
    private let storage: Storage

    public init(_ data: [String: JSONValue]) { storage = .values(data) }

    /// `header` must have been decoded from `bytes`.
    public init(_ header: EntryHeader, bytes: [UInt8]) { storage = .bytes(bytes, header.dataMembers) }

    /// A member's value: the value itself, or its byte range.
    private func withValue<T>(
        _ key: StaticString, _ fromValue: (JSONValue) -> T?, _ fromBytes: (UnsafeBufferPointer<UInt8>, Range<Int>) -> T?
    ) -> T? {
        switch storage {
        case .values(let data):
            return data[key.description].flatMap(fromValue)
        case .bytes(let bytes, let members):
            return bytes.withUnsafeBufferPointer { b in Self.member(key, in: b, members).flatMap { fromBytes(b, $0) } }
        }
    }

    /// Where the value of `data`'s member `key` lies in entry bytes (`members`: `EntryHeader.dataMembers`).
    private static func member(
        _ key: StaticString, in b: UnsafeBufferPointer<UInt8>, _ members: [CanonicalScanner.Member]
    ) -> Range<Int>? {
        let n = key.utf8CodeUnitCount
        return members.first {
            $0.key.count == n && memcmp(b.baseAddress! + $0.key.lowerBound, key.utf8Start, n) == 0
        }?.value
    }

    /// `string(key)` read from entry bytes in place, without the copy `EventFields(header, bytes:)` keeps
    /// (verify reads a chunk's rows from one buffer). `bytes` must be the entry `header` was decoded from.
    public static func string(
        _ key: StaticString, of header: EntryHeader, in bytes: UnsafeBufferPointer<UInt8>
    ) -> String? {
        member(key, in: bytes, header.dataMembers).flatMap { string(bytes, $0) }
    }

    /// `source(key)` read from entry bytes in place (see `string(_:of:in:)`).
    public static func source(
        _ key: StaticString, of header: EntryHeader, in bytes: UnsafeBufferPointer<UInt8>
    ) -> DomainState.SourceRef? {
        member(key, in: bytes, header.dataMembers).flatMap { source(bytes, $0) }
    }

    private static func string(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> String? {
        guard r.count >= 2, b[r.lowerBound] == UInt8(ascii: "\"") else { return nil }
        return CanonicalScanner(b).decodedString((r.lowerBound + 1)..<(r.upperBound - 1))
    }

    /// `{"id": …, "platform": …}` (canonical order) at `r`.
    private static func source(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> DomainState.SourceRef? {
        guard let found = CanonicalScanner.idAndPlatform(b, object: r) else { return nil }
        let scanner = CanonicalScanner(b)
        return DomainState.SourceRef(
            platform: scanner.decodedString(found.platform), id: scanner.decodedString(found.id))
    }

    public func string(_ key: StaticString) -> String? { withValue(key, \.stringValue, Self.string) }

    public func strings(_ key: StaticString) -> [String] {
        withValue(key, { $0.arrayValue?.compactMap(\.stringValue) }) { b, r in
            CanonicalScanner.stringElements(b, array: r).map { CanonicalScanner(b).decodedString($0) }
        } ?? []
    }

    public func time(_ key: StaticString) -> Timestamp? { string(key).flatMap(Timestamp.init(rfc3339:)) }

    public func bool(_ key: StaticString) -> Bool? {
        withValue(key, { if case .bool(let v) = $0 { return v } else { return nil } }) { b, r in
            r.count == 4 && b[r.lowerBound] == UInt8(ascii: "t")
                ? true : (r.count == 5 && b[r.lowerBound] == UInt8(ascii: "f") ? false : nil)
        }
    }

    public func uint64(_ key: StaticString) -> UInt64? {
        withValue(key, \.uint64Value) { b, r in
            guard !r.isEmpty, r.count <= 16, b[r].allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
            return UInt64(String(decoding: UnsafeBufferPointer(rebasing: b[r]), as: UTF8.self))
        }
    }

    public func source(_ key: StaticString) -> DomainState.SourceRef? {
        withValue(key, DomainState.SourceRef.init, Self.source)
    }

    public func sources(_ key: StaticString) -> [DomainState.SourceRef] {
        withValue(key, { $0.arrayValue?.compactMap(DomainState.SourceRef.init) }) { b, r in
            guard case .array(let items)? = try? JSONParser.parse(UnsafeBufferPointer(rebasing: b[r])) else {
                return nil
            }
            return items.compactMap(DomainState.SourceRef.init)
        } ?? []
    }
}
