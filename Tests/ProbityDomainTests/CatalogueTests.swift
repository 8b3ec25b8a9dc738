import Foundation
import ProbityDomain
import ProbityLog
import Testing

@testable import ProbityFixtures

@Suite("the event catalogue: schemas and references")
struct CatalogueTests {
    static func parse(_ json: String) throws(EventInputError) -> EventInput {
        let value: JSONValue
        do { value = try JSONParser.parse(json) } catch {
            throw EventInputError(field: nil, "test input is not JSON: \(error)")
        }
        return try EventInput(json: value)
    }

    static let exchange =
        #""channel":"x","kind":"message","visibility":"direct","from":"a","to":["b"],"occurred_at":"2026-03-10T08:00:00Z""#

    @Test(
        "malformed data is refused naming the field and why",
        arguments: [
            (#"{"type":"party.registered","data":{"role":"buyer_org"}}"#, "data.party", "missing"),
            (#"{"type":"party.registered","data":{"party":"x","role":"chief"}}"#, "data.role", "not one of"),
            (
                #"{"type":"party.registered","data":{"party":"x","role":"supplier_org","siret":"1234"}}"#, "data.siret",
                "14 digits"
            ),
            (
                #"{"type":"party.registered","data":{"party":"x","role":"supplier_org","name":"Jean Martin"}}"#,
                "data.name", "payload"
            ),
            (
                #"{"type":"party.registered","data":{"party":"jean martin","role":"supplier_org"}}"#, "data.party",
                "identifier"
            ),
            (
                #"{"type":"party.registered","data":{"party":"x","role":"buyer_org","time_zone":"Mars/Olympus"}}"#,
                "data.time_zone", "IANA"
            ),
            (
                #"{"type":"procedure.opened","data":{"procedure":"P","kind":"open_tender","buyer":"b"}}"#,
                "data.tender_deadline", "missing"
            ),
            (
                #"{"type":"procedure.opened","data":{"procedure":"P","kind":"auction","buyer":"b","tender_deadline":"2026-04-07T12:00:00Z"}}"#,
                "data.kind", "not one of"
            ),
            (
                #"{"type":"procedure.opened","data":{"procedure":"P","kind":"open_tender","buyer":"b","tender_deadline":"7 avril 2026"}}"#,
                "data.tender_deadline", "RFC 3339"
            ),
            (
                #"{"type":"procedure.opened","data":{"procedure":"P","kind":"open_tender","buyer":"b","published_at":"2026-05-01T00:00:00Z","tender_deadline":"2026-04-07T12:00:00Z"}}"#,
                "data.tender_deadline", "before published_at"
            ),
            (
                #"{"type":"procedure.opened","data":{"procedure":"P","kind":"open_tender","buyer":"b","tender_deadline":"2026-04-07T12:00:00Z","urgency":"yes"}}"#,
                "data.urgency", "true or false"
            ),
            (
                #"{"type":"procedure.updated","data":{"procedure":"P","reason":"deadline_extension"}}"#, "data",
                "no changed date"
            ),
            (
                #"{"type":"procedure.phase_changed","data":{"procedure":"P","phase":"awarded"}}"#, "data.awardee",
                "missing"
            ),
            (
                #"{"type":"exchange.recorded","data":{"channel":"x","kind":"message","visibility":"direct","from":"a","to":["b"]}}"#,
                "data.occurred_at", "missing"
            ),
            (
                #"{"type":"exchange.recorded","data":{"channel":"telegram","kind":"message","visibility":"direct","from":"a","occurred_at":"2026-03-10T08:00:00Z"}}"#,
                "data.channel", "not one of"
            ),
            (
                #"{"type":"exchange.recorded","data":{"channel":"x","kind":"message","visibility":"secret","from":"a","occurred_at":"2026-03-10T08:00:00Z"}}"#,
                "data.visibility", "not one of"
            ),
            (
                #"{"type":"exchange.recorded","data":{\#(exchange),"captured_at":"2026-03-09T08:00:00Z"}}"#,
                "data.captured_at", "before occurred_at"
            ),
            (#"{"type":"exchange.recorded","data":{\#(exchange),"text":"Bonjour"}}"#, "data.text", "payload"),
            (
                #"{"type":"exchange.recorded","data":{"channel":"x","kind":"message","visibility":"direct","from":"a","to":["b","b"],"occurred_at":"2026-03-10T08:00:00Z"}}"#,
                "data.to", "twice"
            ),
            (
                #"{"type":"exchange.recorded","data":{\#(exchange),"attachments":[{"sha256":"00","size":1,"media_type":"application/pdf"}]}}"#,
                "data.attachments[0].sha256", "64"
            ),
            (
                #"{"type":"exchange.recorded","data":{\#(exchange),"attachments":[{"sha256":"\#(String(repeating: "a", count: 64))","size":1,"media_type":"application/pdf","name":"offre.pdf"}]}}"#,
                "data.attachments[0].name", "personal"
            ),
            (
                #"{"type":"disclosure.published","data":{"procedure":"P","channel":"platform","published_at":"2026-03-20T10:00:00Z"}}"#,
                "data.answers", "missing"
            ),
            (#"{"type":"legal_hold.placed","data":{"hold":"h1","reason":"contentieux"}}"#, "data", "scope"),
            (#"{"type":"x-note","data":{"contact":{"email":"jean@exemple.fr"}}}"#, "data.contact.email", "personal"),
            (#"{"type":"x-note","data":{"ref":"jean@exemple.fr"}}"#, "data.ref", "e-mail"),
            (
                #"{"type":"procedure.phase_changed","data":{"procedure":"P","phase":"consultation"},"payload":{"note":"x"}}"#,
                "payload", "carries no payload"
            ),
        ])
    func refused(_ json: String, _ field: String, _ reason: String) throws {
        #expect { try Self.parse(json) } throws: { error in
            guard let error = error as? EventInputError else { return false }
            #expect(error.field == field, "\(error)")
            #expect(error.message.contains(reason), "\(error)")
            return true
        }
    }

    @Test("references must name what the log holds, with the right roles")
    func references() throws {
        var ledger = ReferenceLedger()
        func check(_ json: String) throws(EventInputError) {
            try ledger.check(try Self.parse(json)) { $0.id == "known" }
        }
        func record(_ json: String) throws {
            let event = try Self.parse(json); try ledger.check(event) { _ in true }; ledger.record(event)
        }

        try record(#"{"type":"party.registered","data":{"party":"buyer","role":"buyer_org"}}"#)
        try record(#"{"type":"party.registered","data":{"party":"s1","role":"supplier_org"}}"#)
        let cases: [(String, String, String)] = [
            (
                #"{"type":"party.registered","data":{"party":"s1","role":"supplier_org"}}"#, "data.party",
                "already registered"
            ),
            (
                #"{"type":"party.registered","data":{"party":"c1","role":"supplier_contact","org":"nobody"}}"#,
                "data.org", "not registered"
            ),
            (
                #"{"type":"procedure.opened","data":{"procedure":"P","kind":"open_tender","buyer":"s1","tender_deadline":"2026-04-07T12:00:00Z"}}"#,
                "data.buyer", "expected buyer_org or buyer_agent"
            ),
            (
                #"{"type":"procedure.candidate_joined","data":{"procedure":"P","party":"s1"}}"#, "data.procedure",
                "not in the log"
            ),
            (
                #"{"type":"exchange.recorded","data":{"channel":"x","kind":"message","visibility":"direct","from":"s1","to":["ghost"],"occurred_at":"2026-03-10T08:00:00Z"}}"#,
                "data.to[0]", "not registered"
            ),
            (
                #"{"type":"exchange.edited_at_source","data":{"source":{"platform":"x","id":"unknown"},"observed_at":"2026-03-10T08:00:00Z"}}"#,
                "data.source", "no exchange"
            ),
            (
                #"{"type":"legal_hold.released","data":{"hold":"h9","reason":"fin du contentieux"}}"#, "data.hold",
                "no legal hold"
            ),
        ]
        for (json, field, reason) in cases {
            #expect { try check(json) } throws: { error in
                guard let error = error as? EventInputError else { return false }
                return error.field == field && error.message.contains(reason)
            }
        }
        try record(
            #"{"type":"procedure.opened","data":{"procedure":"P","kind":"open_tender","buyer":"buyer","tender_deadline":"2026-04-07T12:00:00Z"}}"#
        )
        try check(#"{"type":"procedure.candidate_joined","data":{"procedure":"P","party":"s1"}}"#)
        try check(
            #"{"type":"exchange.edited_at_source","data":{"source":{"platform":"x","id":"known"},"observed_at":"2026-03-10T08:00:00Z"}}"#
        )
        try record(#"{"type":"legal_hold.placed","data":{"hold":"h1","procedure":"P","reason":"recours"}}"#)
        try record(#"{"type":"legal_hold.released","data":{"hold":"h1","reason":"fin du recours"}}"#)
        #expect(throws: EventInputError.self) {
            try check(#"{"type":"legal_hold.released","data":{"hold":"h1","reason":"encore"}}"#)
        }
        // Within one submission, what an earlier event introduced counts before what the ledger knows.
        try record(#"{"type":"legal_hold.placed","data":{"hold":"h2","procedure":"P","reason":"recours"}}"#)
        let release = try Self.parse(#"{"type":"legal_hold.released","data":{"hold":"h2","reason":"fin"}}"#)
        #expect(throws: EventInputError.self) {
            try ledger.check(
                release, sourceExists: { _ in false },
                pending: { kind, id in kind == .hold && id == "h2" ? "released" : nil })
        }
        // Extension types make no checked references.
        try check(#"{"type":"x-note","data":{"party":"ghost"}}"#)
    }

    @Test("the example conversation and scenario are valid events")
    func examplesAreValid() throws {
        for file in ["examples/conversation.jsonl", "examples/scenario.jsonl"] {
            let text = try String(
                contentsOfFile: "\(#filePath.split(separator: "/").dropLast(3).map { "/\($0)" }.joined())/\(file)",
                encoding: .utf8)
            var ledger = ReferenceLedger(), sources = Set<SourceKey>()
            for line in text.split(separator: "\n") {
                let event = try Self.parse(String(line))
                try ledger.check(event) { sources.contains($0) }
                ledger.record(event)
                if let source = event.source { sources.insert(source) }
            }
        }
    }
}
