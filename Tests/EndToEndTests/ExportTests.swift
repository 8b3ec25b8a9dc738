import Foundation
import ProbityDomain
import ProbityEvidence
import ProbityLog
import ProbityStore
import Testing

@testable import ProbityFixtures

/// `probity export timeline` as a legal team runs it, each format checked by a reader we did not write
/// where there is one (Python's csv module), and by the log itself (JSONL lines hash to their leaf hashes).
@Suite("probity export timeline")
struct ExportTests {
    /// The scenario, plus exchanges whose texts try formula injection and HTML injection.
    func store() throws -> (URL, String) {
        let dir = try CLI.temporaryDirectory()
        let db = dir.appendingPathComponent("log.sqlite").path
        #expect(try CLI.run(["init", "--db", db, "--origin", "test.example/probity"]).status == 0)
        #expect(try CLI.run(["append", "--db", db, "--quiet", DomainTests.scenario.path]).status == 0)
        let hostile = [
            "=HYPERLINK(\"http://evil.example\",\"clic\")", "+33 6 12 34 56 78", "-2+3", "@SUM(A1:A9)", "\tTab",
            "<script>alert('x')</script> & \"merci\"",
        ]
        let lines = hostile.enumerated().map { i, text in
            CanonicalJSON.encodeString(
                .object([
                    "type": .string("exchange.recorded"),
                    "data": .object([
                        "procedure": .string("2026-057"), "channel": .string("email"), "kind": .string("message"),
                        "visibility": .string("direct"),
                        "from": .string("contact-roux"), "to": .array([.string("agent-lefevre")]),
                        "occurred_at": .string("2026-03-2\(i)T10:00:00Z"),
                        "source": .object(["platform": .string("email"), "id": .string("hostile-\(i)")]),
                    ]),
                    "payload": .object(["text": .string(text)]),
                ]))
        }
        let appended = try CLI.run(
            ["append", "--db", db, "--quiet", "-"], stdin: Array(lines.joined(separator: "\n").utf8))
        #expect(appended.status == 0, "\(appended.stderr)")
        return (dir, db)
    }

    @Test(
        "CSV: BOM, readable columns, times in the buyer's zone, formula cells neutralised (read back with Python's csv)"
    )
    func csv() throws {
        let (dir, db) = try store()
        let path = dir.appendingPathComponent("2026-057.csv").path
        let exported = try CLI.run([
            "export", "timeline", "--db", db, "--procedure", "2026-057", "--format", "csv", "-o", path,
        ])
        #expect(exported.status == 0 && exported.stderr.contains("exported 23 events"), "\(exported.stderr)")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(bytes.starts(with: [0xEF, 0xBB, 0xBF]))
        let script = """
            import csv, json, sys
            with open(sys.argv[1], newline="", encoding="utf-8-sig") as f:
                rows = list(csv.reader(f))
            print(json.dumps({"header": rows[0], "rows": rows[1:]}))
            """
        let python = try CLI.run(["python3", "-c", script, path], executable: "/usr/bin/env")
        #expect(python.status == 0, "\(python.stderr)")
        let table = python.json
        #expect(
            table["header"]?.arrayValue?.compactMap(\.stringValue) == [
                "time", "procedure", "event", "channel", "visibility", "from", "to", "text", "seq", "leaf hash",
            ])
        let rows = table["rows"]?.arrayValue?.map { $0.arrayValue?.compactMap(\.stringValue) ?? [] } ?? []
        #expect(rows.count == 23 && rows.allSatisfy { $0.count == 10 })
        let texts = rows.map { $0[7] }
        for neutralised in [
            "'=HYPERLINK(\"http://evil.example\",\"clic\")", "'+33 6 12 34 56 78", "'-2+3", "'@SUM(A1:A9)", "'\tTab",
        ] {
            #expect(texts.contains(neutralised), "\(neutralised) not neutralised")
        }
        #expect(
            texts.contains(
                "Seulement sur les voies résidentielles ; les axes principaux restent en abaissement horaire."))
        #expect(rows.first { $0[8] == "22" }?[0].hasPrefix("2026-03-10 15:40") == true, "Europe/Paris time")
        #expect(rows.allSatisfy { $0[9].count == 64 })
    }

    @Test("JSONL: each line carries its entry verbatim, which hashes to its leaf hash, and the decoded payload")
    func jsonl() throws {
        let (dir, db) = try store()
        let path = dir.appendingPathComponent("party.jsonl").path
        #expect(
            try CLI.run([
                "export", "timeline", "--db", db, "--party", "sup-lumiere-sa", "--format", "jsonl", "-o", path,
            ]).status == 0)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 5, "registration, candidacy, question, answer, disclosure? got \(lines.count)")
        let reader = try LogReader.open(path: db)
        for line in lines {
            let bytes = Array(line.utf8)
            let value = try JSONParser.parse(bytes)
            let seq = try #require(value["seq"]?.uint64Value)
            let stored = try #require(try reader.entry(seq: seq))
            // The entry member is the stored bytes, byte for byte.
            let prefix = Array(#"{"entry":"#.utf8)
            #expect(Array(bytes[prefix.count..<(prefix.count + stored.bytes.count)]) == stored.bytes)
            #expect(value["leaf_hash"]?.stringValue == Hex.encode(Merkle.leafHash(stored.bytes)))
            if let payload = stored.payload { #expect(value["payload"] == (try JSONParser.parse(payload.bytes))) }
        }
    }

    @Test("HTML: self-contained, escaped, by day, private and public told apart, findings and checkpoint")
    func html() throws {
        let (dir, db) = try store()
        let path = dir.appendingPathComponent("2026-057.html").path
        #expect(
            try CLI.run([
                "export", "timeline", "--db", db, "--procedure", "2026-057", "--format", "html", "--lang", "fr", "-o",
                path,
            ]).status == 0)
        let html = try String(contentsOfFile: path, encoding: .utf8)
        #expect(
            html.hasPrefix("<!DOCTYPE html>") && html.contains("<h1>Procédure 2026-057</h1>")
                && html.contains("<h3>2026-03-10</h3>"))
        #expect(
            !html.contains("<script")
                && html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;merci&quot;"))
        #expect(
            !html.contains("src=") && !html.contains("href=") && !html.contains("@import"),
            "nothing fetched from the network")
        #expect(html.contains("class=\"event private\"") && html.contains("class=\"event public\""))
        #expect(
            html.contains("[R1] Réponse privée non communiquée à tous les candidats") && html.contains("@page{size:A4"))
        let checkpoint = try LogReader.open(path: db).checkpoint().encoded
        #expect(html.contains(TimelineHTML.escape(checkpoint)))
    }

    @Test("bad scopes and paths are refused, and no file is left behind")
    func errors() throws {
        let (dir, db) = try store()
        let out = dir.appendingPathComponent("x.csv").path
        for arguments in [
            [String](), ["--procedure", "2026-057", "--party", "sup-voltaire"], ["--from", "2026-03-01T00:00:00Z"],
            ["--from", "hier", "--to", "demain"], ["--from", "2026-04-01T00:00:00Z", "--to", "2026-03-01T00:00:00Z"],
            ["--procedure", "2099-001"], ["--party", "nobody"],
        ] {
            let result = try CLI.run(["export", "timeline", "--db", db, "--format", "csv", "-o", out] + arguments)
            #expect(result.status == 2 && !result.stderr.isEmpty, "\(arguments): \(result.stderr)")
        }
        let unwritable = try CLI.run([
            "export", "timeline", "--db", db, "--procedure", "2026-057", "--format", "csv", "-o",
            "/nonexistent/dir/x.csv",
        ])
        #expect(unwritable.status == 2 && unwritable.stderr.contains("cannot write /nonexistent/dir/x.csv"))
        #expect(!FileManager.default.fileExists(atPath: out))
        let period = try CLI.run([
            "export", "timeline", "--db", db, "--from", "2000-01-01T00:00:00Z", "--to", "2100-01-01T00:00:00Z",
            "--format", "jsonl", "-o", out,
        ])
        #expect(period.status == 0 && period.stderr.contains("exported 39 events"), "\(period.stderr)")
    }
}
