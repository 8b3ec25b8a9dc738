import Foundation
import ProbityLog
import Testing

@testable import ProbityFixtures

/// The web console as a legal team member meets it: probityd on the scenario's store, Debian's Chromium
/// driven by Playwright for Python (Tests/Browser/console_check.py), every page checked by axe-core, and a
/// screenshot of each page saved as PNG (.build/console-screenshots/, printed below).
@Suite("The web console in a real browser", .serialized)
struct ConsoleBrowserTests {
    /// The Python with Playwright and axe-playwright-python, made by `Scripts/install-deps.sh --test`.
    static let python = CLI.packageRoot.appendingPathComponent(".build/browser-venv/bin/python").path

    @Test(
        "sign-in, dashboard, procedures and a procedure's findings in Chromium; tokens, CSRF and hostile input refused; axe finds no serious violation"
    )
    func console() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.python),
            "Playwright is not installed: run Scripts/install-deps.sh --test (it makes .build/browser-venv)")
        try #require(
            FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium"),
            "chromium is missing: run Scripts/install-deps.sh --test")
        let store = try DaemonStore(seeded: false)
        let scenario = CLI.packageRoot.appendingPathComponent("examples/scenario.jsonl").path
        let appended = try CLI.run(["append", "--db", store.db, "--quiet", scenario])
        #expect(appended.status == 0, "\(appended.stderr)")
        // A supplier's message whose text is an attack on the page that shows it.
        let hostile =
            #"{"type":"exchange.recorded","data":{"procedure":"2026-057","channel":"email","kind":"message","visibility":"direct","from":"contact-girard","to":["agent-lefevre"],"source":{"platform":"email","id":"<xss@example>"},"occurred_at":"2026-03-20T10:00:00Z"},"payload":{"text":"<script>alert('xss')</script> <a href=\"javascript:alert(2)\">javascript:alert(2)</a> \u202Etxt.exe"}}"#
        let added = try CLI.run(["append", "--db", store.db, "--json", "-"], stdin: Array((hostile + "\n").utf8))
        #expect(added.status == 0, "\(added.stderr)")
        let hostileSeq =
            try CLI.run(["verify", "--db", store.db, "--json"]).json["size"]?.uint64Value.map { $0 - 1 } ?? 0
        let port = try TilesWitnessTests.freePort()
        let daemon = try DaemonProcess(store: store, extra: ["--tcp", "127.0.0.1:\(port)"])
        defer { daemon.terminate() }
        let shots = CLI.packageRoot.appendingPathComponent(".build/console-screenshots")
        try? FileManager.default.removeItem(at: shots)
        try FileManager.default.createDirectory(at: shots, withIntermediateDirectories: true)

        let result = try CLI.run(
            [
                CLI.packageRoot.appendingPathComponent("Tests/Browser/console_check.py").path,
                "http://127.0.0.1:\(port)", store.tokens["read"]!, store.tokens["export"]!, store.tokens["ingest"]!,
                store.vkey.description, "\(hostileSeq)", shots.path,
            ], executable: Self.python)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        print(result.stdout)
        for page in ["sign-in", "dashboard", "procedures", "procedure", "procedure-en", "entry", "entry-hostile"] {
            let png = shots.appendingPathComponent("\(page).png")
            let bytes = (try? Data(contentsOf: png)) ?? Data()
            #expect(
                bytes.count > 10_000 && bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]), "\(png.path) is not a screenshot")
        }
        // The bundle the browser downloaded checks offline, with the verifier key alone.
        let bundle = try CLI.run(
            ["verify-bundle", shots.appendingPathComponent("2026-057.zip").path, "--vkey", store.vkey.description])
        #expect(bundle.status == 0, "\(bundle.stdout)\(bundle.stderr)")
        print("console screenshots: \(shots.path)")
    }
}
