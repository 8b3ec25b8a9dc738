#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What verification and replay need of an entry, decoded from its bytes in one pass that also proves
/// them canonical (`CanonicalScanner`). `Entry(bytes:)` builds on it when the whole `data` is needed.
public struct EntryHeader: Sendable {
    public let log: String
    public let seq: UInt64
    public let prev: Merkle.Hash
    public let time: Timestamp
    public let type: String
    public let by: String
    public let payload: PayloadCommitment?
    /// The `streams` member, in its (canonical) order: stream id and the leaf hash of the stream's
    /// previous entry.
    public let streams: [(id: String, previous: Merkle.Hash)]
    /// The streams the entry's `data` implies (see `Streams.ids`), in canonical order.
    public var impliedStreams: [String] { streamsMatchData ? streams.map(\.id) : impliedWhenDifferent }
    /// Spelled out only when they differ from the `streams` member, which is rare.
    private let impliedWhenDifferent: [String]
    /// Whether the `streams` member names exactly the streams `data` implies.
    public let streamsMatchData: Bool
    /// `data.verifier_key`, for `log.created` and `key.rotated`.
    public let verifierKey: String?
    /// `data.target_seq`, for `redaction.applied`.
    public let targetSeq: UInt64?
    /// Where `data`'s object lies in the bytes.
    public let dataRange: Range<Int>
    /// `data`'s members: where each key (without quotes) and value lie in the bytes.
    package let dataMembers: [CanonicalScanner.Member]

    public init(bytes: [UInt8]) throws(EntryFormatError) {
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(EntryFormatError) in try EntryHeader(buffer: buffer) }
        }
        self = try result.get()
    }

    /// Decodes the entry in `b` (ranges in the result are offsets into `b`).
    public init(buffer b: UnsafeBufferPointer<UInt8>) throws(EntryFormatError) {
        let index: (top: [CanonicalScanner.Member], nested: [(start: Int, members: [CanonicalScanner.Member])])
        do { index = try CanonicalScanner.indexObject(b) } catch {
            // Classify for the message: valid JSON that is merely not canonical, or not JSON at all.
            do { _ = try JSONParser.parse(b) } catch { throw EntryFormatError(.malformedJSON, "\(error)") }
            throw EntryFormatError(.notCanonical, "the entry bytes are not in RFC 8785 canonical form")
        }
        let scanner = CanonicalScanner(b)
        func text(_ r: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: b[r]), as: UTF8.self) }
        func isString(_ r: Range<Int>) -> Bool { r.count >= 2 && b[r.lowerBound] == UInt8(ascii: "\"") }
        func stringValue(_ r: Range<Int>) -> String? {
            isString(r) ? scanner.decodedString((r.lowerBound + 1)..<(r.upperBound - 1)) : nil
        }
        func integer(_ r: Range<Int>) -> UInt64? {
            guard !r.isEmpty, r.count <= 16, b[r].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
            else { return nil }
            return UInt64(text(r)).flatMap { $0 <= 9_007_199_254_740_991 ? $0 : nil }
        }
        func hash(_ r: Range<Int>, _ what: String) throws(EntryFormatError) -> Merkle.Hash {
            guard r.count == 66, isString(r),
                let h = Hex.digest(UnsafeBufferPointer(rebasing: b[(r.lowerBound + 1)..<(r.upperBound - 1)]))
            else {
                throw EntryFormatError(.badMember, "\(what) is not 64 lowercase hex digits")
            }
            return h
        }
        func keyIs(_ r: Range<Int>, _ name: StaticString) -> Bool {
            r.count == name.utf8CodeUnitCount && memcmp(b.baseAddress! + r.lowerBound, name.utf8Start, r.count) == 0
        }

        // Top-level members, by name. Canonical order is alphabetical, so each name is found once.
        var members = [Range<Int>?](repeating: nil, count: Member.allCases.count)
        for m in index.top {
            guard let slot = Member.allCases.first(where: { keyIs(m.key, $0.name) }) else {
                throw EntryFormatError(.badMember, "unknown member \"\(scanner.decodedString(m.key))\"")
            }
            members[slot.rawValue] = m.value
        }
        func member(_ name: Member) -> Range<Int>? { members[name.rawValue] }
        func required(_ key: Member) throws(EntryFormatError) -> Range<Int> {
            guard let r = member(key) else { throw EntryFormatError(.badMember, "member \"\(key)\" is missing") }
            return r
        }
        func requiredString(_ key: Member) throws(EntryFormatError) -> String {
            guard let s = stringValue(try required(key)) else {
                throw EntryFormatError(.badMember, "member \"\(key)\" is not a string")
            }
            return s
        }
        guard integer(try required(.v)) == Entry.version else {
            throw EntryFormatError(.badMember, "member \"v\" is not 1")
        }
        guard let seq = integer(try required(.seq)) else {
            throw EntryFormatError(.badMember, "member \"seq\" is not a non-negative integer")
        }
        let timeRange = try required(.time)
        guard isString(timeRange),
            let time = Timestamp(
                entryTime: UnsafeBufferPointer(rebasing: b[(timeRange.lowerBound + 1)..<(timeRange.upperBound - 1)]))
        else {
            throw EntryFormatError(.badMember, "member \"time\" is not YYYY-MM-DDTHH:MM:SS.ffffffZ: \(text(timeRange))")
        }
        let dataRange = try required(.data)
        func nested(_ r: Range<Int>) -> [CanonicalScanner.Member]? {
            index.nested.first { $0.start == r.lowerBound }?.members
        }
        guard let data = nested(dataRange) else {
            throw EntryFormatError(.badMember, "member \"data\" is not an object")
        }

        var payload: PayloadCommitment?
        if let r = member(.payload) {
            guard let pm = nested(r), pm.count == 2, keyIs(pm[0].key, "sha256"), keyIs(pm[1].key, "size"),
                let size = integer(pm[1].value)
            else {
                throw EntryFormatError(.badMember, "member \"payload\" is not {\"sha256\": hex, \"size\": integer}")
            }
            payload = PayloadCommitment(sha256: try hash(pm[0].value, "payload.sha256"), size: size)
        }
        var streams: [(id: String, previous: Merkle.Hash)] = []
        if let r = member(.streams) {
            guard let sm = nested(r), !sm.isEmpty else {
                throw EntryFormatError(.badMember, "member \"streams\" is not a non-empty object")
            }
            streams.reserveCapacity(sm.count)
            for m in sm {
                let id = scanner.decodedString(m.key)
                streams.append((id, try hash(m.value, "streams[\"\(id)\"]")))
            }
        }

        // The data fields streams and keys are derived from (the rule of `Streams.ids`), kept as byte
        // ranges: comparing them with the `streams` member needs no string in the common case.
        var implied: [ImpliedStream] = []
        var verifierKey: String?
        var targetSeq: UInt64?
        func imply(_ prefix: StaticString, _ r: Range<Int>) {
            guard r.count > 2, isString(r) else { return }
            let candidate = ImpliedStream(prefix: prefix, value: (r.lowerBound + 1)..<(r.upperBound - 1))
            if !implied.contains(where: { $0.sameID(as: candidate, in: b) }) { implied.append(candidate) }
        }
        for m in data {
            if keyIs(m.key, "procedure") {
                imply("procedure:", m.value)
            } else if keyIs(m.key, "party") || keyIs(m.key, "from") {
                imply("party:", m.value)
            } else if keyIs(m.key, "to") {
                for element in CanonicalScanner.stringElements(b, array: m.value) {
                    imply("party:", (element.lowerBound - 1)..<(element.upperBound + 1))
                }
            } else if keyIs(m.key, "verifier_key") {
                verifierKey = stringValue(m.value)
            } else if keyIs(m.key, "target_seq") {
                targetSeq = integer(m.value)
            }
        }
        // Same set of streams? Keys are distinct (canonical order is strict) and so are the implied ids.
        // Bytes first; escaped names (rare) are compared as strings.
        let keys = member(.streams).flatMap(nested)?.map(\.key) ?? []
        var impliedIDs: [String] = []
        var match = keys.count == implied.count && keys.allSatisfy { key in implied.contains { $0.isID(key, in: b) } }
        if !match {
            impliedIDs = implied.map { $0.id(in: b, scanner: scanner) }.sorted(by: CanonicalJSON.precedes)
            match = streams.map(\.id) == impliedIDs
        }
        self.streamsMatchData = match
        self.impliedWhenDifferent = match ? [] : impliedIDs
        self.log = try requiredString(.log)
        self.seq = seq
        self.prev = try hash(try required(.prev), "member \"prev\"")
        self.time = time
        self.type = try requiredString(.type)
        self.by = try requiredString(.by)
        self.payload = payload
        self.streams = streams
        self.verifierKey = verifierKey
        self.targetSeq = targetSeq
        self.dataRange = dataRange
        self.dataMembers = data
    }

    /// A stream id implied by `data`: a prefix and the raw contents of a string in the entry bytes.
    struct ImpliedStream {
        let prefix: StaticString
        let value: Range<Int>

        var prefixBytes: UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
        }

        /// Whether the raw member name at `key` spells this id. Escaped text never matches here; such
        /// entries take the string comparison.
        func isID(_ key: Range<Int>, in b: UnsafeBufferPointer<UInt8>) -> Bool {
            let p = prefixBytes
            return key.count == p.count + value.count && b[key.lowerBound..<(key.lowerBound + p.count)].elementsEqual(p)
                && b[(key.lowerBound + p.count)..<key.upperBound].elementsEqual(b[value]) && !b[value].contains(0x5C)
        }

        func sameID(as other: ImpliedStream, in b: UnsafeBufferPointer<UInt8>) -> Bool {
            prefixBytes.elementsEqual(other.prefixBytes) && b[value].elementsEqual(b[other.value])
        }

        func id(in b: UnsafeBufferPointer<UInt8>, scanner: CanonicalScanner) -> String {
            "\(prefix)" + scanner.decodedString(value)
        }
    }

    /// The members an entry may have (docs/FORMATS.md).
    enum Member: Int, CaseIterable, CustomStringConvertible {
        case by, data, log, payload, prev, seq, streams, time, type, v
        var name: StaticString {
            switch self {
            case .by: "by"
            case .data: "data"
            case .log: "log"
            case .payload: "payload"
            case .prev: "prev"
            case .seq: "seq"
            case .streams: "streams"
            case .time: "time"
            case .type: "type"
            case .v: "v"
            }
        }
        var description: String { "\(name)" }
    }
}
