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
}
