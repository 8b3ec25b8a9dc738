import Foundation
import ProbityDomain
import ProbityLog
import ProbityStore
import Testing

@testable import ProbityFixtures

/// `probity import` on the hand-written exports, as a user runs it.
@Suite("probity import")
struct ImportTests {
    static let fixtures = CLI.packageRoot.appendingPathComponent("Tests/Fixtures/imports")

    /// Entries of a new store with the registry: `log.created`, six parties and procedure 2026-042.
    static let base: UInt64 = 8

    /// A new store, with the parties and the procedure the exports refer to unless `registry` is false.
    func store(registry: Bool = true, _ name: String = #function) throws -> String {
        let db = try CLI.temporaryDirectory(name).appendingPathComponent("log.sqlite").path
        #expect(try CLI.run(["init", "--db", db, "--origin", "test.example/probity"]).status == 0)
        if registry {
            let appended = try CLI.run([
                "append", "--db", db, "--quiet", Self.fixtures.appendingPathComponent("registry.jsonl").path,
            ])
            #expect(appended.status == 0, "\(appended.stderr)")
        }
        return db
    }

    func runImport(_ db: String, _ format: String, _ file: String, _ extra: [String] = []) throws -> JSONValue {
        let result = try CLI.run(
            [
                "import", "--db", db, "--format", format, "--procedure", "2026-042", "--mapping",
                Self.fixtures.appendingPathComponent("parties.json").path, "--json",
                Self.fixtures.appendingPathComponent(file).path,
            ] + extra)
        #expect(result.status == 0, "\(result.stderr)")
        return result.json
    }

    @Test(
        "LinkedIn: mapped accounts imported, an unmapped one listed, a bad record named; re-import appends nothing; --register once"
    )
    func linkedIn() throws {
        let db = try store()
        let first = try runImport(db, "linkedin-csv", "linkedin/messages.csv")
        #expect(
            first["read"]?.uint64Value == 6 && first["new"]?.uint64Value == 4 && first["duplicate"]?.uint64Value == 0)
        let rejected = first["rejected"]?.arrayValue ?? []
        #expect(rejected.map { $0["position"]?.uint64Value } == [9, 11])
        #expect(
            rejected.first?["reason"]?.stringValue?.contains("\"LinkedIn Member\" (no id in the export) is not mapped")
                == true)
        #expect(first["unmapped"]?.arrayValue?.first?["proposed_party"]?.stringValue == "linkedin-linkedin-member")

        let again = try runImport(db, "linkedin-csv", "linkedin/messages.csv")
        #expect(again["new"]?.uint64Value == 0 && again["duplicate"]?.uint64Value == 4)

        let registered = try runImport(db, "linkedin-csv", "linkedin/messages.csv", ["--register"])
        #expect(
            registered["registered"]?.arrayValue == [.string("linkedin-linkedin-member")]
                && registered["new"]?.uint64Value == 1)
        let once = try runImport(db, "linkedin-csv", "linkedin/messages.csv", ["--register"])
        #expect(
            once["registered"]?.arrayValue == [] && once["new"]?.uint64Value == 0 && once["duplicate"]?.uint64Value == 5
        )

        // The original record is in the payload; header data has no personal data.
        let entry = try #require(try LogReader.open(path: db).entry(seq: Self.base))
        let data = try JSONParser.parse(entry.bytes)["data"]!
        #expect(
            data["from"] == .string("contact-martin") && data["direction"] == .string("inbound")
                && data["channel"] == .string("linkedin"))
        #expect(!String(decoding: entry.bytes, as: UTF8.self).contains("linkedin.com/in"))
        let payload = try JSONParser.parse(entry.payload!.bytes)
        #expect(payload["record"]?["SENDER PROFILE URL"] == .string("https://www.linkedin.com/in/jean-martin-voirie"))
        #expect(try CLI.run(["verify", "--db", db]).status == 0)
    }

    @Test(
        "every format imports its fixture, and a second import appends nothing",
        arguments: [
            ("x-archive", "x/direct-messages.js", 3),
            ("activitystreams", "activitystreams/outbox.json", 4),
            ("eml", "email/question-lot2.eml", 1),
            ("mbox", "email/procedure-2026-042.mbox", 2),
        ])
    func formats(_ format: String, _ file: String, _ expected: Int) throws {
        let db = try store()
        let first = try runImport(db, format, file, ["--register"])
        #expect(first["new"]?.uint64Value == UInt64(expected), "\(CanonicalJSON.encodeString(first))")
        let second = try runImport(db, format, file, ["--register"])
        #expect(
            second["new"]?.uint64Value == 0 && second["duplicate"]?.uint64Value == UInt64(expected)
                && second["registered"]?.arrayValue == [])
        #expect(try CLI.run(["verify", "--db", db]).status == 0)
    }

    @Test(
        "an import into an unknown procedure is refused; a record naming a party the log lacks is reported, the rest imported"
    )
    func references() throws {
        let empty = try store(registry: false)
        let refused = try CLI.run([
            "import", "--db", empty, "--format", "eml", "--procedure", "2026-042", "--mapping",
            Self.fixtures.appendingPathComponent("parties.json").path,
            Self.fixtures.appendingPathComponent("email/question-lot2.eml").path,
        ])
        #expect(
            refused.status == 2 && refused.stderr.contains("procedure \"2026-042\" is not in the log"),
            "\(refused.stderr)")
        #expect(try LogReader.open(path: empty).size() == 1)

        // The registry without Sophie Bernard: her LinkedIn messages are rejected with the reason, the others imported.
        let db = try store(registry: false)
        let lines = try String(contentsOf: Self.fixtures.appendingPathComponent("registry.jsonl"), encoding: .utf8)
            .split(separator: "\n").filter { !$0.contains("contact-bernard") }
        #expect(
            try CLI.run(["append", "--db", db, "--quiet", "-"], stdin: Array(lines.joined(separator: "\n").utf8)).status
                == 0)
        let report = try runImport(db, "linkedin-csv", "linkedin/messages.csv")
        let reasons = report["rejected"]?.arrayValue?.compactMap { $0["reason"]?.stringValue } ?? []
        #expect(reasons.contains { $0.contains("party \"contact-bernard\" is not registered") }, "\(reasons)")
        #expect(report["new"]?.uint64Value == 3, "\(CanonicalJSON.encodeString(report))")
        #expect(try CLI.run(["verify", "--db", db]).status == 0)
    }

    @Test("Probity's own JSONL, and errors that say what is wrong")
    func jsonlAndErrors() throws {
        let db = try store(registry: false)
        let events = try CLI.run(["import", "--db", db, "--format", "jsonl", "--json", CLI.exampleConversation.path])
        #expect(events.status == 0 && events.json["new"]?.uint64Value == 13, "\(events.stderr)")
        let wrong = try CLI.run([
            "import", "--db", db, "--format", "linkedin-csv",
            Self.fixtures.appendingPathComponent("x/direct-messages.js").path,
        ])
        #expect(
            wrong.status == 2 && wrong.stderr.contains("not the header of LinkedIn's messages.csv"), "\(wrong.stderr)")
        let badMapping = try CLI.run([
            "import", "--db", db, "--format", "eml", "--mapping", CLI.exampleConversation.path,
            Self.fixtures.appendingPathComponent("email/question-lot2.eml").path,
        ])
        #expect(badMapping.status == 2 && badMapping.stderr.contains("invalid JSON"), "\(badMapping.stderr)")
        #expect(try LogReader.open(path: db).size() == 14, "refused imports append nothing")
    }

    @Test(
        "capture drop: every export format told apart by content and imported once; status shows the reports; capture tag assigns an untagged exchange"
    )
    func captureDrop() throws {
        let db = try store()
        let drop = try CLI.temporaryDirectory().appendingPathComponent("depot")
        try FileManager.default.createDirectory(at: drop, withIntermediateDirectories: true)
        for file in [
            "linkedin/messages.csv", "email/procedure-2026-042.mbox", "x/direct-messages.js",
            "activitystreams/outbox.json",
        ] {
            try FileManager.default.copyItem(
                at: Self.fixtures.appendingPathComponent(file),
                to: drop.appendingPathComponent(file.replacingOccurrences(of: "/", with: "-")))
        }
        try "minutes of a phone call, typed by hand\n".write(
            to: drop.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        let mapping = Self.fixtures.appendingPathComponent("parties.json").path
        let run = ["capture", "drop", "--db", db, "--mapping", mapping, "--reference", "", "--json", drop.path]
        let first = try CLI.run(run)
        #expect(first.status == 0, "\(first.stderr)")
        // Four exports recorded (the LinkedIn and mbox ones with records refused for unmapped accounts stay
        // failed, to be retried with a new mapping); the notes are no export.
        let failed = first.json["failed"]?.arrayValue ?? []
        #expect(
            failed.contains { $0["detail"]?["error"]?.stringValue?.contains("not an export") == true },
            "\(first.stdout)")
        let status = try CLI.run(["capture", "status", "--db", db, "--all", "--json"])
        let items = status.json["items"]?.arrayValue ?? []
        #expect(items.count == 5, "\(status.stdout)")
        let formats = Set(items.compactMap { $0["detail"]?["format"]?.stringValue })
        #expect(formats == ["linkedin-csv", "mbox", "x-archive", "activitystreams"], "\(formats)")
        let again = try CLI.run(run)
        #expect(
            again.json["recorded"]?.uint64Value == 0 && again.json["unchanged"]?.uint64Value == 5, "\(again.stdout)")
        let strict = try CLI.run(run + ["--strict"])
        #expect(strict.status == 1)

        // Nothing had a procedure (no rule could tell): one is assigned by hand, and the projections follow.
        let untagged = try CLI.run(["capture", "status", "--db", db, "--untagged", "--json"])
        #expect(untagged.status == 0, "\(untagged.stderr)")
        let state = try LogReader.open(path: db).domainState()
        let exchange = try #require(state.records.first { $0.isExchange && $0.procedure == nil })
        let tagged = try CLI.run([
            "capture", "tag", "--db", db, "--seq", "\(exchange.seq)", "--procedure", "2026-042", "--by", "C. Durand",
        ])
        #expect(tagged.status == 0 && tagged.stdout.contains("assigned to procedure 2026-042"), "\(tagged.stderr)")
        let after = try LogReader.open(path: db).domainState()
        #expect(after.record(seq: exchange.seq)?.procedure == "2026-042")
        let unknown = try CLI.run(["capture", "tag", "--db", db, "--seq", "\(exchange.seq)", "--procedure", "1999-001"])
        #expect(unknown.status == 2 && unknown.stderr.contains("1999-001"), "\(unknown.stderr)")
        #expect(try verify(db).intact)
    }
}
