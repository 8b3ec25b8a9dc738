#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A one-pass checker that JSON bytes are in RFC 8785 canonical form, without building a value tree.
///
/// It accepts exactly the bytes `CanonicalJSON.encode` produces: no whitespace, members strictly
/// increasing in UTF-16 order (so no duplicates), minimal string escapes, valid UTF-8, ECMAScript
/// number forms. Verification runs it on every entry, so it allocates only the member index of the
/// objects it is asked to index. Anything it refuses, the full parser classifies (malformed vs. merely
/// not canonical) for the error message.
package struct CanonicalScanner {
    package typealias Member = (key: Range<Int>, value: Range<Int>)

    struct Refused: Error {}

    let bytes: UnsafeBufferPointer<UInt8>
    private(set) var index = 0

    package init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// Whether the bytes are exactly one JSON value in canonical form.
    static func isCanonical(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var scanner = CanonicalScanner(bytes)
        var nested: [(start: Int, members: [Member])] = []
        do { try scanner.value(depth: 0, nested: &nested) } catch { return false }
        return scanner.index == bytes.count
    }

    /// Checks the whole buffer is one canonical object; returns the members of the top-level object and
    /// of the objects directly inside it (keyed by the member's value start).
    static func indexObject(
        _ bytes: UnsafeBufferPointer<UInt8>
    ) throws(Refused) -> (top: [Member], nested: [(start: Int, members: [Member])]) {
        var scanner = CanonicalScanner(bytes)
        var nested: [(start: Int, members: [Member])] = []
        guard scanner.index < bytes.count, bytes[0] == UInt8(ascii: "{") else { throw Refused() }
        let top = try scanner.object(depth: 0, nested: &nested)
        guard scanner.index == bytes.count else { throw Refused() }
        return (top, nested)
    }

    private mutating func value(depth: Int, nested: inout [(start: Int, members: [Member])]) throws(Refused) {
        guard index < bytes.count, depth < JSONParser.maxDepth else { throw Refused() }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            let start = index
            let members = try object(depth: depth, nested: &nested)
            if depth == 1 { nested.append((start, members)) }
        case UInt8(ascii: "["): try array(depth: depth, nested: &nested)
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: try number()
        }
    }

    private mutating func literal(_ text: StaticString) throws(Refused) {
        let n = text.utf8CodeUnitCount
        guard index + n <= bytes.count, memcmp(bytes.baseAddress! + index, text.utf8Start, n) == 0 else {
            throw Refused()
        }
        index += n
    }

    private mutating func object(
        depth: Int, nested: inout [(start: Int, members: [Member])]
    ) throws(Refused) -> [Member] {
        index += 1
        // Only the entry's object and those of its members are indexed; deeper ones are only checked.
        let kept = depth <= 1
        var members: [Member] = []
        if kept { members.reserveCapacity(16) }
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return members }
        var previous: Range<Int>?
        while true {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw Refused() }
            let key = try string()
            if let previous, !keyPrecedes(previous, key) { throw Refused() }
            previous = key
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw Refused() }
            index += 1
            let valueStart = index
            try value(depth: depth + 1, nested: &nested)
            if kept { members.append((key, valueStart..<index)) }
            guard index < bytes.count else { throw Refused() }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            guard bytes[index] == UInt8(ascii: "}") else { throw Refused() }
            index += 1
            return members
        }
    }

    private mutating func array(depth: Int, nested: inout [(start: Int, members: [Member])]) throws(Refused) {
        index += 1
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return }
        while true {
            try value(depth: depth + 1, nested: &nested)
            guard index < bytes.count else { throw Refused() }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            guard bytes[index] == UInt8(ascii: "]") else { throw Refused() }
            index += 1
            return
        }
    }

    /// Scans a string with canonical escapes only; returns the range between the quotes.
    private mutating func string() throws(Refused) -> Range<Int> {
        index += 1
        let start = index
        let base = bytes.baseAddress!, end = bytes.count
        while index < end {
            // The common case: a run of printable ASCII other than `"` and `\`, scanned eight bytes at a
            // time while no byte of the word needs a look, then byte by byte.
            var i = SWAR.skipPlain(bytes, from: index)
            while i < end, case let c = base[i], c >= 0x20, c < 0x80, c != 0x22, c != 0x5C { i += 1 }
            index = i
            guard index < end else { break }
            let b = base[index]
            if b == UInt8(ascii: "\"") {
                index += 1
                return start..<(index - 1)
            }
            if b < 0x20 { throw Refused() }
            if b == UInt8(ascii: "\\") {
                guard index + 1 < bytes.count else { throw Refused() }
                switch bytes[index + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 2
                case UInt8(ascii: "u"):
                    // Only control characters without a short form are written \u00xx, in lowercase.
                    guard index + 5 < bytes.count, bytes[index + 2] == 0x30, bytes[index + 3] == 0x30,
                        bytes[index + 4] == 0x30 || bytes[index + 4] == 0x31
                    else { throw Refused() }
                    let low = bytes[index + 5]
                    let nibble: UInt8
                    switch low {
                    case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = low - UInt8(ascii: "0")
                    case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = low - UInt8(ascii: "a") + 10
                    default: throw Refused()
                    }
                    let scalar = (bytes[index + 4] - 0x30) << 4 | nibble
                    if [0x08, 0x09, 0x0A, 0x0C, 0x0D].contains(scalar) { throw Refused() }
                    index += 6
                default: throw Refused()
                }
                continue
            }
            if b < 0x80 { index += 1; continue }
            try utf8Sequence()
        }
        throw Refused()
    }

    /// One multi-byte UTF-8 sequence: no overlong forms, no surrogates, nothing above U+10FFFF.
    private mutating func utf8Sequence() throws(Refused) {
        let b0 = bytes[index]
        let length: Int
        var lowerBound: UInt8 = 0x80, upperBound: UInt8 = 0xBF
        switch b0 {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lowerBound = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; upperBound = 0x9F
        case 0xF0: length = 4; lowerBound = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; upperBound = 0x8F
        default: throw Refused()
        }
        guard index + length <= bytes.count, (lowerBound...upperBound).contains(bytes[index + 1]) else {
            throw Refused()
        }
        for k in 2..<length where !(0x80...0xBF).contains(bytes[index + k]) { throw Refused() }
        index += length
    }

    private mutating func number() throws(Refused) {
        let start = index
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        let digitsStart = index
        var integerOnly = true
        while index < bytes.count, isNumberByte(bytes[index]) {
            if !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { integerOnly = false }
            index += 1
        }
        let digits = index - digitsStart
        guard digits > 0 else { throw Refused() }
        // Fast path: a plain integer below 2^53 is canonical iff it has no leading zero and is not -0.
        if integerOnly && digits <= 15 {
            if bytes[digitsStart] == UInt8(ascii: "0") && (digits > 1 || start != digitsStart) { throw Refused() }
            return
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let value = try? JSONParser.parse(text), case .number(let d) = value,
            CanonicalJSON.formatNumber(d) == text
        else { throw Refused() }
    }

    private func isNumberByte(_ b: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) || b == UInt8(ascii: ".") || b == UInt8(ascii: "e")
            || b == UInt8(ascii: "E") || b == UInt8(ascii: "+") || b == UInt8(ascii: "-")
    }

    /// Strict UTF-16 order of two member names given as raw (escaped) string contents.
    private func keyPrecedes(_ a: Range<Int>, _ b: Range<Int>) -> Bool {
        let pa = UnsafeBufferPointer(rebasing: bytes[a]), pb = UnsafeBufferPointer(rebasing: bytes[b])
        let simple = !pa.contains { $0 >= 0x80 || $0 == 0x5C } && !pb.contains { $0 >= 0x80 || $0 == 0x5C }
        if simple {
            let n = memcmp(pa.baseAddress!, pb.baseAddress!, min(pa.count, pb.count))
            return n != 0 ? n < 0 : pa.count < pb.count
        }
        return decodedString(a).utf16.lexicographicallyPrecedes(decodedString(b).utf16)
    }

    /// The contents of the string elements of an already-checked array at `range` (other elements are
    /// skipped).
    package static func stringElements(_ bytes: UnsafeBufferPointer<UInt8>, array range: Range<Int>) -> [Range<Int>] {
        var scanner = CanonicalScanner(bytes)
        var unused: [(start: Int, members: [Member])] = []
        var strings: [Range<Int>] = []
        scanner.index = range.lowerBound + 1
        guard bytes[range.lowerBound] == UInt8(ascii: "["), bytes[scanner.index] != UInt8(ascii: "]") else { return [] }
        while scanner.index < range.upperBound {
            if bytes[scanner.index] == UInt8(ascii: "\""), let r = try? scanner.string() {
                strings.append(r)
            } else if (try? scanner.value(depth: 1, nested: &unused)) == nil {
                return strings
            }
            scanner.index += 1  // past ',' or the closing ']'
        }
        return strings
    }

    /// The string value of already-scanned string contents (unescaping when needed).
    /// The two strings of a canonical `{"id":"…","platform":"…"}` at `range` (contents, without quotes).
    package static func idAndPlatform(
        _ bytes: UnsafeBufferPointer<UInt8>, object range: Range<Int>
    ) -> (id: Range<Int>, platform: Range<Int>)? {
        let idKey: StaticString = "{\"id\":", platformKey: StaticString = ",\"platform\":"
        func at(_ i: Int, _ text: StaticString) -> Bool {
            i + text.utf8CodeUnitCount <= range.upperBound
                && memcmp(bytes.baseAddress! + i, text.utf8Start, text.utf8CodeUnitCount) == 0
        }
        var scanner = CanonicalScanner(bytes)
        guard at(range.lowerBound, idKey) else { return nil }
        scanner.index = range.lowerBound + idKey.utf8CodeUnitCount
        guard scanner.index < range.upperBound, bytes[scanner.index] == UInt8(ascii: "\""),
            let id = try? scanner.string(), at(scanner.index, platformKey)
        else { return nil }
        scanner.index += platformKey.utf8CodeUnitCount
        guard scanner.index < range.upperBound, bytes[scanner.index] == UInt8(ascii: "\""),
            let platform = try? scanner.string(),
            scanner.index == range.upperBound - 1, bytes[scanner.index] == UInt8(ascii: "}")
        else { return nil }
        return (id, platform)
    }

    package func decodedString(_ range: Range<Int>) -> String {
        let raw = UnsafeBufferPointer(rebasing: bytes[range])
        if !raw.contains(0x5C) { return String(decoding: raw, as: UTF8.self) }
        let quoted = [UInt8(ascii: "\"")] + Array(raw) + [UInt8(ascii: "\"")]
        return (try? JSONParser.parse(quoted))?.stringValue ?? ""
    }
}

/// Word-at-a-time tests on eight bytes of a JSON string (the classic "has a zero byte" trick: exact for
/// whether any byte matches, which is all the scanners ask).
package enum SWAR {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080

    /// Whether any byte of `w` is 0.
    @inline(__always) static func hasZero(_ w: UInt64) -> Bool { (w &- ones) & ~w & highs != 0 }

    /// Whether any byte of `w` is a control character (< 0x20), `"`, `\`, or not ASCII (≥ 0x80): the
    /// bytes a string scanner must look at one by one.
    @inline(__always) package static func needsLook(_ w: UInt64) -> Bool {
        w & highs != 0 || needsEscape(w)
    }

    /// The index of the first eight-byte word from `i` on that holds a byte `needsLook` flags (or of the last
    /// bytes, fewer than eight): where a string scanner must go on byte by byte.
    @inline(__always) package static func skipPlain(_ bytes: UnsafeBufferPointer<UInt8>, from i: Int) -> Int {
        skip(bytes, from: i, while: { !needsLook($0) })
    }

    /// The same for `needsEscape`: where a writer must look for a byte to escape.
    @inline(__always) package static func skipUnescaped(_ bytes: UnsafeBufferPointer<UInt8>, from i: Int) -> Int {
        skip(bytes, from: i, while: { !needsEscape($0) })
    }

    @inline(__always) private static func skip(
        _ bytes: UnsafeBufferPointer<UInt8>, from start: Int, while clean: (UInt64) -> Bool
    ) -> Int {
        var i = start
        while i + 8 <= bytes.count, clean(UnsafeRawPointer(bytes.baseAddress! + i).loadUnaligned(as: UInt64.self)) {
            i += 8
        }
        return i
    }

    /// Whether any byte of `w` is a control character (< 0x20), `"` or `\`: the bytes JSON escapes.
    /// (A byte below 0x20 is the only one whose subtraction borrows, so the test is exact.)
    @inline(__always) package static func needsEscape(_ w: UInt64) -> Bool {
        hasZero(w ^ (ones &* 0x22)) || hasZero(w ^ (ones &* 0x5C)) || (w &- ones &* 0x20) & ~w & highs != 0
    }
}
