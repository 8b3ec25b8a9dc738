import Foundation
import Testing

@testable import ProbityFixtures
@testable import ProbityLog

@Suite("Entries, streams and event input")
struct EntryTests {
    static func sample() -> Entry {
        Entry(
            log: "o", seq: 3, prev: Merkle.leafHash([2]), time: Timestamp(entryTime: "2026-03-10T08:20:11.000000Z")!,
            type: "exchange.recorded", by: "cli:test",
            data: [
                "procedure": .string("2026-042"), "from": .string("a"), "to": .array([.string("b")]),
                "channel": .string("x"),
            ],
            payload: PayloadCommitment(salt: [UInt8](repeating: 9, count: 32), payload: Array("{}".utf8)),
            streams: ["procedure:2026-042": Entry.zeroHash, "party:a": Entry.zeroHash, "party:b": Entry.zeroHash])
    }

    @Test("entries encode canonically and decode back")
    func roundTrip() throws {
        let entry = Self.sample()
        let bytes = entry.canonicalBytes
        #expect(bytes == CanonicalJSON.encode(entry.jsonValue))
        #expect(try Entry(bytes: bytes) == entry)
        var bare = entry
        bare.payload = nil
        bare.streams = [:]
        bare.data = ["é\u{1F602}": .string("\u{7}\"x\""), "a": .number(-0.5)]
        #expect(bare.canonicalBytes == CanonicalJSON.encode(bare.jsonValue))
        #expect(
            String(decoding: bytes, as: UTF8.self).hasPrefix(
                #"{"by":"cli:test","data":{"channel":"x","from":"a","procedure":"2026-042","to":["b"]},"log":"o","payload":{"sha256":""#
            ))
    }

    @Test("a non-canonical spelling of an entry is refused")
    func nonCanonical() throws {
        var text = String(decoding: Self.sample().canonicalBytes, as: UTF8.self)
        text = text.replacingOccurrences(of: #""seq":3"#, with: #""seq":3.0"#)
        #expect { try Entry(bytes: Array(text.utf8)) } throws: { ($0 as? EntryFormatError)?.code == .notCanonical }
    }

    @Test("streams come from procedure, party, from and to")
    func streams() {
        #expect(Streams.ids(for: Self.sample().data) == ["procedure:2026-042", "party:a", "party:b"])
        #expect(Streams.ids(for: ["party": .string("s"), "org": .string("x")]) == ["party:s"])
        #expect(Streams.ids(for: [:]).isEmpty)
    }

    @Test("payload commitments bind salt and bytes")
    func commitments() {
        let salt = [UInt8](repeating: 1, count: 32)
        let c = PayloadCommitment(salt: salt, payload: Array("{\"text\":\"oui\"}".utf8))
        #expect(c.matches(salt: salt, payload: Array("{\"text\":\"oui\"}".utf8)))
        #expect(!c.matches(salt: salt, payload: Array("{\"text\":\"non\"}".utf8)))
        #expect(!c.matches(salt: [UInt8](repeating: 2, count: 32), payload: Array("{\"text\":\"oui\"}".utf8)))
    }
}
