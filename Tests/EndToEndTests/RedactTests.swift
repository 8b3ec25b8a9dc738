import Foundation
import ProbityDomain
import ProbityLog
import ProbityStore
import Testing

@testable import ProbityFixtures

/// `probity redact`: the payload goes, every proof stays, and every view says so; legal holds protect.
@Suite("probity redact")
struct RedactTests {
    @Test("a redacted payload is gone; verify, replay, timeline and exports still pass and show the redaction")
    func redact() throws {
        let dir = try CLI.temporaryDirectory()
        let db = dir.appendingPathComponent("log.sqlite").path
        let created = try CLI.run(["init", "--db", db, "--origin", "test.example/probity", "--json"])
        let vkey = try #require(created.json["verifier_key"]?.stringValue)
        #expect(try CLI.run(["append", "--db", db, "--quiet", DomainTests.scenario.path]).status == 0)
        let proofBefore = try CLI.run(["prove", "inclusion", "--db", db, "21"]).stdout

        let redacted = try CLI.run([
            "redact", "--db", db, "21", "--legal-basis", "RGPD art. 17, conservation échue", "--requested-by", "DPO",
            "--json",
        ])
        #expect(redacted.status == 0, "\(redacted.stderr)")
        #expect(redacted.json["redaction"]?["seq"]?.uint64Value == 34)
        let reader = try LogReader.open(path: db)
        #expect(try reader.entry(seq: 21)?.payload == nil, "payload and salt deleted")
        let redaction = try JSONParser.parse(try #require(try reader.entry(seq: 34)).bytes)
        #expect(
            redaction["type"] == .string("redaction.applied") && redaction["data"]?["target_seq"]?.uint64Value == 21)

        let verified = try CLI.run(["verify", "--db", db, "--vkey", vkey, "--json"])
        #expect(
            verified.status == 0 && verified.json["redacted"]?.arrayValue?.first?["redaction_seq"]?.uint64Value == 34,
            "\(verified.stdout)")
        #expect(try CLI.run(["replay", "--db", db]).status == 0)
        // The entry's inclusion proof is what it was: its bytes did not change.
        let proofAfter = try CLI.run(["prove", "inclusion", "--db", db, "21", "--size", "34"]).stdout
        #expect(proofAfter == proofBefore)

        #expect(
            try CLI.run(["timeline", "--db", db, "--procedure", "2026-057"]).stdout.contains("[redacted, see #34]"))
        let jsonl = dir.appendingPathComponent("t.jsonl").path, csv = dir.appendingPathComponent("t.csv").path
        #expect(
            try CLI.run(["export", "timeline", "--db", db, "--procedure", "2026-057", "--format", "jsonl", "-o", jsonl])
                .status == 0)
        let line = try #require(
            try String(contentsOfFile: jsonl, encoding: .utf8).split(separator: "\n").first {
                $0.contains(#""seq":21}"#)
            })
        let exported = try JSONParser.parse(String(line))
        #expect(exported["redacted_by"]?.uint64Value == 34 && exported["payload"] == nil)
        #expect(
            try CLI.run(["export", "timeline", "--db", db, "--procedure", "2026-057", "--format", "csv", "-o", csv])
                .status == 0)
        #expect(try String(contentsOfFile: csv, encoding: .utf8).contains("\"[redacted, see seq 34]\""))
    }

    @Test("a legal hold protects its scope until released; bad requests change nothing")
    func holdsAndErrors() throws {
        let dir = try CLI.temporaryDirectory()
        let db = dir.appendingPathComponent("log.sqlite").path
        #expect(try CLI.run(["init", "--db", db, "--origin", "test.example/probity"]).status == 0)
        #expect(try CLI.run(["append", "--db", db, "--quiet", DomainTests.scenario.path]).status == 0)
        let hold =
            #"{"type":"legal_hold.placed","data":{"hold":"recours-voltaire","party":"sup-lumiere-sa","reason":"recours en référé"}}"#
        #expect(try CLI.run(["append", "--db", db, "--quiet", "-"], stdin: Array(hold.utf8)).status == 0)
        func redact(
            _ seq: String, _ extra: [String] = ["--legal-basis", "RGPD art. 17", "--requested-by", "DPO"]
        ) throws -> CLI.Result {
            try CLI.run(["redact", "--db", db, seq] + extra)
        }
        let held = try redact("22")  // the answer to Lumière's contact: covered by the hold on the organisation
        #expect(held.status == 2 && held.stderr.contains("under legal hold \"recours-voltaire\""), "\(held.stderr)")
        #expect(try redact("26").status == 0, "another candidate's message is not held")
        for (seq, extra, message) in [
            ("999", ["--legal-basis", "x", "--requested-by", "DPO"], "no entry 999"),
            ("26", ["--legal-basis", "x", "--requested-by", "DPO"], "already redacted (by seq"),
            ("17", ["--legal-basis", "x", "--requested-by", "DPO"], "has no payload"),
            ("12", ["--legal-basis", "x", "--requested-by", "dpo@metropole.fr"], "e-mail"),
            ("12", ["--requested-by", "DPO"], "--legal-basis"),
        ] {
            let result = try redact(seq, extra)
            #expect(result.status == 2 && result.stderr.contains(message), "\(seq) \(extra): \(result.stderr)")
        }
        let size = try LogReader.open(path: db).size()
        let release = #"{"type":"legal_hold.released","data":{"hold":"recours-voltaire","reason":"fin du recours"}}"#
        #expect(try CLI.run(["append", "--db", db, "--quiet", "-"], stdin: Array(release.utf8)).status == 0)
        #expect(try redact("22").status == 0)
        #expect(try LogReader.open(path: db).size() == size + 2)
        #expect(try CLI.run(["verify", "--db", db]).status == 0)
    }
}
