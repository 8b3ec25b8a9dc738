import Foundation
import ProbityCapture
import Testing

@testable import ProbityFixtures
@testable import ProbityServer

@Suite("daemon settings")
struct DaemonSettingsTests {
    @Test("the example configuration shipped in systemd/ parses and validates")
    func exampleConfiguration() throws {
        let path = #filePath.replacingOccurrences(
            of: "Tests/ProbityServerTests/DaemonSettingsTests.swift", with: "systemd/probityd.toml")
        var settings = DaemonSettings()
        try settings.apply(toml: try String(contentsOfFile: path, encoding: .utf8), file: path)
        try settings.validate()
        #expect(settings.storePath == "/var/lib/probity/log.sqlite")
        #expect(settings.keyCredential == "signing-key" && settings.keyFile == nil)
        #expect(settings.socketPath == "/run/probity/probityd.sock" && settings.tcp == nil)
    }

    @Test("every setting read from TOML, and printed back to the same settings")
    func roundTrip() throws {
        var settings = DaemonSettings()
        try settings.apply(
            toml: """
                [store]
                path = "/srv/log.sqlite"
                origin = "a.example/probity"
                url = "postgres://probity@db1.example:5432/probity?sslmode=verify-full"
                [signing]
                key_file = "/etc/k.pem"
                [listen]
                socket = "/tmp/p.sock"
                tcp = "[::1]:8787"
                [limits]
                max_body_bytes = 2048
                max_batch_events = 10
                [commit]
                window_ms = 1.5
                max_events = 100
                [tiles]
                prefix = "/public/tlog"
                listen = "127.0.0.1:8789"
                """, file: "t.toml")
        try settings.validate()
        #expect(try settings.tcpAddress(settings.tcp!) == ("::1", 8787))
        #expect(settings.tilesPrefix == "/public/tlog" && settings.tilesListen == "127.0.0.1:8789")
        #expect(try settings.postgresLocation() != nil)
        var again = DaemonSettings()
        try again.apply(toml: settings.tomlDescription, file: "printed")
        #expect(again == settings)
    }

    @Test("[[capture]] sections: one per folder, read and printed back; the folder and mapping are checked")
    func captures() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("probity-settings-\(UUID().uuidString)")
        for sub in ["INBOX/cur", "INBOX/new", "INBOX/tmp", "depot"] {
            try FileManager.default.createDirectory(
                at: dir.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        defer { try? FileManager.default.removeItem(at: dir) }
        try #"{"accounts": {}}"#.write(to: dir.appendingPathComponent("p.json"), atomically: true, encoding: .utf8)
        var settings = DaemonSettings()
        try settings.apply(
            toml: """
                [[capture]]
                path = "\(dir.path)/INBOX"
                mapping = "\(dir.path)/p.json"
                reference = "MAPA-[0-9]+"
                by_candidacy = false
                rescan_seconds = 30
                [[capture]]
                name = "depot"
                kind = "drop"
                path = "\(dir.path)/depot"
                register = "supplier_contact"
                procedure = "2026-057"
                reference = ""
                """, file: "t.toml")
        try settings.validate()
        #expect(settings.captures.map(\.name) == ["INBOX", "depot"])
        #expect(settings.captures[0].tagging.reference == "MAPA-[0-9]+" && !settings.captures[0].tagging.byCandidacy)
        #expect(settings.captures[1].kind == .drop && settings.captures[1].tagging.reference == nil)
        var again = DaemonSettings()
        try again.apply(toml: settings.tomlDescription, file: "printed")
        #expect(again == settings)

        for (toml, message) in [
            ("[[capture]]\npath = \"\(dir.path)/depot\"\n", "is not a Maildir: it has no cur/"),
            ("[[capture]]\nkind = \"imap\"\npath = \"x\"\n", "capture[0].kind: must be \"maildir\" or \"drop\""),
            (
                "[[capture]]\nkind = \"drop\"\npath = \"\(dir.path)/depot\"\nmapping = \"/nonexistent.json\"\n",
                "cannot read the mapping"
            ),
            (
                "[[capture]]\nkind = \"drop\"\npath = \"\(dir.path)/depot\"\nreference = \"(\"\n",
                "is not a regular expression"
            ),
            ("[[capture]]\nkind = \"drop\"\n", "capture[0].path: must be set"),
            (
                "[[capture]]\nkind = \"drop\"\npath = \"\(dir.path)/depot\"\nwatch = true\n",
                "unknown key capture[0].watch"
            ),
            ("[capture]\npath = \"x\"\n", "capture must be an array of tables"),
        ] {
            var bad = DaemonSettings()
            #expect {
                try bad.apply(toml: toml, file: "t.toml")
                try bad.validate()
            } throws: { ($0 as? DaemonSettings.Invalid)?.message.contains(message) == true }
        }
    }

    @Test(
        "errors name the key and what is wrong",
        arguments: [
            ("[store]\npath = 3\n", "store.path: must be a string, got integer"),
            ("[limits]\nmax_batch_events = 0\n", "limits.max_batch_events: must be at least 1"),
            ("[limits]\nmax_body_bytes = 10\n", "limits.max_body_bytes: must be at least 1024"),
            ("[listen]\ntcp = \"10.0.0.1:80\"\n", "not a loopback address"),
            ("[listen]\ntcp = \"127.0.0.1:0\"\n", "the port must be 1–65535"),
            ("[listen]\nallow_non_loopback = 1\n", "listen.allow_non_loopback: must be true or false"),
            ("[commit]\nmax_events = 5\n", "commit.max_events: must be at least limits.max_batch_events"),
            ("[signing]\nkey_credential = \"a/b\"\n", "signing.key_credential"),
            ("[store]\norigin = \"a b\"\n", "store.origin"),
            ("[store]\npaht = \"x\"\n", "unknown key store.paht; [store] has origin, path"),
            ("store = 1\n", "store must be a section"),
            ("[store]\npath = \"x\"\npath = \"y\"\n", "t.toml:3:"),
            ("[tiles]\nprefix = \"tlog\"\n", "tiles.prefix: must be a path such as /tlog"),
            ("[tiles]\nprefix = \"/tlog/\"\n", "tiles.prefix"),
            ("[tiles]\nprefix = \"/v1/tiles\"\n", "not under /v1"),
            ("[tiles]\nlisten = \"0.0.0.0:80\"\n", "tiles.listen: 0.0.0.0 is not a loopback address"),
            ("[console]\nsession_minutes = 0\n", "console.session_minutes: must be between 1 and 1440"),
            ("[store]\nurl = \"postgres://probity:secret@db/probity\"\n", "store.url: the store URL"),
            ("[store]\nurl = \"postgres://db/probity?sslmode=prefer\"\n", "store.url:"),
            (
                "[store]\nurl = \"postgres://probity@db/probity\"\n[[capture]]\nkind = \"maildir\"\npath = \"/m\"\n",
                "[[capture]] is not available with a PostgreSQL store"
            ),
        ])
    func invalid(_ toml: String, _ message: String) {
        var settings = DaemonSettings()
        #expect {
            try settings.apply(toml: toml, file: "t.toml")
            try settings.validate()
        } throws: { error in
            let text = (error as? DaemonSettings.Invalid)?.message ?? "\(error)"
            return text.contains(message)
        }
    }
}
