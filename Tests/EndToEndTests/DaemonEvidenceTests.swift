import Foundation
import ProbityClient
import ProbityDomain
import ProbityHTTP
import ProbityLog
import Testing

@testable import ProbityFixtures

/// probityd's evidence routes: exports streamed to the `export` role, redactions for `admin`.
@Suite("probityd evidence routes", .serialized)
struct DaemonEvidenceTests {
    func request(
        _ store: DaemonStore, _ role: String?, _ method: String, _ target: String, body: String? = nil
    ) throws -> HTTPResponse {
        let connection = HTTPConnection(.unix(path: store.socket), timeout: 60)
        defer { connection.close() }
        var headers: [(String, String)] = body == nil ? [] : [("Content-Type", "application/json")]
        if let role { headers.append(("Authorization", "Bearer \(store.tokens[role]!)")) }
        return try connection.request(method, target, headers: headers, body: body.map { Array($0.utf8) })
    }

    @Test(
        "Timeline and bundle exports stream to the export role; the bundle verifies; redactions need admin and respect holds"
    )
    func exportsAndRedactions() throws {
        let store = try DaemonStore(seeded: false)
        let daemon = try DaemonProcess(store: store)
        defer { daemon.terminate() }
        let env = ProcessInfo.processInfo.environment.merging(["PROBITY_TOKEN": store.tokens["ingest"]!]) { $1 }
        #expect(
            try CLI.run(["append", "--socket", store.socket, "--quiet", DomainTests.scenario.path], environment: env)
                .status == 0)

        // Exports: the export role only, the same parameters and checks as the CLI.
        let csv = try request(store, "export", "GET", "/v1/export/timeline?procedure=2026-057&format=csv&lang=fr")
        #expect(csv.status == 200 && csv.header("content-type")?.hasPrefix("text/csv") == true)
        #expect(
            csv.body.starts(with: [0xEF, 0xBB, 0xBF]) && csv.text.contains("Seulement sur les voies résidentielles"))
        #expect(try request(store, "read", "GET", "/v1/export/timeline?procedure=2026-057").status == 403)
        #expect(try request(store, nil, "GET", "/v1/export/bundle?procedure=2026-057").status == 401)
        for (query, status) in [
            ("procedure=2099-000", 404), ("procedure=2026-057&party=sup-voltaire", 400),
            ("from=2026-03-01T00:00:00Z", 400),
            ("procedure=2026-057&format=pdf", 400), ("procedure=2026-057&tz=Mars/Olympus", 400),
        ] {
            let answer = try request(store, "export", "GET", "/v1/export/timeline?" + query)
            #expect(
                answer.status == status && answer.text.contains("\"error\""),
                "\(query): \(answer.status) \(answer.text)")
        }
        let party = try request(store, "export", "GET", "/v1/export/timeline?party=sup-voltaire&format=jsonl")
        #expect(
            party.status == 200 && party.text.split(separator: "\n").count >= 3 && party.text.contains("contact-roux"),
            "\(party.text.prefix(300))")
        let period = try request(
            store, "export", "GET", "/v1/export/timeline?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z&format=html")
        #expect(
            period.status == 200 && period.header("content-type")?.hasPrefix("text/html") == true
                && period.text.contains("<h2>Chronology</h2>"))
        let zip = try request(store, "export", "GET", "/v1/export/bundle?procedure=2026-057&lang=fr")
        #expect(zip.status == 200 && zip.header("content-type") == "application/zip")
        let path = store.directory.appendingPathComponent("from-daemon.zip")
        try Data(zip.body).write(to: path)
        let verified = try CLI.run(["verify-bundle", path.path, "--vkey", store.vkey.description])
        #expect(
            verified.status == 0 && verified.stdout.contains("all 17 entries of procedure:2026-057"),
            "\(verified.stdout)")

        // Redactions: admin only; refused under a legal hold, for an unknown or redacted entry; then shown everywhere.
        let body = #"{"seq":22,"legal_basis":"RGPD art. 17","requested_by":"DPO"}"#
        #expect(try request(store, "export", "POST", "/v1/redactions", body: body).status == 403)
        let hold =
            #"{"type":"legal_hold.placed","data":{"hold":"contentieux","procedure":"2026-057","reason":"recours"}}"#
        #expect(try store.client().send("POST", "/v1/events", body: Array(hold.utf8)).status == 201)
        let held = try request(store, "admin", "POST", "/v1/redactions", body: body)
        #expect(
            held.status == 409 && held.text.contains("legal_hold") && held.text.contains("contentieux"), "\(held.text)")
        let release = #"{"type":"legal_hold.released","data":{"hold":"contentieux","reason":"jugement"}}"#
        #expect(try store.client().send("POST", "/v1/events", body: Array(release.utf8)).status == 201)
        let done = try request(store, "admin", "POST", "/v1/redactions", body: body)
        #expect(done.status == 201, "\(done.text)")
        let redactionSeq = try JSONParser.parse(done.body)["redaction"]?["seq"]?.uint64Value
        #expect(redactionSeq == 36)
        let again = try request(store, "admin", "POST", "/v1/redactions", body: body)
        #expect(again.status == 409 && again.text.contains("already_redacted"))
        for (bad, field) in [
            (#"{"seq":9999,"legal_basis":"x","requested_by":"DPO"}"#, "no entry 9999"),
            (#"{"legal_basis":"x"}"#, "seq"),
            (#"{"seq":0,"legal_basis":"x","requested_by":"DPO"}"#, "has no payload"),
            (#"{"seq":23,"legal_basis":"x","requested_by":"dpo@ville.fr"}"#, "requested_by"), ("not json", "bad_json"),
        ] {
            let answer = try request(store, "admin", "POST", "/v1/redactions", body: bad)
            #expect(
                (400..<500).contains(answer.status) && answer.text.contains(field),
                "\(bad): \(answer.status) \(answer.text)")
        }
        let after = try request(store, "export", "GET", "/v1/export/bundle?procedure=2026-057")
        try Data(after.body).write(to: path)
        let redacted = try CLI.run(["verify-bundle", path.path, "--vkey", store.vkey.description])
        #expect(redacted.status == 0 && redacted.stdout.contains("1 redacted entries"), "\(redacted.stdout)")
        daemon.terminate()
        #expect(
            try CLI.run(["verify", "--db", store.db, "--vkey", store.vkey.description]).stdout.contains(
                "seq 22 (by seq 36)"))
    }
}
