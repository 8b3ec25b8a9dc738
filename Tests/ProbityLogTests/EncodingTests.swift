import ProbityLog
import Testing

@testable import ProbityFixtures

@Suite("encodings")
struct EncodingTests {
    @Test("Base64.append writes what Foundation's encoder writes, for every length and padding")
    func base64Append() throws {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<70 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var out: [UInt8] = []
            Base64.append(bytes, to: &out)
            #expect(String(decoding: out, as: UTF8.self) == Base64.encode(bytes), "length \(length)")
        }
    }

    @Test(
        "UTF8Text accepts exactly what the standard library's validation accepts",
        arguments: [
            [], Array("plain ASCII".utf8), Array("enrobé à chaud — « franco » 😀".utf8), [0xEF, 0xBF, 0xBD],
            [0xC3, 0x28], [0x80], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xFF],
            // A truncated 4-byte sequence comes back as one 3-byte U+FFFD: same length, other bytes.
            [0xF0, 0x90, 0x80, 0x41], [0x41, 0xE2, 0x82],
        ] as [[UInt8]])
    func utf8Validation(_ bytes: [UInt8]) {
        let fast = bytes.withUnsafeBufferPointer(UTF8Text.string(validating:))
        #expect(fast == String(validating: bytes, as: UTF8.self))
        if let fast { #expect(Array(fast.utf8) == bytes) }
    }

    @Test("UTF8Text agrees with the standard library on random bytes")
    func utf8ValidationRandom() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let bytes = (0..<Int.random(in: 0...12, using: &generator)).map { _ in
                // Mostly bytes around the multi-byte ranges, where the edge cases are.
                UInt8.random(in: Bool.random(using: &generator) ? 0x70...0xFF : 0x00...0xFF, using: &generator)
            }
            let fast = bytes.withUnsafeBufferPointer(UTF8Text.string(validating:))
            #expect(fast == String(validating: bytes, as: UTF8.self), "\(bytes)")
        }
    }
}
