import Foundation
import GRDB
import ProbityClient
import ProbityDomain
import ProbityHTTP
import ProbityLog
import ProbityStore
import Testing

@testable import ProbityFixtures

/// The procurement domain as users meet it: the example scenario appended, its findings, timeline and
/// replay from the CLI, and the same projections through probityd.
@Suite("procurement domain: findings, timeline, replay")
struct DomainTests {
    static var scenario: URL { CLI.packageRoot.appendingPathComponent("examples/scenario.jsonl") }

    /// What the scenario must show: the rule and the seqs behind it (seq 0 is log.created).
    static let expected: [(String, [UInt64])] = [
        ("R1", [26, 27]), ("R2", [16, 21, 29]), ("R3", [32]), ("R4", [12, 13, 14]), ("R5", [21, 22]), ("R5", [26, 27]),
        ("R6", [28]),
    ]

    func scenarioStore() throws -> String {
        let db = try CLI.temporaryDirectory().appendingPathComponent("log.sqlite").path
        #expect(try CLI.run(["init", "--db", db, "--origin", "test.example/probity"]).status == 0)
        let appended = try CLI.run(["append", "--db", db, "--quiet", Self.scenario.path])
        #expect(appended.status == 0, "\(appended.stderr)")
        return db
    }

    static func rulesAndSeqs(_ findings: JSONValue) -> [(String, [UInt64])] {
        (findings["findings"]?.arrayValue ?? []).map {
            ($0["rule"]?.stringValue ?? "", ($0["seqs"]?.arrayValue ?? []).compactMap(\.uint64Value))
        }
    }

    @Test("the scenario's findings: R1–R6, each with its seqs, in English and French")
    func scenarioFindings() throws {
        let db = try scenarioStore()
        let json = try CLI.run(["findings", "--db", db, "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let found = Self.rulesAndSeqs(json.json)
        #expect(found.map(\.0) == Self.expected.map(\.0) && found.map(\.1) == Self.expected.map(\.1), "\(found)")
        let first = try #require(json.json["findings"]?.arrayValue?.first)
        #expect(
            first["legal_reference"]?.stringValue?.contains("R2132-6") == true && first["severity"] == .string("high"))
        #expect(
            first["explanation"]?.stringValue?.contains("2026-03-16 12:03") == true,
            "times in the buyer's zone (Europe/Paris)")

        let french = try CLI.run(["findings", "--db", db, "--procedure", "2026-057", "--lang", "fr"])
        #expect(
            french.status == 0 && french.stdout.contains("7 signalement(s)")
                && french.stdout.contains("Réponse privée non communiquée"), "\(french.stdout)")
        let frenchJSON = try CLI.run(["findings", "--db", db, "--lang", "fr", "--json"]).json
        #expect(
            frenchJSON["findings"]?.arrayValue?[2]["explanation"]?.stringValue?.hasPrefix(
                "Pendant la phase « délai de suspension », le 2026-04-23 18:05, agent-lefevre a écrit en privé à contact-girard"
            ) == true)
        let utc = try CLI.run(["findings", "--db", db, "--procedure", "2026-057", "--tz", "UTC"])
        #expect(utc.stdout.contains("2026-03-16 11:03"), "\(utc.stdout)")
        let sourcing = try CLI.run(["findings", "--db", db, "--procedure", "2026-SRC-07"])
        #expect(sourcing.status == 0 && sourcing.stdout.hasPrefix("No findings for procedure 2026-SRC-07"))

        let unknown = try CLI.run(["findings", "--db", db, "--procedure", "2099-001"])
        #expect(
            unknown.status == 2 && unknown.stderr.contains("no procedure \"2099-001\"")
                && unknown.stderr.contains("2026-057"))
        #expect(try CLI.run(["findings", "--db", db, "--lang", "de"]).stderr.contains("--lang must be en or fr"))
        #expect(try CLI.run(["findings", "--db", db, "--tz", "Europe/Lutece"]).stderr.contains("not a time zone"))
    }

    @Test("timeline: by day in the buyer's time zone, or another, in English or French; for a party too")
    func timeline() throws {
        let db = try scenarioStore()
        let text = try CLI.run(["timeline", "--db", db, "--procedure", "2026-057"])
        #expect(text.status == 0, "\(text.stderr)")
        for expected in [
            "Procedure 2026-057 — open tender, buyer org-metropole", "tenders until 2026-04-07 12:00 (Europe/Paris)",
            "── Monday 2 March 2026 ──", "  09:00  #16  procedure opened",
            "#22  x · reply · private (direct)  agent-lefevre → contact-petit  [answers #21]",
            "« Seulement sur les voies résidentielles", "#28  linkedin · post · PUBLIC",
            "questions: 3 — 2 disclosed, 1 undisclosed",
            "phase → awarded, awardee sup-eclairage-ouest",
        ] {
            #expect(text.stdout.contains(expected), "missing \(expected)")
        }
        let french = try CLI.run(["timeline", "--db", db, "--procedure", "2026-057", "--lang", "fr", "--tz", "UTC"])
        #expect(
            french.stdout.contains("── lundi 2 mars 2026 ──")
                && french.stdout.contains("  08:00  #16  procédure ouverte"), "\(french.stdout)")
        let party = try CLI.run(["timeline", "--db", db, "--party", "sup-eclairage-ouest"])
        #expect(
            party.stdout.contains("#12  linkedin") && party.stdout.contains("#32")
                && party.stdout.contains("(no procedure)") && !party.stdout.contains("#21 "))
        let json = try CLI.run(["timeline", "--db", db, "--procedure", "2026-057", "--json"]).json
        #expect(
            json["coverage"]?.arrayValue?.compactMap { $0["status"]?.stringValue } == [
                "disclosed", "disclosed", "undisclosed",
            ])
        #expect(!CanonicalJSON.encodeString(json).contains("Seulement"), "--json carries no payload text")
        // Written as it is made, the JSON is still one value's canonical encoding, for a procedure and a party.
        for scope in [["--procedure", "2026-057"], ["--party", "sup-eclairage-ouest"]] {
            let streamed = try CLI.run(["timeline", "--db", db, "--json"] + scope)
            let value = try JSONParser.parse(Array(streamed.stdout.utf8))
            #expect(CanonicalJSON.encodeString(value) + "\n" == streamed.stdout, "\(scope)")
            #expect((value["entries"]?.arrayValue?.count ?? 0) > 1, "\(scope): \(streamed.stdout)")
        }
        #expect(try CLI.run(["timeline", "--db", db]).status == 2)
        #expect(try CLI.run(["timeline", "--db", db, "--party", "nobody"]).stderr.contains("no party \"nobody\""))
    }

    @Test("replay rebuilds the projections, shows them as they were, and its snapshot gives the same findings")
    func replay() throws {
        let db = try scenarioStore()
        let before = try CLI.run(["findings", "--db", db, "--json"]).stdout
        let full = try CLI.run(["replay", "--db", db])
        #expect(
            full.status == 0 && full.stdout.contains("2026-057 (open_tender): phase awarded")
                && full.stdout.contains("questions 3 (1 undisclosed, 2 disclosed)"), "\(full.stdout)")
        let snapshot = try LogReader.open(path: db)
        #expect(try CLI.run(["findings", "--db", db, "--json"]).stdout == before, "snapshot + catch-up = full replay")
        // A snapshot that does not fit the log (damaged, or of a longer log) is ignored: the entries are replayed.
        for damage in [
            "UPDATE projection_snapshots SET state = x'0001'", "UPDATE projection_snapshots SET seq = seq + 1000",
        ] {
            try DatabaseQueue(path: db).write { try $0.execute(sql: damage) }
            #expect(try CLI.run(["findings", "--db", db, "--json"]).stdout == before, "\(damage)")
        }

        let atSeq20 = try CLI.run(["replay", "--db", db, "--until", "20", "--json"]).json
        let procedure = atSeq20["procedures"]?.arrayValue?.first { $0["procedure"] == .string("2026-057") }
        #expect(procedure?["phase"] == .string("consultation") && procedure?["candidates"]?.arrayValue?.count == 3)
        let byTime = try CLI.run(["replay", "--db", db, "--until", "2000-01-01T00:00:00Z", "--json"]).json
        #expect(byTime["procedures"]?.arrayValue == [] && byTime["entries"]?.uint64Value == 0)
        // Written piece by piece, the JSON is still one object's canonical encoding, coverage included.
        let streamed = try CLI.run(["replay", "--db", db, "--json"])
        let value = try JSONParser.parse(Array(streamed.stdout.utf8))
        #expect(streamed.status == 0 && CanonicalJSON.encodeString(value) + "\n" == streamed.stdout)
        let coverage = value["procedures"]?.arrayValue?.first { $0["procedure"] == .string("2026-057") }?["coverage"]
        #expect(
            coverage?.arrayValue?.compactMap { $0["status"]?.stringValue }.sorted()
                == ["disclosed", "disclosed", "undisclosed"], "\(streamed.stdout)")

        // More entries after the snapshot: findings start from it and apply the rest.
        let extension_ =
            #"{"type":"procedure.updated","data":{"procedure":"2026-057","tender_deadline":"2026-04-14T12:00:00+02:00","reason":"deadline_extension"}}"#
        #expect(try CLI.run(["append", "--db", db, "--quiet", "-"], stdin: Array(extension_.utf8)).status == 0)
        let after = try CLI.run(["findings", "--db", db, "--json"]).json
        #expect(
            !Self.rulesAndSeqs(after).contains { $0.0 == "R2" },
            "the deadline was extended: 10 days after the disclosure")
        #expect(try snapshot.size() == 35)
    }

    @Test("events that refer to what the log does not hold are refused, naming the line and field; nothing appended")
    func references() throws {
        let db = try scenarioStore()
        let cases = [
            (
                #"{"type":"exchange.recorded","data":{"procedure":"2026-057","channel":"x","kind":"message","visibility":"direct","from":"contact-inconnu","to":["agent-lefevre"],"occurred_at":"2026-03-10T08:00:00Z"}}"#,
                "data.from: party \"contact-inconnu\" is not registered"
            ),
            (
                #"{"type":"procedure.candidate_joined","data":{"procedure":"2026-099","party":"sup-voltaire"}}"#,
                "data.procedure: procedure \"2026-099\" is not in the log"
            ),
            (
                #"{"type":"procedure.candidate_joined","data":{"procedure":"2026-057","party":"agent-lefevre"}}"#,
                "data.party: party \"agent-lefevre\" is a buyer_agent; expected supplier_org or supplier_contact"
            ),
            (
                #"{"type":"party.registered","data":{"party":"sup-voltaire","role":"supplier_org"}}"#,
                "data.party: party \"sup-voltaire\" is already registered"
            ),
        ]
        for (event, message) in cases {
            let input = #"{"type":"x-note","data":{}}"# + "\n" + event + "\n"
            let result = try CLI.run(["append", "--db", db, "-"], stdin: Array(input.utf8))
            #expect(
                result.status == 2 && result.stderr.contains("standard input, line 2: \(message)"), "\(result.stderr)")
        }
        #expect(try LogReader.open(path: db).size() == 34, "nothing appended, not even the valid first line")
        // More events than one transaction holds: all are checked before the first batch is written.
        let many = String(repeating: #"{"type":"x-note","data":{}}"# + "\n", count: 10_000) + cases[0].0 + "\n"
        let refused = try CLI.run(["append", "--db", db, "--quiet", "-"], stdin: Array(many.utf8))
        #expect(
            refused.status == 2 && refused.stderr.contains("standard input, line 10001: data.from"), "\(refused.stderr)"
        )
        #expect(try LogReader.open(path: db).size() == 34)
        // A party registered earlier in the same file may be named by the lines after it.
        let both =
            #"{"type":"party.registered","data":{"party":"contact-neuf","role":"supplier_contact","org":"sup-voltaire"}}"#
            + "\n"
            + #"{"type":"exchange.recorded","data":{"procedure":"2026-057","channel":"email","kind":"message","visibility":"direct","from":"contact-neuf","to":["agent-lefevre"],"occurred_at":"2026-03-10T08:00:00Z"}}"#
        #expect(try CLI.run(["append", "--db", db, "--quiet", "-"], stdin: Array(both.utf8)).status == 0)
        #expect(try CLI.run(["verify", "--db", db]).status == 0)
    }

    @Test("probityd serves the projections to the read role: procedures, coverage, timelines, findings")
    func daemonRoutes() throws {
        let store = try DaemonStore(seeded: false)
        let daemon = try DaemonProcess(store: store)
        defer { daemon.terminate() }
        let env = ProcessInfo.processInfo.environment.merging(["PROBITY_TOKEN": store.tokens["ingest"]!]) { $1 }
        let appended = try CLI.run(
            ["append", "--socket", store.socket, "--quiet", Self.scenario.path], environment: env)
        #expect(appended.status == 0, "\(appended.stderr)")
        let reader = store.client("read")
        let list = try reader.json("GET", "/v1/procedures")
        #expect(
            list["procedures"]?.arrayValue?.compactMap { $0["procedure"]?.stringValue } == ["2026-057", "2026-SRC-07"])
        let shown = try reader.json("GET", "/v1/procedures/2026-057")
        #expect(shown["procedure"]?["phase"] == .string("awarded") && shown["coverage"]?.arrayValue?.count == 3)
        let findings = try reader.json("GET", "/v1/procedures/2026-057/findings?lang=fr")
        #expect(
            Self.rulesAndSeqs(findings).map(\.0) == Self.expected.map(\.0)
                && findings["time_zone"] == .string("Europe/Paris"))
        #expect(
            findings["findings"]?.arrayValue?.first?["title"]
                == .string("Réponse privée non communiquée à tous les candidats"))
        let timeline = try reader.json("GET", "/v1/procedures/2026-057/timeline")
        #expect(timeline["entries"]?.arrayValue?.count == 17)
        let party = try reader.json("GET", "/v1/parties/sup-eclairage-ouest/timeline")
        #expect(party["entries"]?.arrayValue?.contains { $0["seq"]?.uint64Value == 32 } == true)

        // Paged as GET /v1/events is: pages of `limit` after `after`, whose concatenation is the whole.
        func pages(_ path: String, _ list: String, limit: Int) throws -> [[JSONValue]] {
            var pages: [[JSONValue]] = [], after: UInt64?
            while true {
                let query = "limit=\(limit)" + (after.map { "&after=\($0)" } ?? "")
                let page = try reader.json("GET", path + (path.contains("?") ? "&" : "?") + query)
                let items = page[list]?.arrayValue ?? []
                pages.append(items)
                guard items.count == limit else { return pages }
                after = try #require(page["next_after"]?.uint64Value)
                try #require(pages.count < 100, "paging never ends")
            }
        }
        let timelinePages = try pages("/v1/procedures/2026-057/timeline", "entries", limit: 5)
        #expect(
            timelinePages.map(\.count) == [5, 5, 5, 2]
                && Array(timelinePages.joined()) == timeline["entries"]?.arrayValue)
        let coveragePages = try pages("/v1/procedures/2026-057", "coverage", limit: 2)
        #expect(coveragePages.map(\.count) == [2, 1] && Array(coveragePages.joined()) == shown["coverage"]?.arrayValue)
        let partyPages = try pages("/v1/parties/sup-eclairage-ouest/timeline", "entries", limit: 1)
        #expect(Array(partyPages.joined()) == party["entries"]?.arrayValue && partyPages.count > 1)

        // Appends after the first read are seen by the next.
        let more =
            #"{"type":"procedure.updated","data":{"procedure":"2026-057","tender_deadline":"2026-04-14T12:00:00+02:00","reason":"deadline_extension"}}"#
        #expect(try store.client().send("POST", "/v1/events", body: Array(more.utf8)).status == 201)
        let updated = try reader.json("GET", "/v1/procedures/2026-057/findings")
        #expect(!Self.rulesAndSeqs(updated).contains { $0.0 == "R2" })

        let raw = HTTPConnection(.unix(path: store.socket))
        func status(_ path: String, _ role: String) throws -> Int {
            try raw.request("GET", path, headers: [("Authorization", "Bearer \(store.tokens[role]!)")]).status
        }
        #expect(try status("/v1/procedures", "ingest") == 403)
        #expect(try status("/v1/procedures/2099-001", "read") == 404)
        #expect(try status("/v1/procedures/2026-057?limit=0", "read") == 400)
        #expect(try status("/v1/procedures/2026-057/timeline?limit=1001", "read") == 400)
        #expect(try status("/v1/parties/sup-eclairage-ouest/timeline?after=x", "read") == 400)
        #expect(try status("/v1/procedures/2026-057/findings?lang=de", "read") == 400)
        #expect(try status("/v1/procedures/2026-057/findings?tz=Mars/Olympus", "read") == 400)

        // A reference the log does not hold: 422, naming the field; nothing appended.
        let size = try LogReader.open(path: store.db).size()
        let bad =
            #"{"events":[{"type":"x-a","data":{}},{"type":"procedure.candidate_joined","data":{"procedure":"2099-001","party":"sup-voltaire"}}]}"#
        for path in ["/v1/events", "/v1/events/validate"] {
            let response = try raw.request(
                "POST", path, headers: [("Authorization", "Bearer \(store.tokens["ingest"]!)")], body: Array(bad.utf8))
            let error = try JSONParser.parse(response.body)["error"]
            #expect(
                response.status == 422 && error?["code"] == .string("invalid_reference")
                    && error?["field"] == .string("events[1].data.procedure"), "\(response.text)")
        }
        #expect(try LogReader.open(path: store.db).size() == size)
    }
}
