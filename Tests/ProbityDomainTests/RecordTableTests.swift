import ProbityLog
import Testing

@testable import ProbityDomain

/// The compact record store gives back every record exactly as appended, and finds exchanges by source.
@Suite("Record table")
struct RecordTableTests {
    typealias Record = DomainState.Record
    typealias Source = DomainState.SourceRef

    static func time(_ seconds: Int64) -> Timestamp { Timestamp(microsecondsSinceEpoch: seconds * 1_000_000 + 123) }

    static func exchange(_ seq: UInt64, _ id: String, platform: String = "linkedin", to: [String] = ["agent"]) -> Record
    {
        var r = Record(
            seq: seq, type: DomainEventType.exchangeRecorded, loggedAt: time(Int64(seq)), at: time(-86_400),
            procedure: "2026-042")
        r.channel = .linkedin
        r.kind = "message"
        r.visibility = .direct
        r.from = "contact-martin"
        r.to = to
        r.source = Source(platform: platform, id: id)
        r.parties = ["contact-martin"] + to
        return r
    }

    @Test("every field comes back as it went in, rare fields and long lists included")
    func roundTrip() throws {
        var records: [Record] = []
        var reply = Self.exchange(3, "réponse-é", to: ["c1", "c2"])
        reply.mentions = ["s2"]
        reply.parties = ["contact-martin", "c1", "c2", "s2"]
        reply.thread = "fil-1"
        reply.replyTo = Source(platform: "linkedin", id: "q-1")
        records.append(Self.exchange(1, "q-1"))
        records.append(reply)
        var phase = Record(
            seq: 4, type: DomainEventType.procedurePhaseChanged, loggedAt: Self.time(4), at: Self.time(5),
            procedure: "P")
        phase.phase = .awarded
        phase.parties = ["sup-voirie-sud"]
        records.append(phase)
        var disclosure = Record(
            seq: 5, type: DomainEventType.disclosurePublished, loggedAt: Self.time(5), at: Self.time(5), procedure: nil)
        disclosure.channel = .platform
        disclosure.disclosureKind = .answers
        disclosure.answers = [Source(platform: "linkedin", id: "q-1"), Source(platform: "email", id: "<m@x>")]
        records.append(disclosure)
        // An exchange whose parties are not its correspondents: kept as given.
        var odd = Self.exchange(6, "odd")
        odd.parties = ["someone-else"]
        records.append(odd)
        // More recipients than a row's 8-bit counts hold.
        records.append(Self.exchange(7, "many", to: (0..<300).map { "r\($0)" }))
        var empty = Record(seq: 9, type: "conflict.declared", loggedAt: Self.time(9), at: Self.time(9), procedure: "")
        empty.reason = ""
        records.append(empty)
        // Two of visibility, phase and disclosure kind: no row holds that, so it is kept whole.
        var mixed = Self.exchange(10, "mixed")
        mixed.phase = .evaluation
        records.append(mixed)
        records.append(Self.exchange(11, "after-mixed"))

        var table = RecordTable()
        for r in records { table.append(r) }
        #expect(table.count == records.count)
        #expect(Array(table) == records)
        #expect(table.index(ofSeq: 5) == 3 && table.index(ofSeq: 2) == nil && table.index(ofSeq: 12) == nil)
        #expect(table.exchangeIndex(Source(platform: "linkedin", id: "many")) == 5)
        #expect(table.exchangeIndex(Source(platform: "linkedin", id: "mixed")) == 7)

        // The snapshot form gives back the same table; every cut of it is refused, never trapping.
        var w = DomainSnapshot.Writer()
        table.encode(into: &w) { _ in }
        var r = DomainSnapshot.Reader(bytes: w.bytes, index: 0)
        let decoded = try RecordTable.decode(from: &r)
        #expect(decoded == table && r.index == w.bytes.count)
        #expect(decoded.exchangeIndex(Source(platform: "linkedin", id: "réponse-é")) == 1)
        for cut in stride(from: 0, to: w.bytes.count - 1, by: max(97, w.bytes.count / 300)) {
            var cutReader = DomainSnapshot.Reader(bytes: Array(w.bytes[..<cut]), index: 0)
            #expect(throws: (any Error).self) { try RecordTable.decode(from: &cutReader) }
        }
        // Damaged bytes either fail to decode or give a table that reads without trapping.
        for position in stride(from: 0, to: w.bytes.count, by: max(13, w.bytes.count / 400)) {
            var damaged = w.bytes
            damaged[position] ^= 0x5A
            var damagedReader = DomainSnapshot.Reader(bytes: damaged, index: 0)
            if let other = try? RecordTable.decode(from: &damagedReader) { _ = Array(other) }
        }
    }

    @Test("exchanges are found by platform and id, the last recorded winning; thousands of symbols")
    func exchangesBySource() {
        var table = RecordTable()
        for i in 0..<5_000 { table.append(Self.exchange(UInt64(i), "id-\(i)")) }
        table.append(Self.exchange(5_000, "id-17", platform: "x"))
        table.append(Self.exchange(5_001, "id-42"))
        #expect(table.exchangeIndex(Source(platform: "linkedin", id: "id-4999")) == 4_999)
        #expect(table.exchangeIndex(Source(platform: "linkedin", id: "id-17")) == 17)
        #expect(table.exchangeIndex(Source(platform: "x", id: "id-17")) == 5_000)
        #expect(table.exchangeIndex(Source(platform: "linkedin", id: "id-42")) == 5_001)
        #expect(table.exchangeIndex(Source(platform: "linkedin", id: "id-5000")) == nil)
        #expect(table.exchangeIndex(Source(platform: "mastodon", id: "id-1")) == nil)
        #expect(table[4_999] == Self.exchange(4_999, "id-4999"))
    }

    @Test("a party's records are selected without building the others")
    func names() {
        var table = RecordTable()
        table.append(Self.exchange(1, "a", to: ["agent"]))
        table.append(Self.exchange(2, "b", to: ["other"]))
        #expect(table.names(0) { $0 == "agent" } && !table.names(1) { $0 == "agent" })
        #expect(table.names(1) { $0 == "contact-martin" })
    }
}
