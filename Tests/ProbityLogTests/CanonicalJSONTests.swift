import Foundation
import Testing

@testable import ProbityFixtures
@testable import ProbityLog

@Suite("RFC 8785 canonical JSON")
struct CanonicalJSONTests {
    static let vectorNames = ["arrays", "french", "structures", "unicode", "values", "weird"]

    @Test("every RFC 8785 vector canonicalizes to its expected bytes", arguments: vectorNames)
    func vector(name: String) throws {
        let dir = try TestData.directory("jcs")
        let input = try TestData.bytes(dir.appendingPathComponent("input/\(name).json"))
        let expected = try TestData.bytes(dir.appendingPathComponent("output/\(name).json"))
        let hex = try String(contentsOf: dir.appendingPathComponent("outhex/\(name).txt"), encoding: .utf8)
        let expectedFromHex = hex.split(whereSeparator: \.isWhitespace).map { UInt8($0, radix: 16)! }
        #expect(expected == expectedFromHex)
        let canonical = CanonicalJSON.encode(try JSONParser.parse(input))
        #expect(canonical == expected, "\(name): got \(String(decoding: canonical, as: UTF8.self))")
        // The canonical form is a fixed point, and the checker accepts it.
        #expect(try CanonicalJSON.parseCanonical(expected) == JSONParser.parse(input))
        #expect(CanonicalJSON.isCanonical(expected))
        #expect(CanonicalJSON.isCanonical(input) == (input == expected))
    }

    @Test("the checker rejects non-canonical encodings of the same value")
    func rejectsNonCanonical() throws {
        for text in [
            #"{"b":1,"a":2}"#, #"{"a": 1}"#, #"{"a":1.0}"#, #"{"a":"\u0041"}"#, #"{"a":"\/"}"#, #"[1e2]"#, " {\"a\":1}",
            #"{"a":"é"}"#.replacingOccurrences(of: "é", with: "\\u00e9"),
        ] {
            #expect(throws: CanonicalJSON.NotCanonicalError.self, "\(text)") {
                try CanonicalJSON.parseCanonical(Array(text.utf8))
            }
            #expect(!CanonicalJSON.isCanonical(Array(text.utf8)), "\(text)")
        }
        for text in [
            #"{"a":"\u001f","b":"\n","c":-1.5,"d":1e+21,"e":[],"f":{}}"#, #"[0,-1,0.5,"\"\\",true,false,null]"#,
            "\"\u{1F602}é\"",
        ] {
            #expect(CanonicalJSON.isCanonical(Array(text.utf8)), "\(text)")
            #expect(CanonicalJSON.encode(try JSONParser.parse(text)) == Array(text.utf8), "\(text)")
        }
        for bytes: [UInt8] in [
            [0x22, 0xC0, 0x80, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],
            Array(#"{"b":1,"a":2}"#.utf8),
            Array(#"{"a":1,"a":1}"#.utf8), Array(#"["\u0041"]"#.utf8), Array(#"["\u000A"]"#.utf8), Array("-0".utf8),
            Array("01".utf8),
        ] {
            #expect(!CanonicalJSON.isCanonical(bytes), "\(bytes)")
        }
        #expect(try CanonicalJSON.parseCanonical(Array(#"{"a":1,"b":[true,null,"x"]}"#.utf8)) != .null)
    }

    @Test(
        "numbers follow ECMAScript Number.prototype.toString",
        arguments: [
            (0.0, "0"), (-0.0, "0"), (1.0, "1"), (-1.5, "-1.5"), (0.1, "0.1"), (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123456789012345680000.0, "123456789012345680000"), (1e-6, "0.000001"), (1e-7, "1e-7"), (1.5e-7, "1.5e-7"),
            (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
            (9007199254740992.0, "9007199254740992"),
            (333333333.33333329, "333333333.3333333"), (4.5, "4.5"), (0.002, "0.002"), (1e30, "1e+30"),
            (295147905179352830000.0, "295147905179352830000"),
            (-1e-27, "-1e-27"), (1.2345e-5, "0.000012345"), (12345678.9, "12345678.9"),
        ])
    func numbers(value: Double, expected: String) {
        #expect(CanonicalJSON.formatNumber(value) == expected)
    }

    @Test("keys sort by UTF-16 code units, not by scalar values")
    func utf16Order() {
        // U+1F602 is D83D DE02 in UTF-16, which sorts before U+FB33 even though its scalar is larger.
        let value = JSONValue.object(["\u{FB33}": .number(1), "\u{1F602}": .number(2)])
        #expect(CanonicalJSON.encodeString(value) == "{\"\u{1F602}\":2,\"\u{FB33}\":1}")
    }

    @Test(
        "the parser rejects what RFC 8785 cannot canonicalize, with a position",
        arguments: [
            (#"{"a":1,"a":2}"#, "duplicate member"), (#"{"a":1,}"#, "expected a member name"),
            (#"[1,]"#, "expected a value"),
            (#""\ud800""#, "lone high surrogate"), (#"1e400"#, "out of the IEEE 754"), (#"01"#, "leading zeros"),
            ("\"a\u{01}\"", "control character"),
            (#"{"a":tru}"#, "invalid literal"), (#"{"a":1} x"#, "after the JSON value"), ("", "end of input"),
        ])
    func parserErrors(text: String, message: String) {
        #expect {
            _ = try JSONParser.parse(text)
        } throws: { error in
            (error as? JSONParseError)?.message.contains(message) == true
        }
    }

    @Test("invalid UTF-8 is rejected")
    func invalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        // Encoded surrogate.
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xED, 0xA0, 0x80, 0x22]) }
    }

    @Test("errors give line and column")
    func errorPosition() throws {
        let error = try #require(throws: JSONParseError.self) { try JSONParser.parse("{\n  \"a\": [1,\n  2,, 3]\n}") }
        #expect(error.line == 3 && error.column == 5)
    }

    /// The word-at-a-time string scans must flag a word exactly when one of its bytes needs a look: a
    /// missed quote, backslash or control character would let a non-canonical or unterminated string through.
    @Test("the eight-byte string tests flag exactly the words holding a byte to look at")
    func wordTests() {
        func escapes(_ b: UInt8) -> Bool { b < 0x20 || b == 0x22 || b == 0x5C }
        func word(_ bytes: [UInt8]) -> UInt64 { bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } }
        for b in 0...255 {
            for position in 0..<8 {
                var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: 8)
                bytes[position] = UInt8(b)
                #expect(SWAR.needsEscape(word(bytes)) == escapes(UInt8(b)), "byte \(b) at \(position)")
                #expect(SWAR.needsLook(word(bytes)) == (escapes(UInt8(b)) || b >= 0x80), "byte \(b) at \(position)")
            }
        }
        var generator = SystemRandomNumberGenerator()
        let interesting: [UInt8] = [0x00, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x5B, 0x5C, 0x5D, 0x7F, 0x80, 0xC3, 0xFF]
        for _ in 0..<20_000 {
            let bytes = (0..<8).map { _ in
                Bool.random(using: &generator)
                    ? interesting.randomElement(using: &generator)! : UInt8.random(in: 0...255)
            }
            #expect(SWAR.needsEscape(word(bytes)) == bytes.contains(where: escapes), "\(bytes)")
            #expect(SWAR.needsLook(word(bytes)) == bytes.contains { escapes($0) || $0 >= 0x80 }, "\(bytes)")
        }
    }

    @Test("strings with a byte to escape at every offset around the eight-byte words round-trip canonically")
    func stringsAcrossWords() throws {
        for length in 0..<26 {
            for position in 0..<max(1, length) {
                for special in ["\"", "\\", "\n", "\u{1}", "é", "\u{1F600}", "/"] {
                    var characters = Array(repeating: "x", count: length)
                    if length > 0 { characters[position] = special }
                    let text = characters.joined()
                    var encoded: [UInt8] = []
                    CanonicalJSON.writeString(text, into: &encoded)
                    let escaped = text.unicodeScalars.map { scalar -> String in
                        switch scalar {
                        case "\"": "\\\""
                        case "\\": "\\\\"
                        case "\n": "\\n"
                        case "\u{1}": "\\u0001"
                        default: String(scalar)
                        }
                    }.joined()
                    #expect(encoded == Array(("\"" + escaped + "\"").utf8), "\(text.debugDescription)")
                    #expect(CanonicalJSON.isCanonical(encoded), "\(text.debugDescription)")
                    #expect(try JSONParser.parse(encoded).stringValue == text, "\(text.debugDescription)")
                    // The same string unterminated, or with a raw control character, is refused by both scans.
                    #expect(!CanonicalJSON.isCanonical(Array(encoded.dropLast())))
                    #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(encoded.dropLast())) }
                    var raw = encoded
                    raw.insert(0x0A, at: 1 + position)
                    #expect(!CanonicalJSON.isCanonical(raw))
                    #expect(throws: JSONParseError.self) { try JSONParser.parse(raw) }
                }
            }
        }
    }
}
