import Foundation
import ProbityDomain
import ProbityLog
import Testing

@testable import ProbityFixtures

/// The HTML export as a reader sees it: rendered by headless Chromium (Debian's `chromium`, installed by
/// `Scripts/install-deps.sh --test`) to a PNG and a DOM dump. The PNG is decoded with Python's standard
/// library (Tests/Fixtures/render/png_colours.py): it must have ink, and both the blue of public exchanges
/// and the red of private ones.
@Suite("HTML export rendered in Chromium")
struct RenderTests {
    static var chromium: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test("The HTML timeline renders: non-blank, headings in the DOM, public and private told apart by colour")
    func rendersInChromium() throws {
        let browser = try #require(Self.chromium, "chromium is missing: run Scripts/install-deps.sh --test")
        let (dir, db) = try redactedScenarioStore()
        let html = dir.appendingPathComponent("2026-057.html")
        #expect(
            try CLI.run([
                "export", "timeline", "--db", db, "--procedure", "2026-057", "--format", "html", "--lang", "fr", "-o",
                html.path,
            ]).status == 0)

        let flags = [
            "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
            "--disable-dev-shm-usage",
            "--user-data-dir=" + dir.appendingPathComponent("chromium-profile").path,
        ]
        let dom = try CLI.run(flags + ["--dump-dom", html.absoluteString], executable: browser)
        #expect(dom.status == 0, "\(dom.stderr)")
        for heading in [
            "<h1>Procédure 2026-057</h1>", "<h2>Chronologie</h2>", "<h2>Signalements</h2>",
            "<h2>Point de contrôle signé et vérification</h2>",
        ] {
            #expect(dom.stdout.contains(heading), "\(heading) is not in the rendered DOM")
        }
        #expect(
            dom.stdout.contains("class=\"event private redacted\"") && dom.stdout.contains("class=\"event public\""))

        let png = dir.appendingPathComponent("page.png")
        let shot = try CLI.run(
            flags + ["--window-size=1024,2400", "--screenshot=" + png.path, html.absoluteString], executable: browser)
        #expect(shot.status == 0 && FileManager.default.fileExists(atPath: png.path), "\(shot.stderr)")
        let script = CLI.packageRoot.appendingPathComponent("Tests/Fixtures/render/png_colours.py").path
        let analysed = try CLI.run(["python3", script, png.path, "2a7ab0", "c0392b"], executable: "/usr/bin/env")
        #expect(analysed.status == 0, "\(analysed.stderr)")
        let result = analysed.json
        #expect(result["width"]?.uint64Value == 1024)
        #expect((result["ink"]?.doubleValue ?? 0) > 0.02, "the page looks blank: \(analysed.stdout)")
        #expect((result["colours"]?["2a7ab0"]?.doubleValue ?? 0) > 20, "no blue (public) border: \(analysed.stdout)")
        #expect((result["colours"]?["c0392b"]?.doubleValue ?? 0) > 20, "no red (private) border: \(analysed.stdout)")
    }
}
