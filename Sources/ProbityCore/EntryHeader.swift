#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What verification and replay need of an entry, decoded from its bytes in one pass that also proves
/// them canonical (`CanonicalScanner`). `Entry(bytes:)` builds on it when the whole `data` is needed.
public struct EntryHeader: Sendable, Equatable {
    public let log: String
    public let seq: UInt64
    public let prev: Merkle.Hash
    public let time: Timestamp
    public let type: String
    public let by: String
    public let payload: PayloadCommitment?
    /// The `streams` member: stream id → leaf hash of the stream's previous entry.
    public let streams: [String: Merkle.Hash]
    /// The streams the entry's `data` implies (see `Streams.ids`).
    public let impliedStreams: Set<String>
    /// `data.verifier_key`, for `log.created` and `key.rotated`.
    public let verifierKey: String?
    /// `data.target_seq`, for `redaction.applied`.
    public let targetSeq: UInt64?
    /// Where `data`'s object lies in the bytes.
    let dataRange: Range<Int>

    public init(bytes: [UInt8]) throws(EntryFormatError) {
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(EntryFormatError) in try EntryHeader(buffer) }
        }
        self = try result.get()
    }

    private init(_ b: UnsafeBufferPointer<UInt8>) throws(EntryFormatError) {
        let index: (top: [CanonicalScanner.Member], nested: [Int: [CanonicalScanner.Member]])
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
            guard !r.isEmpty, r.count <= 16, b[r].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
            return UInt64(text(r)).flatMap { $0 <= 9_007_199_254_740_991 ? $0 : nil }
        }
        func hash(_ r: Range<Int>, _ what: String) throws(EntryFormatError) -> Merkle.Hash {
            guard r.count == 66, isString(r), let h = Hex.decode(UnsafeBufferPointer(rebasing: b[(r.lowerBound + 1)..<(r.upperBound - 1)])) else {
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
            guard let s = stringValue(try required(key)) else { throw EntryFormatError(.badMember, "member \"\(key)\" is not a string") }
            return s
        }
        guard integer(try required(.v)) == Entry.version else { throw EntryFormatError(.badMember, "member \"v\" is not 1") }
        guard let seq = integer(try required(.seq)) else { throw EntryFormatError(.badMember, "member \"seq\" is not a non-negative integer") }
        let timeText = try requiredString(.time)
        guard let time = Timestamp(entryTime: timeText) else {
            throw EntryFormatError(.badMember, "member \"time\" is not YYYY-MM-DDTHH:MM:SS.ffffffZ: \(timeText)")
        }
        let dataRange = try required(.data)
        guard let data = index.nested[dataRange.lowerBound] else { throw EntryFormatError(.badMember, "member \"data\" is not an object") }

        var payload: PayloadCommitment?
        if let r = member(.payload) {
            guard let pm = index.nested[r.lowerBound], pm.count == 2, keyIs(pm[0].key, "sha256"), keyIs(pm[1].key, "size"),
                  let size = integer(pm[1].value) else {
                throw EntryFormatError(.badMember, "member \"payload\" is not {\"sha256\": hex, \"size\": integer}")
            }
            payload = PayloadCommitment(sha256: try hash(pm[0].value, "payload.sha256"), size: size)
        }
        var streams: [String: Merkle.Hash] = [:]
        if let r = member(.streams) {
            guard let sm = index.nested[r.lowerBound], !sm.isEmpty else { throw EntryFormatError(.badMember, "member \"streams\" is not a non-empty object") }
            for m in sm {
                let id = scanner.decodedString(m.key)
                streams[id] = try hash(m.value, "streams[\"\(id)\"]")
            }
        }

        // The data fields streams and keys are derived from.
        var implied = Set<String>()
        var verifierKey: String?
        var targetSeq: UInt64?
        for m in data {
            if keyIs(m.key, "procedure") {
                if let s = stringValue(m.value), !s.isEmpty { implied.insert("procedure:" + s) }
            } else if keyIs(m.key, "party") || keyIs(m.key, "from") {
                if let s = stringValue(m.value), !s.isEmpty { implied.insert("party:" + s) }
            } else if keyIs(m.key, "to") {
                if b[m.value.lowerBound] == UInt8(ascii: "["), case .array(let items)? = try? JSONParser.parse(UnsafeBufferPointer(rebasing: b[m.value])) {
                    for case .string(let s) in items where !s.isEmpty { implied.insert("party:" + s) }
                }
            } else if keyIs(m.key, "verifier_key") {
                verifierKey = stringValue(m.value)
            } else if keyIs(m.key, "target_seq") {
                targetSeq = integer(m.value)
            }
        }
        self.log = try requiredString(.log)
        self.seq = seq
        self.prev = try hash(try required(.prev), "member \"prev\"")
        self.time = time
        self.type = try requiredString(.type)
        self.by = try requiredString(.by)
        self.payload = payload
        self.streams = streams
        self.impliedStreams = implied
        self.verifierKey = verifierKey
        self.targetSeq = targetSeq
        self.dataRange = dataRange
    }

    /// The members an entry may have (DESIGN §1.1).
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
