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

    /// Debian's nginx running `systemd/nginx-probity.conf` in front of `socket`, on 127.0.0.1:`port`, with a
    /// self-signed certificate for 127.0.0.1 made by openssl (ECDSA P-256: browsers take no Ed25519 certificate).
    final class Nginx {
        let process = Process()

        init(directory: URL, socket: String, port: Int) throws {
            try #require(
                FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx"),
                "nginx is not installed: run Scripts/install-deps.sh --test")
            let d = directory.path
            for sub in ["logs", "tmp"] {
                try FileManager.default.createDirectory(atPath: "\(d)/\(sub)", withIntermediateDirectories: true)
            }
            let certificate = try CLI.run(
                [
                    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", "\(d)/probity.key", "-out", "\(d)/probity.pem",
                ], executable: "/usr/bin/openssl")
            try #require(certificate.status == 0, "\(certificate.stderr)")
            // The example site, with this test's socket, certificate and port.
            let example = try String(
                contentsOf: CLI.packageRoot.appendingPathComponent("systemd/nginx-probity.conf"), encoding: .utf8)
            let site = example.replacingOccurrences(of: "listen 443 ssl", with: "listen 127.0.0.1:\(port) ssl")
                .replacingOccurrences(of: "listen [::]:443 ssl http2;\n", with: "")
                .replacingOccurrences(of: "/run/probity/probityd.sock", with: socket)
                .replacingOccurrences(of: "/etc/ssl/certs/probity.ville-exemple.fr.pem", with: "\(d)/probity.pem")
                .replacingOccurrences(of: "/etc/ssl/private/probity.ville-exemple.fr.key", with: "\(d)/probity.key")
            try site.write(toFile: "\(d)/site.conf", atomically: true, encoding: .utf8)
            // As root (CI), workers run as root so that they may open the test's socket, as www-data in the
            // probity group does in production.
            try """
            \(getuid() == 0 ? "user root;" : "")
            worker_processes 1;
            pid \(d)/nginx.pid;
            error_log \(d)/logs/error.log;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path \(d)/tmp/body;
                proxy_temp_path \(d)/tmp/proxy;
                fastcgi_temp_path \(d)/tmp/fastcgi;
                uwsgi_temp_path \(d)/tmp/uwsgi;
                scgi_temp_path \(d)/tmp/scgi;
                include \(d)/site.conf;
            }

            """.write(toFile: "\(d)/nginx.conf", atomically: true, encoding: .utf8)
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
            process.arguments = ["-p", d, "-c", "\(d)/nginx.conf", "-g", "daemon off;"]
            process.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try process.run()
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline {
                let probe = try CLI.run(
                    ["-sk", "-o", "/dev/null", "https://127.0.0.1:\(port)/healthz"], executable: "/usr/bin/curl")
                if probe.status == 0 { return }
                usleep(100_000)
            }
            Issue.record(
                "nginx did not start: \((try? String(contentsOfFile: "\(d)/logs/error.log", encoding: .utf8)) ?? "")")
        }

        deinit {
            // The master and its worker are one process group (Foundation makes the child a group leader).
            kill(-process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// A supplier's message whose text is an attack on the page that shows it; appended last, it is entry 34.
    static let hostile =
        #"{"type":"exchange.recorded","data":{"procedure":"2026-057","channel":"email","kind":"message","visibility":"direct","from":"contact-girard","to":["agent-lefevre"],"source":{"platform":"email","id":"<xss@example>"},"occurred_at":"2026-03-20T10:00:00Z"},"payload":{"text":"<script>alert('xss')</script> <a href=\"javascript:alert(2)\">javascript:alert(2)</a> \u202Etxt.exe"}}"#

    @Test("the example nginx site serves the console over TLS: the same browser checks pass behind it, with HSTS")
    func behindNginx() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.python), "run Scripts/install-deps.sh --test")
        let store = try DaemonStore(seeded: false)
        let scenario = CLI.packageRoot.appendingPathComponent("examples/scenario.jsonl").path
        #expect(try CLI.run(["append", "--db", store.db, "--quiet", scenario]).status == 0)
        #expect(
            try CLI.run(["append", "--db", store.db, "--quiet", "-"], stdin: Array((Self.hostile + "\n").utf8)).status
                == 0)
        #expect(try CLI.run(["verify", "--db", store.db, "--vkey", store.vkey.description]).status == 0)
        let daemon = try DaemonProcess(store: store)
        defer { daemon.terminate() }
        let port = try TilesWitnessTests.freePort()
        let nginx = try Nginx(
            directory: store.directory.appendingPathComponent("nginx"), socket: store.socket, port: port)
        let url = "https://127.0.0.1:\(port)"
        let head = try CLI.run(["-sk", "-D", "-", "-o", "/dev/null", url + "/ui/sign-in"], executable: "/usr/bin/curl")
        #expect(head.stdout.lowercased().contains("strict-transport-security: max-age=31536000"), "\(head.stdout)")
        #expect(head.stdout.lowercased().contains("content-security-policy: default-src 'none'"), "\(head.stdout)")
        let shots = CLI.packageRoot.appendingPathComponent(".build/console-screenshots/tls")
        try? FileManager.default.removeItem(at: shots)
        try FileManager.default.createDirectory(at: shots, withIntermediateDirectories: true)
        let result = try CLI.run(
            [
                CLI.packageRoot.appendingPathComponent("Tests/Browser/console_check.py").path, url,
                store.tokens["read"]!, store.tokens["export"]!, store.tokens["ingest"]!, store.vkey.description, "34",
                shots.path,
            ], executable: Self.python,
            environment: ProcessInfo.processInfo.environment.merging(["PROBITY_TEST_TLS": "1"]) { $1 })
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let bundle = try CLI.run(
            ["verify-bundle", shots.appendingPathComponent("2026-057.zip").path, "--vkey", store.vkey.description])
        #expect(bundle.status == 0, "\(bundle.stdout)\(bundle.stderr)")
        withExtendedLifetime(nginx) {}
    }

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
        let added = try CLI.run(["append", "--db", store.db, "--json", "-"], stdin: Array((Self.hostile + "\n").utf8))
        #expect(added.status == 0, "\(added.stderr)")
        let hostileSeq =
            try CLI.run(["verify", "--db", store.db, "--json"]).json["size"]?.uint64Value.map { $0 - 1 } ?? 0
        let port = try TilesWitnessTests.freePort()
        #expect(try CLI.run(["verify", "--db", store.db, "--vkey", store.vkey.description]).status == 0)
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
        for page in [
            "sign-in", "dashboard", "procedures", "procedure", "procedure-en", "party", "entry", "entry-hostile",
        ] {
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
