import Foundation
import ProbityDomain
import ProbityImport
import ProbityLog
import ProbityStore
import Testing

@testable import ProbityCapture
@testable import ProbityFixtures

/// Live capture on a real store and real folders: what is recorded once, what fails and is retried, how
/// exchanges are tagged; and the pure parts (format detection, Maildir names).
@Suite("Live capture")
struct CaptureTests {
    static let origin = "achats.example.fr/probity"

    /// A store holding the scenario's parties and procedures (the first 19 events of examples/scenario.jsonl).
    final class Fixture {
        let directory: URL
        let path: String
        let writer: LogWriter
        let mapping: String

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "probity-capture-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            path = directory.appendingPathComponent("log.sqlite").path
            let signer = try NoteSigner(name: CaptureTests.origin, privateKey: Ed25519PrivateKey.generate())
            writer = try LogWriter.create(
                path: path, origin: CaptureTests.origin, signer: signer, keyPath: "", by: "test", software: "test")
            let scenario = try String(
                contentsOf: CLI.packageRoot.appendingPathComponent("examples/scenario.jsonl"), encoding: .utf8)
            let events = try scenario.split(separator: "\n").prefix(19).map {
                try EventInput(json: try JSONParser.parse(Array($0.utf8)))
            }
            _ = try writer.append(events, by: "test")
            mapping = directory.appendingPathComponent("parties.json").path
            try Self.writeMapping(mapping, extra: [:])
        }

        static func writeMapping(_ path: String, extra: [String: String]) throws {
            var accounts = [
                "camille.lefevre@metropole-exemple.fr": "agent-lefevre",
                "h.girard@eclairage-ouest.fr": "contact-girard",
                "t.petit@lumiere-reseaux.fr": "contact-petit",
            ]
            accounts.merge(extra) { $1 }
            let json = JSONValue.object([
                "accounts": .object(accounts.mapValues(JSONValue.string)), "buyers": .array([.string("agent-lefevre")]),
            ])
            try Data(CanonicalJSON.encode(json)).write(to: URL(fileURLWithPath: path))
        }

        func maildir(_ name: String = "INBOX") throws -> String {
            let root = directory.appendingPathComponent(name)
            for sub in ["cur", "new", "tmp"] {
                try FileManager.default.createDirectory(
                    at: root.appendingPathComponent(sub), withIntermediateDirectories: true)
            }
            return root.path
        }

        func capture(_ source: CaptureSource) throws -> Capture {
            let ledger = try CaptureLedger.open(path: path)
            let path = path
            let writer = writer
            return Capture(
                source: source, ledger: ledger, reader: { try LogReader.open(path: path) },
                append: { try writer.append($0, by: "capture:test") })
        }

        func state() throws -> DomainState { try LogReader.open(path: path).domainState() }

        /// The exchanges capture recorded (after the scenario's own).
        func captured() throws -> [DomainState.Record] {
            try state().records.filter { $0.isExchange && $0.seq > 19 }
        }

        deinit { try? FileManager.default.removeItem(at: directory) }
    }

    static func message(
        id: String?, from: String = "h.girard@eclairage-ouest.fr", to: String = "camille.lefevre@metropole-exemple.fr",
        subject: String = "Question", inReplyTo: String? = nil, body: String = "Bonjour,\r\nune question.\r\n"
    ) -> [UInt8] {
        var headers = [
            "From: \(from)", "To: \(to)", "Subject: \(subject)", "Date: Tue, 10 Mar 2026 10:00:00 +0100",
        ]
        if let id { headers.append("Message-ID: \(id)") }
        if let inReplyTo { headers += ["In-Reply-To: \(inReplyTo)", "References: \(inReplyTo)"] }
        return Array((headers.joined(separator: "\r\n") + "\r\n\r\n" + body).utf8)
    }

    static func deliver(_ bytes: [UInt8], to maildir: String, name: String, into sub: String = "new") throws {
        let temporary = maildir + "/tmp/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: temporary))
        try FileManager.default.moveItem(
            atPath: temporary, toPath: maildir + "/\(sub)/" + name + (sub == "cur" ? ":2,S" : ""))
    }

    @Test("each message is recorded once, with its raw bytes; a rescan, a flag change or a second copy appends nothing")
    func recordsOnce() throws {
        let fixture = try Fixture()
        let maildir = try fixture.maildir()
        var source = CaptureSource(name: "inbox", kind: .maildir, directory: maildir)
        source.mapping = fixture.mapping
        let capture = try fixture.capture(source)
        try Self.deliver(
            Self.message(id: "<q1@eclairage-ouest.fr>", subject: "Questions 2026-057 lot 2"), to: maildir, name: "1.a")
        try Self.deliver(Self.message(id: nil, body: "sans identifiant\r\n"), to: maildir, name: "2.a")
        var report = try capture.scan()
        #expect(report.recorded == 2 && report.failed == 0)
        // mbsync moves a message to cur/ with flags; a second delivery of the same message has another name.
        try FileManager.default.moveItem(atPath: maildir + "/new/1.a", toPath: maildir + "/cur/1.a:2,S")
        try Self.deliver(
            Self.message(id: "<q1@eclairage-ouest.fr>", subject: "Questions 2026-057 lot 2"), to: maildir, name: "3.a")
        report = try capture.scan()
        #expect(report.recorded == 0 && report.alreadyRecorded == 1 && report.unchanged == 2)
        #expect(try capture.scan().unchanged == 3)
        let exchanges = try fixture.captured()
        #expect(exchanges.count == 2)
        #expect(exchanges.first?.procedure == "2026-057")
        let entry = try #require(try LogReader.open(path: fixture.path).entry(seq: exchanges[0].seq)?.payload)
        let payload = try JSONParser.parse(entry.bytes)
        #expect(payload["raw"]?.stringValue?.contains("Message-ID: <q1@eclairage-ouest.fr>") == true)
        #expect(exchanges[1].source?.id.hasPrefix("sha256:") == true)
        // Nothing in the Maildir was changed.
        #expect(try FileManager.default.contentsOfDirectory(atPath: maildir + "/cur") == ["1.a:2,S"])
    }

    @Test(
        "an unmapped sender and malformed MIME fail, are listed, and the unmapped one is recorded once the mapping knows it"
    )
    func failuresRetried() throws {
        let fixture = try Fixture()
        let maildir = try fixture.maildir()
        var source = CaptureSource(name: "inbox", kind: .maildir, directory: maildir)
        source.mapping = fixture.mapping
        let capture = try fixture.capture(source)
        try Self.deliver(Self.message(id: "<u1@inconnu.fr>", from: "x@inconnu.fr"), to: maildir, name: "1.a")
        try Self.deliver(Array("this is not a message at all".utf8), to: maildir, name: "2.a")
        try Self.deliver(Self.message(id: "<ok@eclairage-ouest.fr>"), to: maildir, name: "3.a")
        var report = try capture.scan()
        #expect(report.recorded == 1 && report.failed == 2)
        let ledger = try CaptureLedger.open(path: fixture.path)
        let failed = try ledger.list(state: .failed)
        #expect(failed.map(\.item) == ["1.a", "2.a"])
        #expect(failed[0].detail.contains("x@inconnu.fr") && failed[0].detail.contains("not mapped"))
        // Same mapping: not retried. A new mapping: retried, and the message is recorded.
        #expect(try capture.scan().failed == 0)
        try Fixture.writeMapping(fixture.mapping, extra: ["x@inconnu.fr": "contact-petit"])
        report = try capture.scan()
        #expect(report.recorded == 1 && report.failed == 1)
        #expect(try ledger.items(of: "inbox")["2.a"]?.attempts == 2)
    }

    @Test(
        "tagging: by reference in the subject, by thread, by the only open candidacy; the rest is left for exchange.tagged"
    )
    func tagging() throws {
        let fixture = try Fixture()
        let maildir = try fixture.maildir()
        var source = CaptureSource(name: "inbox", kind: .maildir, directory: maildir)
        source.mapping = fixture.mapping
        source.tagging.byCandidacy = false
        let capture = try fixture.capture(source)
        try Self.deliver(Self.message(id: "<a@x>", subject: "RE: consultation 2026-057"), to: maildir, name: "1.a")
        try Self.deliver(
            Self.message(
                id: "<b@x>", from: "camille.lefevre@metropole-exemple.fr", to: "h.girard@eclairage-ouest.fr",
                subject: "RE: votre question", inReplyTo: "<a@x>"), to: maildir, name: "2.a")
        try Self.deliver(Self.message(id: "<c@x>", subject: "Rendez-vous"), to: maildir, name: "3.a")
        #expect(try capture.scan().untagged == 1)
        let procedures = try fixture.captured().map(\.procedure)
        #expect(procedures == ["2026-057", "2026-057", nil])
        // The one left untagged is assigned by an exchange.tagged; the projections follow it.
        let untagged = try #require(try fixture.captured().last)
        _ = try fixture.writer.append(
            [
                EventInput(
                    type: DomainEventType.exchangeTagged,
                    data: [
                        "source": .object(["platform": .string("email"), "id": .string("<c@x>")]),
                        "procedure": .string("2026-057"), "tagged_at": .string("2026-03-11T09:00:00Z"),
                    ])
            ], by: "test")
        let state = try fixture.state()
        #expect(state.record(seq: untagged.seq)?.procedure == "2026-057")
        let inProcedure = state.records(of: state.procedures["2026-057"]!).map(\.seq)
        #expect(inProcedure.contains(untagged.seq) && inProcedure == inProcedure.sorted())
        // With the candidacy rule, Thomas Petit's employer (a candidate in 2026-057 only) tags his message.
        source.tagging.byCandidacy = true
        let byCandidacy = try fixture.capture(source)
        try Self.deliver(
            Self.message(id: "<d@x>", from: "t.petit@lumiere-reseaux.fr", subject: "Visite du site"), to: maildir,
            name: "4.a")
        #expect(try byCandidacy.scan().untagged == 0)
        #expect(try fixture.captured().last?.procedure == "2026-057")
    }

    @Test("a dropped export is imported once, known by its bytes, with its report kept")
    func dropFolder() throws {
        let fixture = try Fixture()
        let drop = fixture.directory.appendingPathComponent("depot")
        try FileManager.default.createDirectory(at: drop, withIntermediateDirectories: true)
        var source = CaptureSource(name: "depot", kind: .drop, directory: drop.path)
        source.mapping = fixture.mapping
        source.settle = .zero
        let capture = try fixture.capture(source)
        let mbox = Array("From x\n".utf8) + Self.message(id: "<m1@x>") + Array("\n".utf8)
        try Data(mbox).write(to: drop.appendingPathComponent("export.mbox"))
        try Data(mbox).write(to: drop.appendingPathComponent("copie.txt"))
        try Data("garbage".utf8).write(to: drop.appendingPathComponent("notes.bin"))
        try Data(mbox).write(to: drop.appendingPathComponent("encours.part"))
        let report = try capture.scan()
        #expect(report.recorded == 1 && report.unchanged == 1 && report.failed == 1, "\(report)")
        let items = try CaptureLedger.open(path: fixture.path).list(capture: "depot")
        #expect(items.count == 2)
        let imported = try #require(items.first { $0.state == .recorded })
        let detail = try JSONParser.parse(Array(imported.detail.utf8))
        #expect(detail["format"]?.stringValue == "mbox" && detail["new"]?.uint64Value == 1, "\(detail)")
        #expect(items.first { $0.state == .failed }?.detail.contains("not an export") == true)
        #expect(try capture.scan().unchanged == 3)
    }

    @Test(
        "exports are told apart by content",
        arguments: [
            ("From a@b Mon Jan  1 00:00:00 2026\nFrom: a@b\n", ExportFormat.mbox),
            ("Received: from x\r\nFrom: a@b\r\n\r\nhi", .eml),
            ("\u{FEFF}CONVERSATION ID,CONVERSATION TITLE,FROM,DATE,CONTENT\n", .linkedinCSV),
            ("window.YTD.direct_messages.part0 = [", .xArchive),
            (" {\"orderedItems\": []}", .activitystreams),
        ])
    func detection(text: String, format: ExportFormat) {
        #expect(ExportFormat.detect(Array(text.utf8)) == format)
    }

    @Test("unknown bytes are no format")
    func unknownFormat() {
        #expect(ExportFormat.detect(Array("just some notes\n".utf8)) == nil)
        #expect(ExportFormat.detect([0x00, 0xFF]) == nil)
    }

    @Test("a folder that is not a Maildir, a bad pattern and a missing mapping are refused before anything runs")
    func refusedConfiguration() throws {
        let fixture = try Fixture()
        var source = CaptureSource(name: "inbox", kind: .maildir, directory: fixture.directory.path)
        #expect(throws: CaptureError.self) { try source.check() }
        source.directory = try fixture.maildir()
        source.tagging.reference = "(unclosed"
        #expect(throws: CaptureError.self) { try source.check() }
        source.tagging.reference = nil
        source.mapping = "/nonexistent/parties.json"
        #expect(throws: CaptureError.self) { try source.check() }
        source.mapping = fixture.mapping
        try source.check()
    }
}
