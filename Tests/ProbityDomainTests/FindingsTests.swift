import Foundation
import ProbityDomain
import ProbityLog
import Testing

@testable import ProbityFixtures

/// Builds a procurement history event by event, as the log would hold it: each event is validated
/// (schema and references) before it is applied to the projections.
struct History {
    var state = DomainState()
    var ledger = ReferenceLedger()
    var sources = Set<SourceKey>()
    var seq: UInt64 = 0

    /// A buyer, its agent, an official, three suppliers with one contact each, and open tender P
    /// (published 2 March 2026, tenders due 7 April 2026 12:00 UTC) in consultation with the three candidates.
    static func openTender(urgency: Bool = false, sourcing: String? = nil) throws -> History {
        var h = History()
        try h.add("party.registered", #"{"party":"buyer","role":"buyer_org"}"#)
        try h.add("party.registered", #"{"party":"agent","role":"buyer_agent","org":"buyer"}"#)
        try h.add("party.registered", #"{"party":"official","role":"official","org":"buyer"}"#)
        for i in 1...3 {
            try h.add("party.registered", #"{"party":"s\#(i)","role":"supplier_org"}"#)
            try h.add("party.registered", #"{"party":"c\#(i)","role":"supplier_contact","org":"s\#(i)"}"#)
        }
        if let sourcing {
            try h.add(
                "procedure.opened",
                #"{"procedure":"\#(sourcing)","kind":"sourcing","buyer":"buyer","published_at":"2026-01-10T09:00:00Z"}"#
            )
            try h.add(
                "procedure.phase_changed",
                #"{"procedure":"\#(sourcing)","phase":"sourcing","effective_at":"2026-01-10T09:00:00Z"}"#)
        }
        try h.add(
            "procedure.opened",
            #"{"procedure":"P","kind":"open_tender","buyer":"buyer","published_at":"2026-03-02T09:00:00Z","tender_deadline":"2026-04-07T12:00:00Z","urgency":\#(urgency)\#(sourcing.map { #","sourcing":"\#($0)""# } ?? "")}"#
        )
        try h.add(
            "procedure.phase_changed",
            #"{"procedure":"P","phase":"consultation","effective_at":"2026-03-02T09:00:00Z"}"#)
        for i in 1...3 {
            try h.add(
                "procedure.candidate_joined", #"{"procedure":"P","party":"s\#(i)","joined_at":"2026-03-03T10:00:00Z"}"#)
        }
        return h
    }

    @discardableResult
    mutating func add(_ type: String, _ data: String) throws -> UInt64 {
        let event = try EventInput(json: JSONParser.parse(#"{"type":"\#(type)","data":\#(data)}"#))
        try ledger.check(event) { sources.contains($0) }
        ledger.record(event)
        if let source = event.source { sources.insert(source) }
        seq += 1
        state.apply(
            seq: seq, type: type, time: Timestamp(rfc3339: "2026-11-30T00:00:00Z")!, data: EventFields(event.data))
        return seq
    }

    /// An exchange `from` → `to` at `at`, with source id `id` (platform = channel).
    @discardableResult
    mutating func exchange(
        _ id: String, from: String, to: String, at: String, channel: String = "linkedin", kind: String = "message",
        visibility: String = "direct", procedure: String? = "P", replyTo: String? = nil, mentions: String? = nil
    ) throws -> UInt64 {
        var members = [
            #""channel":"\#(channel)","kind":"\#(kind)","visibility":"\#(visibility)","from":"\#(from)","to":["\#(to)"]"#,
            #""source":{"platform":"\#(channel)","id":"\#(id)"}"#, #""occurred_at":"\#(at)""#,
        ]
        if let procedure { members.append(#""procedure":"\#(procedure)""#) }
        if let replyTo { members.append(#""reply_to":{"platform":"\#(channel)","id":"\#(replyTo)"}"#) }
        if let mentions { members.append(#""mentions":["\#(mentions)"]"#) }
        return try add("exchange.recorded", "{" + members.joined(separator: ",") + "}")
    }

    @discardableResult
    mutating func disclose(answering ids: [(String, String)], at: String, kind: String = "answers") throws -> UInt64 {
        let answers = ids.map { #"{"platform":"\#($0.0)","id":"\#($0.1)"}"# }.joined(separator: ",")
        return try add(
            "disclosure.published",
            #"{"procedure":"P","kind":"\#(kind)","answers":[\#(answers)],"channel":"platform","published_at":"\#(at)"}"#
        )
    }

    func findings(_ rule: Finding.Rule) -> [Finding] { FindingRules.evaluate(state).filter { $0.rule == rule } }
}

@Suite("probity findings: each rule's trigger and near miss")
struct FindingsTests {
    @Test("R1: a private answer never disclosed is flagged; disclosed in time, or answered in public, it is not")
    func privateAnswer() throws {
        var h = try History.openTender()
        let q = try h.exchange("q1", from: "c1", to: "agent", at: "2026-03-10T08:00:00Z", channel: "x")
        let a = try h.exchange(
            "a1", from: "agent", to: "c1", at: "2026-03-10T09:00:00Z", channel: "x", kind: "reply", replyTo: "q1")
        let found = h.findings(.privateAnswer)
        #expect(found.count == 1 && found.first?.seqs == [q, a] && found.first?.facts["candidate"] == .text("s1"))
        #expect(found.first.map { FindingText.explanation($0, .fr, time: .utc) }?.contains("2026-03-10 09:00") == true)

        var disclosed = h
        try disclosed.disclose(answering: [("x", "q1")], at: "2026-03-20T10:00:00Z")
        #expect(disclosed.findings(.privateAnswer).isEmpty, "disclosed to all 18 days before the deadline")
        #expect(disclosed.findings(.lateInformation).isEmpty)

        var afterDeadline = h
        try afterDeadline.disclose(answering: [("x", "a1")], at: "2026-04-08T10:00:00Z")
        #expect(
            afterDeadline.findings(.privateAnswer).count == 1,
            "a disclosure after the deadline is no disclosure to candidates")

        var publicAnswer = try History.openTender()
        try publicAnswer.exchange("q1", from: "c1", to: "agent", at: "2026-03-10T08:00:00Z", channel: "x")
        try publicAnswer.exchange(
            "a1", from: "agent", to: "c1", at: "2026-03-10T09:00:00Z", channel: "x", kind: "reply",
            visibility: "public", replyTo: "q1")
        #expect(publicAnswer.findings(.privateAnswer).isEmpty)
    }

    @Test(
        "R2: a disclosure 3 days before the deadline is late; 13 days is not, nor is a late one whose deadline was extended"
    )
    func lateInformation() throws {
        var h = try History.openTender()
        try h.exchange("q1", from: "c1", to: "agent", at: "2026-03-10T08:00:00Z", channel: "x")
        var late = h
        let d = try late.disclose(answering: [("x", "q1")], at: "2026-04-04T12:00:00Z")
        let found = late.findings(.lateInformation)
        #expect(
            found.count == 1 && found.first?.seqs.contains(d) == true && found.first?.facts["margin_days"] == .number(3)
        )

        var inTime = h
        try inTime.disclose(answering: [("x", "q1")], at: "2026-03-25T12:00:00Z")
        #expect(inTime.findings(.lateInformation).isEmpty)

        var extended = late
        try extended.add(
            "procedure.updated",
            #"{"procedure":"P","tender_deadline":"2026-04-14T12:00:00Z","reason":"deadline_extension"}"#)
        #expect(extended.findings(.lateInformation).isEmpty, "the deadline was moved to 10 days after the disclosure")

        var urgent = try History.openTender(urgency: true)
        try urgent.exchange("q1", from: "c1", to: "agent", at: "2026-03-10T08:00:00Z", channel: "x")
        try urgent.disclose(answering: [("x", "q1")], at: "2026-04-02T12:00:00Z")
        #expect(urgent.findings(.lateInformation).isEmpty, "5 days is enough when the procedure is urgent (4)")
    }

    @Test(
        "R3: a direct message to a candidate during the standstill is flagged; on the platform, or before evaluation, it is not"
    )
    func silencePeriod() throws {
        var h = try History.openTender()
        try h.add(
            "procedure.phase_changed", #"{"procedure":"P","phase":"evaluation","effective_at":"2026-04-07T12:00:00Z"}"#)
        try h.add(
            "procedure.phase_changed", #"{"procedure":"P","phase":"standstill","effective_at":"2026-04-20T09:00:00Z"}"#)
        var dm = h
        let m = try dm.exchange("m1", from: "agent", to: "c2", at: "2026-04-23T18:00:00Z", procedure: nil)
        let found = dm.findings(.silencePeriodContact)
        #expect(
            found.count == 1 && found.first?.seqs == [m] && found.first?.facts["phase"] == .text("standstill")
                && found.first?.facts["candidate"] == .text("s2"))

        var platform = h
        try platform.exchange("m1", from: "agent", to: "c2", at: "2026-04-10T10:00:00Z", channel: "platform")
        #expect(platform.findings(.silencePeriodContact).isEmpty, "a request through the platform is traceable")

        var before = h
        try before.exchange("m1", from: "agent", to: "c2", at: "2026-04-01T10:00:00Z")
        #expect(before.findings(.silencePeriodContact).isEmpty)

        var afterAward = h
        try afterAward.add(
            "procedure.phase_changed",
            #"{"procedure":"P","phase":"awarded","awardee":"s2","effective_at":"2026-05-04T09:00:00Z"}"#)
        try afterAward.exchange("m1", from: "agent", to: "c2", at: "2026-05-05T10:00:00Z")
        #expect(afterAward.findings(.silencePeriodContact).isEmpty)
    }

    @Test(
        "R4: a candidate's undisclosed sourcing exchanges are flagged; a sourcing report, or a sole candidate, is not")
    func undisclosedSourcing() throws {
        var h = try History.openTender(sourcing: "SRC")
        let s = try h.exchange("s1", from: "agent", to: "c1", at: "2026-01-14T10:00:00Z", procedure: "SRC")
        let found = h.findings(.undisclosedSourcing)
        #expect(found.count == 1 && found.first?.seqs == [s] && found.first?.facts["candidate"] == .text("s1"))

        var reported = h
        try reported.add(
            "disclosure.published",
            #"{"procedure":"P","kind":"sourcing_report","channel":"platform","published_at":"2026-03-02T09:00:00Z"}"#)
        #expect(reported.findings(.undisclosedSourcing).isEmpty)

        var answered = h
        try answered.disclose(answering: [("linkedin", "s1")], at: "2026-03-05T09:00:00Z")
        #expect(answered.findings(.undisclosedSourcing).isEmpty, "the sourcing exchange itself was disclosed")

        var alone = History()
        for (id, role) in [("buyer", "buyer_org"), ("agent", "buyer_agent"), ("s1", "supplier_org")] {
            try alone.add("party.registered", #"{"party":"\#(id)","role":"\#(role)"}"#)
        }
        try alone.add("procedure.opened", #"{"procedure":"SRC","kind":"sourcing","buyer":"buyer"}"#)
        try alone.add(
            "procedure.opened",
            #"{"procedure":"P","kind":"negotiated","buyer":"buyer","sourcing":"SRC","tender_deadline":"2026-04-07T12:00:00Z"}"#
        )
        try alone.add("procedure.candidate_joined", #"{"procedure":"P","party":"s1"}"#)
        try alone.exchange("s1", from: "agent", to: "s1", at: "2026-01-14T10:00:00Z", procedure: "SRC")
        #expect(alone.findings(.undisclosedSourcing).isEmpty, "no other candidate was disadvantaged")
    }

    @Test("R5: one candidate in private messages while another uses only the platform; symmetric use is not flagged")
    func channelAsymmetry() throws {
        var h = try History.openTender()
        let q = try h.exchange("q1", from: "c1", to: "agent", at: "2026-03-10T08:00:00Z")
        let a = try h.exchange("a1", from: "agent", to: "c1", at: "2026-03-10T09:00:00Z", kind: "reply", replyTo: "q1")
        try h.exchange("p1", from: "c2", to: "agent", at: "2026-03-11T08:00:00Z", channel: "platform")
        let found = h.findings(.channelAsymmetry)
        #expect(found.count == 1 && found.first?.seqs == [q, a] && found.first?.facts["others"] == .text("s2"))

        var symmetric = h
        try symmetric.exchange("p2", from: "c2", to: "agent", at: "2026-03-12T08:00:00Z", channel: "email")
        #expect(symmetric.findings(.channelAsymmetry).isEmpty, "both candidates used private channels")

        var single = try History.openTender()
        try single.exchange("q1", from: "c1", to: "agent", at: "2026-03-10T08:00:00Z")
        try single.exchange("p1", from: "c2", to: "agent", at: "2026-03-11T08:00:00Z", channel: "platform")
        #expect(single.findings(.channelAsymmetry).isEmpty, "one private message is not a pattern")
    }

    @Test(
        "R6: an official's public post naming a candidate during the procedure is flagged; after the award, or naming no candidate, it is not"
    )
    func publicPost() throws {
        var h = try History.openTender()
        var post = h
        let p = try post.exchange(
            "post1", from: "official", to: "buyer", at: "2026-03-18T19:00:00Z", kind: "post", visibility: "public",
            procedure: nil, mentions: "s3")
        let found = post.findings(.publicPostAboutCandidate)
        #expect(found.count == 1 && found.first?.seqs == [p] && found.first?.facts["candidate"] == .text("s3"))

        var noCandidate = h
        try noCandidate.exchange(
            "post1", from: "official", to: "buyer", at: "2026-03-18T19:00:00Z", kind: "post", visibility: "public",
            procedure: nil)
        #expect(noCandidate.findings(.publicPostAboutCandidate).isEmpty)

        try h.add(
            "procedure.phase_changed",
            #"{"procedure":"P","phase":"awarded","awardee":"s3","effective_at":"2026-05-04T09:00:00Z"}"#)
        try h.exchange(
            "post1", from: "official", to: "buyer", at: "2026-05-05T19:00:00Z", kind: "post", visibility: "public",
            procedure: nil, mentions: "s3")
        #expect(h.findings(.publicPostAboutCandidate).isEmpty, "the award is public by then")
    }

    @Test("disclosure coverage tells answered, disclosed, late and undisclosed questions apart")
    func coverage() throws {
        var h = try History.openTender()
        try h.exchange("q1", from: "c1", to: "agent", at: "2026-03-10T08:00:00Z")
        try h.exchange("a1", from: "agent", to: "c1", at: "2026-03-10T09:00:00Z", kind: "reply", replyTo: "q1")
        try h.exchange("q2", from: "c2", to: "agent", at: "2026-03-11T08:00:00Z")
        try h.exchange("a2", from: "agent", to: "c2", at: "2026-03-11T09:00:00Z", kind: "reply", replyTo: "q2")
        try h.disclose(answering: [("linkedin", "a2")], at: "2026-03-12T09:00:00Z")
        try h.exchange("q3", from: "c3", to: "agent", at: "2026-03-12T08:00:00Z")
        try h.exchange("q4", from: "c3", to: "agent", at: "2026-03-13T08:00:00Z")
        try h.exchange("a4", from: "agent", to: "c3", at: "2026-03-13T09:00:00Z", kind: "reply", replyTo: "q4")
        try h.disclose(answering: [("linkedin", "q4")], at: "2026-04-10T09:00:00Z")
        let coverage = QuestionCoverage.of(h.state.procedures["P"]!, in: h.state)
        #expect(coverage.map(\.status) == [.undisclosed, .disclosed, .unanswered, .disclosedLate])
        #expect(coverage[0].answers.map(\.to) == [["c1"]])
        // Pages of it, as probityd sends them: after a question's seq, at most `limit`, and whether more follow.
        let procedure = h.state.procedures["P"]!
        let first = QuestionCoverage.page(procedure, in: h.state, after: nil, limit: 3)
        #expect(first.coverage == Array(coverage.prefix(3)) && first.more)
        let rest = QuestionCoverage.page(procedure, in: h.state, after: first.coverage.last?.question.seq, limit: 3)
        #expect(rest.coverage == Array(coverage.dropFirst(3)) && !rest.more)
        let records = h.state.records(of: procedure)
        #expect(records.index(after: nil) == 0 && records.index(after: records.seq(at: 2)) == 3)
        #expect(records.index(after: records.seq(at: records.count - 1)) == records.count)
    }

    @Test("a snapshot decodes to the state it was made of; a cut or foreign one is refused")
    func snapshotRoundTrip() throws {
        var h = try History.openTender(sourcing: "SRC")
        try h.exchange("q1", from: "c1", to: "agent", at: "2026-03-10T08:00:00Z", mentions: "s2")
        try h.exchange("a1", from: "agent", to: "c1", at: "2026-03-10T09:00:00Z", kind: "reply", replyTo: "q1")
        try h.disclose(answering: [("linkedin", "q1")], at: "2026-04-04T12:00:00Z")
        try h.add(
            "procedure.updated",
            #"{"procedure":"P","tender_deadline":"2026-04-14T12:00:00Z","reason":"deadline_extension"}"#)
        try h.add(
            "procedure.phase_changed",
            #"{"procedure":"P","phase":"awarded","awardee":"s2","effective_at":"2026-05-04T09:00:00Z"}"#)
        let bytes = DomainSnapshot.encode(h.state)
        let snapshot = try #require(DomainSnapshot.decode(bytes))
        #expect(snapshot == h.state)
        #expect(
            DomainSnapshot.decode(Array(bytes.dropLast())) == nil
                && DomainSnapshot.decode(Array("not a snapshot".utf8)) == nil)
        #expect(FindingRules.evaluate(snapshot) == FindingRules.evaluate(h.state))
        // In pieces (as the store keeps it), read one piece at a time: the same state; a piece missing or
        // an extra one is refused.
        var pieces: [[UInt8]] = []
        DomainSnapshot.encode(h.state, chunkSize: 40) { pieces.append($0) }
        #expect(pieces.count > 3 && Array(pieces.joined()) == bytes)
        func decode(_ given: [[UInt8]]) -> DomainState? {
            var rest = given[...]
            return DomainSnapshot.decode { rest.popFirst() }
        }
        #expect(decode(pieces) == h.state)
        #expect(decode(pieces.enumerated().filter { $0.offset != 2 }.map(\.element)) == nil)
        #expect(decode(pieces + [Array("more".utf8)]) == nil)
    }
}
