import Foundation
import Synchronization
import Testing

@testable import ProbityDomain
@testable import ProbityFixtures
@testable import ProbityLog
@testable import ProbityStore

@Suite("Write sources: the clock and the randomness of writes")
struct WriteSourcesTests {
    @Test("the system clock round-trips through the entry form, and two draws of the RNG differ")
    func system() throws {
        let now = WriteSources.system.now()
        #expect(Timestamp(entryTime: now.description) == now)
        #expect(try WriteSources.system.randomBytes(32) != WriteSources.system.randomBytes(32))
    }

    /// A fixed clock and a counter for randomness: what the writer writes is then a function of its input.
    static func fixed(at time: String) -> WriteSources {
        let counter = Counter()
        return WriteSources(
            now: { Timestamp(entryTime: time)! },
            randomBytes: { count in (0..<count).map { _ in counter.next() } })
    }

    final class Counter: Sendable {
        private let value = Mutex<UInt8>(0)
        func next() -> UInt8 {
            value.withLock {
                $0 &+= 1; return $0
            }
        }
    }

    @Test("the writer and the token store take their time and salts from the sources they were opened with")
    func injected() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("probity-sources-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = try Ed25519PrivateKey.generate()
        var stores: [[[UInt8]]] = []
        for copy in 0..<2 {
            let path = dir.appendingPathComponent("log-\(copy).sqlite").path
            let signer = try NoteSigner(name: "test.example/log", privateKey: key)
            let writer = try LogWriter.create(
                path: path, origin: "test.example/log", signer: signer, keyPath: "", by: "test", software: "test",
                sources: Self.fixed(at: "2026-03-01T09:30:00.000001Z"))
            let batch = try writer.append(
                [
                    EventInput(
                        type: "x-note", data: ["procedure": .string("2026-042")],
                        payload: .object(["text": .string("hello")]))
                ], by: "test")
            let stored = try #require(try writer.entry(seq: batch.entries[0].seq))
            #expect(try Entry(bytes: stored.bytes).time.description == "2026-03-01T09:30:00.000001Z")
            // The counter's first bytes: 1, 2, 3, …
            #expect(stored.payload?.salt == (1...PayloadCommitment.saltLength).map { UInt8($0) })
            stores.append(try (0..<writer.size()).map { try #require(try writer.entry(seq: $0)).bytes })
        }
        // Same key, same clock, same randomness, same events: byte for byte the same log.
        #expect(stores[0] == stores[1])

        let tokens = try TokenStore.open(
            path: dir.appendingPathComponent("log-0.sqlite").path,
            sources: Self.fixed(at: "2026-03-02T08:00:00.000000Z"))
        let (info, token) = try tokens.create(name: "ingest", role: .ingest)
        #expect(info.created == "2026-03-02T08:00:00.000000Z")
        #expect(token.id == Hex.encode((1...6).map { UInt8($0) }))
    }
}
