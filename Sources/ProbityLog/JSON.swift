import Foundation

/// A JSON value as RFC 8259 defines it, with numbers as IEEE 754 doubles (I-JSON, as RFC 8785 requires).
public enum JSONValue: Sendable, Equatable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var objectValue: [String: JSONValue]? { if case .object(let o) = self { return o }; return nil }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var doubleValue: Double? { if case .number(let d) = self { return d }; return nil }

    /// The value as a non-negative integer, if it is one exactly (and below 2^53, where doubles stay exact).
    public var uint64Value: UInt64? {
        guard case .number(let d) = self, d >= 0, d <= 9_007_199_254_740_991, d.rounded(.towardZero) == d else {
            return nil
        }
        return UInt64(d)
    }

    /// The JSON type's name, for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

/// A JSON syntax error, located by byte offset, line and column (1-based) in the input.
public struct JSONParseError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public let offset: Int
    public let line: Int
    public let column: Int
    public var description: String { "line \(line), column \(column): \(message)" }
}

/// A strict RFC 8259 parser: no trailing commas, no comments, no duplicate keys, no lone surrogates,
/// valid UTF-8 only, finite numbers only. Anything it accepts RFC 8785 can canonicalize.
public struct JSONParser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0
    static let maxDepth = 128

    /// What to do with a number that RFC 8785 would write as another decimal number, because no IEEE 754
    /// double holds it (9007199254740993, 0.30000000000000000001, 1152921504606846976 → …847000).
    public enum Numbers: Sendable {
        /// Take the nearest double, as RFC 8785 and I-JSON do (for reading what others wrote).
        case nearestDouble
        /// Refuse it, naming the number and what it would become (for what users append: the log must
        /// not record a value other than the one sent).
        case exact
    }

    private var numbers = Numbers.nearestDouble

    public static func parse(
        _ input: some Collection<UInt8>, numbers: Numbers = .nearestDouble
    ) throws(JSONParseError) -> JSONValue {
        let array = Array(input)
        do {
            return try array.withUnsafeBufferPointer { buffer in
                var parser = JSONParser(bytes: buffer)
                parser.numbers = numbers
                parser.skipWhitespace()
                let value = try parser.parseValue()
                parser.skipWhitespace()
                if parser.index != buffer.count { throw parser.error("unexpected data after the JSON value") }
                return value
            }
        } catch let error as JSONParseError {
            throw error
        } catch {
            fatalError("unreachable: \(error)")
        }
    }

    public static func parse(_ text: String, numbers: Numbers = .nearestDouble) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8), numbers: numbers)
    }

    private init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    private func error(_ message: String, at offset: Int? = nil) -> JSONParseError {
        let at = min(offset ?? index, bytes.count)
        var line = 1, lineStart = 0
        for i in 0..<at where bytes[i] == UInt8(ascii: "\n") { line += 1; lineStart = i + 1 }
        return JSONParseError(message: message, offset: at, line: line, column: at - lineStart + 1)
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue() throws -> JSONValue {
        guard index < bytes.count else { throw error("unexpected end of input, expected a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("unexpected character \(describe(bytes[index])), expected a value")
        }
    }

    private func describe(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? "'\(Character(UnicodeScalar(byte)))'" : String(format: "byte 0x%02X", byte)
    }

    private mutating func expectLiteral(_ literal: String) throws {
        let start = index
        for expected in literal.utf8 {
            guard index < bytes.count, bytes[index] == expected else {
                throw error("invalid literal, expected \(literal)", at: start)
            }
            index += 1
        }
    }

    private mutating func enter() throws {
        depth += 1
        if depth > Self.maxDepth { throw error("nesting deeper than \(Self.maxDepth) levels") }
    }

    private mutating func parseObject() throws -> JSONValue {
        try enter(); defer { depth -= 1 }
        index += 1
        // Collected first, then hashed once into a dictionary of the right size (no rehashing as it grows).
        var pairs: [(key: String, value: JSONValue, at: Int)] = []
        pairs.reserveCapacity(8)
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object([:]) }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw error("expected a member name in double quotes")
            }
            let keyStart = index
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw error("expected ':' after member name \"\(key)\"")
            }
            index += 1
            skipWhitespace()
            pairs.append((key, try parseValue(), keyStart))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input inside an object") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                var members = [String: JSONValue](minimumCapacity: pairs.count)
                for pair in pairs where members.updateValue(pair.value, forKey: pair.key) != nil {
                    throw error("duplicate member name \"\(pair.key)\"", at: pair.at)
                }
                return .object(members)
            }
            throw error("expected ',' or '}' in an object, found \(describe(bytes[index]))")
        }
    }

    private mutating func parseArray() throws -> JSONValue {
        try enter(); defer { depth -= 1 }
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(elements) }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input inside an array") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(elements) }
            throw error("expected ',' or ']' in an array, found \(describe(bytes[index]))")
        }
    }

    private mutating func parseString() throws -> String {
        let start = index
        index += 1
        // Fast path: no escapes.
        var scan = index
        while scan < bytes.count {
            // Eight bytes at a time while none is a quote, a backslash, a control character or non-ASCII.
            scan = SWAR.skipPlain(bytes, from: scan)
            guard scan < bytes.count else { break }
            let b = bytes[scan]
            if b == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[index..<scan])
                guard let s = UTF8Text.string(validating: slice) else {
                    throw error("invalid UTF-8 in a string", at: start)
                }
                index = scan + 1
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw error("unescaped control character in a string", at: scan) }
            scan += 1
        }
        var out: [UInt8] = Array(bytes[index..<scan])
        index = scan
        while true {
            guard index < bytes.count else { throw error("unterminated string", at: start) }
            let b = bytes[index]
            if b == UInt8(ascii: "\"") { index += 1; break }
            if b < 0x20 { throw error("unescaped control character in a string") }
            if b != UInt8(ascii: "\\") { out.append(b); index += 1; continue }
            index += 1
            guard index < bytes.count else { throw error("unterminated escape sequence") }
            let e = bytes[index]
            index += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try parseHex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                        bytes[index + 1] == UInt8(ascii: "u")
                    else {
                        throw error("lone high surrogate \\u\(String(scalar, radix: 16))")
                    }
                    index += 2
                    let low = try parseHex4()
                    guard (0xDC00...0xDFFF).contains(low) else {
                        throw error("high surrogate not followed by a low surrogate")
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw error("lone low surrogate \\u\(String(scalar, radix: 16))")
                }
                out.append(contentsOf: Array(String(UnicodeScalar(scalar)!).utf8))
            default: throw error("invalid escape sequence '\\\(Character(UnicodeScalar(e)))'", at: index - 2)
            }
        }
        guard let s = out.withUnsafeBufferPointer(UTF8Text.string(validating:)) else {
            throw error("invalid UTF-8 in a string", at: start)
        }
        return s
    }

    private mutating func parseHex4() throws -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[index]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: throw error("invalid hex digit in \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    private mutating func parseNumber() throws -> Double {
        let start = index
        func digits() -> Int {
            let s = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            return index - s
        }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { throw error("truncated number", at: start) }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                throw error("leading zeros are not allowed in numbers", at: start)
            }
        } else if digits() == 0 {
            throw error("invalid number", at: start)
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw error("expected digits after the decimal point", at: start) }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard digits() > 0 else { throw error("expected digits in the exponent", at: start) }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw error("number \(text) is out of the IEEE 754 double range", at: start)
        }
        if numbers == .exact, DecimalDigits(text) != DecimalDigits(CanonicalJSON.formatNumber(value)) {
            throw error(
                "number \(text) would be recorded as \(CanonicalJSON.formatNumber(value)) (JSON numbers are IEEE 754 doubles, RFC 8785); "
                    + "send it as a string to keep it exact", at: start)
        }
        return value
    }
}

/// A decimal number's value as significant digits and a power of ten (value = 0.d₁d₂…dₖ × 10ⁿ, sign
/// apart), so that "4.50", "45e-1" and "4.5" compare equal and "9007199254740993" differs from
/// "9007199254740992".
struct DecimalDigits: Equatable {
    let negative: Bool
    let digits: [UInt8]
    let exponent: Int

    init(_ text: String) {
        var utf8 = Substring(text).utf8[...]
        negative = utf8.first == UInt8(ascii: "-")
        if negative { utf8 = utf8.dropFirst() }
        var mantissa = utf8
        var exponentPart = 0
        if let e = utf8.firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            mantissa = utf8[..<e]
            exponentPart =
                Int(String(decoding: utf8[utf8.index(after: e)...].filter { $0 != UInt8(ascii: "+") }, as: UTF8.self))
                ?? 0
        }
        var all: [UInt8] = []
        var pointPosition: Int?
        for byte in mantissa {
            if byte == UInt8(ascii: ".") { pointPosition = all.count } else { all.append(byte) }
        }
        var n = (pointPosition ?? all.count) + exponentPart
        var first = 0
        while first < all.count, all[first] == UInt8(ascii: "0") { first += 1; n -= 1 }
        var last = all.count
        while last > first, all[last - 1] == UInt8(ascii: "0") { last -= 1 }
        digits = Array(all[first..<last])
        exponent = digits.isEmpty ? 0 : n
    }

    static func == (a: DecimalDigits, b: DecimalDigits) -> Bool {
        if a.digits.isEmpty && b.digits.isEmpty { return true }  // zero, whatever its sign or exponent
        return a.negative == b.negative && a.digits == b.digits && a.exponent == b.exponent
    }
}
