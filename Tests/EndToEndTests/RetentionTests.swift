import Foundation
import ProbityDomain
import ProbityLog
import Testing

@testable import ProbityFixtures

/// `probity retention plan` on the scenario: signature dates from the award, sourcing documents following
/// the procedure opened from them, works contracts kept longer, legal holds, and nothing ever deleted.
@Suite("probity retention plan")
struct RetentionTests {
    func plan(_ db: String, _ extra: [String] = []) throws -> [UInt64: JSONValue] {
        let result = try CLI.run(["retention", "plan", "--db", db, "--json"] + extra)
        #expect(result.status == 0, "\(result.stderr)")
        return Dictionary(
            uniqueKeysWithValues: (result.json["items"]?.arrayValue ?? []).map { ($0["seq"]!.uint64Value!, $0) })
    }

    @Test("Due, kept, held and undetermined payloads, with the configured periods; nothing is deleted")
    func plans() throws {
        let dir = try CLI.temporaryDirectory()
        let db = dir.appendingPathComponent("log.sqlite").path
        #expect(try CLI.run(["init", "--db", db, "--origin", "test.example/probity"]).status == 0)
        #expect(try CLI.run(["append", "--db", db, "--quiet", DomainTests.scenario.path]).status == 0)
        // A works contract awarded the same day as 2026-057.
        let works = [
            #"{"type":"procedure.opened","data":{"procedure":"2026-090","kind":"open_tender","buyer":"org-metropole","contract_type":"works","published_at":"2026-02-01T09:00:00+01:00","tender_deadline":"2026-03-01T12:00:00+01:00"},"payload":{"title":"Voirie"}}"#,
            #"{"type":"exchange.recorded","data":{"procedure":"2026-090","channel":"email","kind":"message","visibility":"direct","from":"contact-roux","to":["agent-lefevre"],"source":{"platform":"email","id":"works-1"},"occurred_at":"2026-02-10T10:00:00Z"},"payload":{"text":"Question sur le lot voirie"}}"#,
            #"{"type":"procedure.phase_changed","data":{"procedure":"2026-090","phase":"awarded","awardee":"sup-voltaire","effective_at":"2026-05-04T09:00:00+02:00"}}"#,
        ]
        #expect(
            try CLI.run(["append", "--db", db, "--quiet", "-"], stdin: Array(works.joined(separator: "\n").utf8)).status
                == 0)

        let now = try plan(db, ["--as-of", "2026-12-01T00:00:00Z"])
        #expect(now.values.allSatisfy { $0["status"]?.stringValue != "due" })
        #expect(
            now[22]?["status"] == .string("kept")
                && now[22]?["until"]?.stringValue?.hasPrefix("2031-05-04T07:00:00") == true)
        #expect(now[12]?["until"] == now[22]?["until"], "sourcing documents follow the procedure opened from them")
        #expect(now[35]?["until"]?.stringValue?.hasPrefix("2036-05-04") == true, "works: 10 years")
        #expect(
            now[1]?["status"] == .string("undetermined")
                && now[1]?["reason"]?.stringValue?.contains("not tied to a procedure") == true)
        #expect(now[36] == nil, "no payload, not listed")

        let later = try plan(db, ["--as-of", "2032-01-01T00:00:00Z"])
        #expect(
            later[22]?["status"] == .string("due") && later[12]?["status"] == .string("due")
                && later[35]?["status"] == .string("kept"))
        let shorter = try plan(db, ["--as-of", "2032-01-01T00:00:00Z", "--works-years", "5"])
        #expect(shorter[35]?["status"] == .string("due"))

        let hold =
            #"{"type":"legal_hold.placed","data":{"hold":"contentieux-057","procedure":"2026-057","reason":"recours au fond"}}"#
        #expect(try CLI.run(["append", "--db", db, "--quiet", "-"], stdin: Array(hold.utf8)).status == 0)
        let held = try plan(db, ["--as-of", "2032-01-01T00:00:00Z"])
        #expect(
            held[22]?["status"] == .string("held") && held[22]?["hold"] == .string("contentieux-057")
                && held[12]?["status"] == .string("due"))
        let text = try CLI.run(["retention", "plan", "--db", db, "--as-of", "2032-01-01T00:00:00Z"])
        #expect(
            text.stdout.contains("nothing was deleted") && text.stdout.contains("under legal hold")
                && text.stdout.contains("to erase one: probity redact"))

        // Read-only: every payload is still there.
        let verified = try CLI.run(["verify", "--db", db, "--json"])
        #expect(verified.status == 0 && verified.json["redacted"] == .array([]))
        for bad in [["--as-of", "yesterday"], ["--years", "0"]] {
            let result = try CLI.run(["retention", "plan", "--db", db] + bad)
            #expect(result.status == 2, "\(bad): \(result.stderr)")
        }
    }
}
