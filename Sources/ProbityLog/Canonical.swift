#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// RFC 8785 (JSON Canonicalization Scheme) serialization.
///
/// The bytes this produces are what Probity hashes and signs, so they must match every other RFC 8785
/// implementation: members sorted by their UTF-16 code units, minimal string escaping, and numbers in
/// ECMAScript's `Number.prototype.toString` form.
public enum CanonicalJSON {
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, into: &out)
        return out
    }

    public static func encodeString(_ value: JSONValue) -> String {
        String(decoding: encode(value), as: UTF8.self)
    }

    /// Parses `bytes` and checks they are already canonical: re-encoding gives the same bytes.
    /// Returns the parsed value. This is how a verifier refuses two encodings of one event.
    public static func parseCanonical(_ bytes: [UInt8]) throws -> JSONValue {
        let value = try JSONParser.parse(bytes)
        guard isCanonical(bytes) else { throw NotCanonicalError() }
        return value
    }

    /// The fast check: whether `bytes` are canonical, without building the value (see `CanonicalScanner`).
    public static func isCanonical(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { CanonicalScanner.isCanonical($0) }
    }

    public struct NotCanonicalError: Error, CustomStringConvertible {
        public var description: String { "the bytes are valid JSON but not in RFC 8785 canonical form" }
    }

    public static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(true): out.append(contentsOf: [0x74, 0x72, 0x75, 0x65])
        case .bool(false): out.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
        case .number(let d): out.append(contentsOf: formatNumber(d).utf8)
        case .string(let s): writeString(s, into: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                write(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, key) in sortedKeys(members).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(members[key]!, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// RFC 8785 §3.2.3: sort by UTF-16 code units, not by scalars or bytes (they differ above U+FFFF).
    /// For ASCII keys (the common case) UTF-8 byte order is the same and much cheaper to compare.
    static func sortedKeys<V>(_ members: [String: V]) -> [String] {
        let keys = Array(members.keys)
        if keys.count < 2 { return keys }
        // On ASCII, Swift's String ordering is code point order, which is UTF-16 order: the fast path.
        return keys.allSatisfy(isASCII) ? keys.sorted() : keys.sorted(by: precedes)
    }

    /// RFC 8785 member order: UTF-16 code units. For ASCII (the common case) that is byte order.
    public static func precedes(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        let ascii = a.withUTF8 { x in b.withUTF8 { y in x.allSatisfy { $0 < 0x80 } && y.allSatisfy { $0 < 0x80 } } }
        guard ascii else { return a.utf16.lexicographicallyPrecedes(b.utf16) }
        return a.withUTF8 { x in
            b.withUTF8 { y in
                let n = memcmp(x.baseAddress!, y.baseAddress!, min(x.count, y.count))
                return n != 0 ? n < 0 : x.count < y.count
            }
        }
    }

    static func isASCII(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { buffer in buffer.allSatisfy { $0 < 0x80 } }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `s` as a JSON string (RFC 8785 escaping).
    public static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in
            var runStart = 0
            var i = 0
            while i < bytes.count {
                // Eight bytes at a time while none needs escaping (the common case: nothing does).
                i = SWAR.skipUnescaped(bytes, from: i)
                guard i < bytes.count else { break }
                let byte = bytes[i]
                i += 1
                guard byte < 0x20 || byte == 0x22 || byte == 0x5C else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<(i - 1)]))
                runStart = i
                switch byte {
                case 0x22: out.append(0x5C); out.append(0x22)
                case 0x5C: out.append(0x5C); out.append(0x5C)
                case 0x08: out.append(0x5C); out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(0x5C); out.append(UInt8(ascii: "f"))
                case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
                case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
                default:
                    out.append(contentsOf: [
                        0x5C, UInt8(ascii: "u"), 0x30, 0x30, hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xF)],
                    ])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        }
        out.append(UInt8(ascii: "\""))
    }

    /// ECMAScript Number::toString (ECMA-262 §6.1.6.1.20) of a finite double.
    /// Swift's `description` already yields the shortest round-tripping digits; only the layout differs.
    public static func formatNumber(_ value: Double) -> String {
        precondition(value.isFinite, "RFC 8785 has no representation for NaN or infinity")
        if value == 0 { return "0" }
        if value < 0 { return "-" + formatNumber(-value) }
        if value < 9_007_199_254_740_992, value.rounded(.towardZero) == value { return String(UInt64(value)) }

        // Split Swift's shortest representation into digits and a decimal exponent n such that
        // value = 0.d1d2...dk × 10^n (ECMA-262's n).
        let text = value.description
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...])!
        }
        var digits = ""
        var pointPosition = mantissa.count
        if let dot = mantissa.firstIndex(of: ".") {
            pointPosition = mantissa.distance(from: mantissa.startIndex, to: dot)
            digits = String(mantissa[..<dot]) + String(mantissa[mantissa.index(after: dot)...])
        } else {
            digits = String(mantissa)
        }
        var n = pointPosition + exponent
        while digits.first == "0" { digits.removeFirst(); n -= 1 }
        while digits.last == "0" { digits.removeLast() }
        let k = digits.count

        if k <= n && n <= 21 { return digits + String(repeating: "0", count: n - k) }
        if 0 < n && n <= 21 {
            let i = digits.index(digits.startIndex, offsetBy: n)
            return digits[..<i] + "." + digits[i...]
        }
        if -6 < n && n <= 0 { return "0." + String(repeating: "0", count: -n) + digits }
        let e = n - 1
        let sign = e < 0 ? "-" : "+"
        let head = digits.prefix(1)
        let tail = digits.dropFirst()
        return head + (tail.isEmpty ? "" : "." + tail) + "e" + sign + String(abs(e))
    }
}
