import Foundation
import ProbityDomain
import ProbityHTTP
import ProbityLog
import ProbityStore
import Testing

@testable import ProbityFixtures

/// probityd capturing a mailbox as an administrator sets it up: Debian's Dovecot serves the buyer's
/// mailbox on loopback (a throw-away configuration), messages arrive by IMAP APPEND, `mbsync` (isync)
/// syncs them into a Maildir, and a `[[capture]]` section records them.
@Suite("Live capture of a mailbox (Dovecot, mbsync)", .serialized)
struct CaptureMailTests {
    /// A Dovecot IMAP server on 127.0.0.1:`port`, with one user (buyer / secret), run in the foreground.
    final class Dovecot {
        let directory: URL
        let port: Int
        private var process: Process?

        init(directory: URL, port: Int) throws {
            self.directory = directory
            self.port = port
            let binary = "/usr/sbin/dovecot"
            try #require(
                FileManager.default.isExecutableFile(atPath: binary),
                "dovecot is not installed: run Scripts/install-deps.sh --test (dovecot-imapd)")
            for sub in ["run", "state", "mail"] {
                try FileManager.default.createDirectory(
                    at: directory.appendingPathComponent(sub), withIntermediateDirectories: true)
            }
            // As root (CI), Dovecot's login and mail processes must run as other users: Debian's own.
            let asRoot = getuid() == 0
            let me = String(cString: getpwuid(getuid())!.pointee.pw_name)
            let group = String(cString: getgrgid(getgid())!.pointee.gr_name)
            let (internalUser, internalGroup, loginUser) = asRoot ? ("dovecot", "dovecot", "dovenull") : (me, group, me)
            chmod(directory.path, 0o755)
            if asRoot {
                let mail = directory.appendingPathComponent("mail").path
                let dovecot = getpwnam("dovecot")!.pointee
                chown(mail, dovecot.pw_uid, dovecot.pw_gid)
            }
            let path = directory.path
            try "buyer:{PLAIN}secret::::::\n".write(
                toFile: path + "/users", atomically: true, encoding: .utf8)
            try """
            protocols = imap
            listen = 127.0.0.1
            base_dir = \(path)/run
            state_dir = \(path)/state
            log_path = \(path)/dovecot.log
            ssl = no
            disable_plaintext_auth = no
            auth_mechanisms = plain login
            default_internal_user = \(internalUser)
            default_internal_group = \(internalGroup)
            default_login_user = \(loginUser)
            first_valid_uid = 1
            mail_location = maildir:\(path)/mail/%u
            passdb {
              driver = passwd-file
              args = scheme=PLAIN \(path)/users
            }
            userdb {
              driver = static
              args = uid=\(internalUser) gid=\(internalGroup) home=\(path)/mail/%u
            }
            service imap-login {
              chroot =
              inet_listener imap {
                address = 127.0.0.1
                port = \(port)
              }
              inet_listener imaps {
                port = 0
              }
            }
            service anvil {
              chroot =
            }

            """.write(toFile: path + "/dovecot.conf", atomically: true, encoding: .utf8)
            try start()
        }

        func start() throws {
            try? FileManager.default.removeItem(atPath: directory.path + "/run/master.pid")
            // Foundation starts it as a process group leader; its children (auth, login, imap) stay in the
            // group, so that they can be stopped with it.
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/dovecot")
            process.arguments = ["-F", "-c", directory.path + "/dovecot.conf"]
            process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
            process.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try process.run()
            self.process = process
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline {
                if (try? imap(["--check"])) == 0 { return }
                usleep(100_000)
            }
            Issue.record("Dovecot did not start: \(log)")
        }

        /// Stops the server: SIGTERM, and SIGKILL to its whole process group after 5 s (an idle auth process
        /// may ignore the master's request to stop).
        func stop() {
            guard let process, process.isRunning else { return }
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(50_000) }
            kill(-process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            usleep(200_000)
        }

        var log: String { (try? String(contentsOfFile: directory.path + "/dovecot.log", encoding: .utf8)) ?? "" }

        /// Delivers messages into the buyer's INBOX with IMAP APPEND (Python's imaplib).
        func append(_ messages: [[UInt8]]) throws {
            let files = try messages.enumerated().map { index, bytes in
                let file = directory.appendingPathComponent("append-\(UUID().uuidString)-\(index).eml")
                try Data(bytes).write(to: file)
                return file.path
            }
            let status = try imap(files)
            #expect(status == 0, "IMAP APPEND failed: \(log)")
            for file in files { try? FileManager.default.removeItem(atPath: file) }
        }

        private func imap(_ arguments: [String]) throws -> Int32 {
            let script = """
                import imaplib, sys, time
                m = imaplib.IMAP4('127.0.0.1', \(port))
                m.login('buyer', 'secret')
                for path in sys.argv[1:]:
                    if path == '--check':
                        continue
                    with open(path, 'rb') as f:
                        typ, _ = m.append('INBOX', None, imaplib.Time2Internaldate(time.time()), f.read())
                        assert typ == 'OK', typ
                m.logout()
                """
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = ["-c", script] + arguments
            process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
            process.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus
        }

        deinit {
            if let process {
                kill(-process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
    }

    /// `mbsync` pulling the buyer's INBOX into `maildir` (its parent holds mbsync's state).
    struct MailSync {
        let config: String

        init(directory: URL, port: Int, maildir: String) throws {
            config = directory.appendingPathComponent("mbsyncrc").path
            try """
            IMAPAccount buyer
            Host 127.0.0.1
            Port \(port)
            User buyer
            Pass secret
            SSLType None
            AuthMechs LOGIN

            IMAPStore remote
            Account buyer

            MaildirStore local
            Path \(URL(fileURLWithPath: maildir).deletingLastPathComponent().path)/
            Inbox \(maildir)

            Channel inbox
            Far :remote:
            Near :local:
            Patterns INBOX
            Create Near
            SyncState *
            Sync Pull

            """.write(toFile: config, atomically: true, encoding: .utf8)
        }

        func run() throws {
            let binary = "/usr/bin/mbsync"
            try #require(
                FileManager.default.isExecutableFile(atPath: binary),
                "mbsync is not installed: run Scripts/install-deps.sh --test (isync)")
            let result = try CLI.run(["-q", "-c", config, "-a"], executable: binary)
            #expect(result.status == 0, "mbsync: \(result.stderr)")
        }
    }

    static func message(
        id: String?, from: String = "contact@sup-a.fr", subject: String = "Question sur le lot 2 (2026-042)",
        body: String = "Bonjour,\r\nquelle est la date de la visite ?\r\n",
        date: String = "Tue, 10 Mar 2026 10:00:00 +0100"
    ) -> [UInt8] {
        var headers = ["From: \(from)", "To: buyer@ville-exemple.fr", "Subject: \(subject)", "Date: \(date)"]
        if let id { headers.append("Message-ID: \(id)") }
        return Array((headers.joined(separator: "\r\n") + "\r\n\r\n" + body).utf8)
    }

    /// Malformed MIME: multipart parts nested `depth` levels deep (a "MIME bomb"; the reader stops at 32).
    static func nestedMIME(id: String, depth: Int) -> [UInt8] {
        var body = "Content-Type: text/plain\r\n\r\nau fond\r\n"
        for level in 0..<depth {
            body =
                "Content-Type: multipart/mixed; boundary=\"b\(level)\"\r\n\r\n--b\(level)\r\n\(body)\r\n--b\(level)--\r\n"
        }
        let headers =
            "From: contact@sup-a.fr\r\nTo: buyer@ville-exemple.fr\r\nSubject: imbriqué\r\nDate: Tue, 10 Mar 2026 11:00:00 +0100\r\nMessage-ID: \(id)\r\nMIME-Version: 1.0\r\n"
        return Array((headers + body).utf8)
    }

    /// A message with a PDF attachment of `size` bytes (base64 in the message), and the attachment's SHA-256.
    static func withAttachment(id: String, size: Int) -> ([UInt8], String) {
        var generator = SystemRandomNumberGenerator()
        let attachment = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let encoded = Base64.encode(attachment)
        var lines: [String] = []
        var index = encoded.startIndex
        while index < encoded.endIndex {
            let end = encoded.index(index, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
            lines.append(String(encoded[index..<end]))
            index = end
        }
        let text = """
            From: contact@sup-a.fr\r
            To: buyer@ville-exemple.fr\r
            Subject: Offre 2026-042 et annexes\r
            Date: Wed, 11 Mar 2026 09:00:00 +0100\r
            Message-ID: \(id)\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="sep"\r
            \r
            --sep\r
            Content-Type: text/plain; charset=utf-8\r
            \r
            Veuillez trouver notre offre ci-jointe.\r
            --sep\r
            Content-Type: application/pdf; name="offre.pdf"\r
            Content-Disposition: attachment; filename="offre.pdf"\r
            Content-Transfer-Encoding: base64\r
            \r
            \(lines.joined(separator: "\r\n"))\r
            --sep--\r

            """
        return (Array(text.utf8), Hex.encode(SHA256.hash(attachment)))
    }

    /// Waits until the capture has handled every message file in the Maildir (recorded or failed).
    static func settle(_ store: DaemonStore, maildir: String, timeout: TimeInterval = 60) throws -> [CaptureLedger.Item]
    {
        let deadline = Date().addingTimeInterval(timeout)
        var items: [CaptureLedger.Item] = []
        while Date() < deadline {
            let names = Set(
                ["new", "cur"].flatMap { sub in
                    ((try? FileManager.default.contentsOfDirectory(atPath: maildir + "/" + sub)) ?? []).map {
                        String($0.prefix { $0 != ":" })
                    }
                })
            items = (try? CaptureLedger.open(path: store.db, readOnly: true).list(capture: "inbox")) ?? []
            if !names.isEmpty, names.isSubset(of: Set(items.map(\.item))) { return items }
            usleep(200_000)
        }
        Issue.record("the capture did not handle every message within \(timeout) s")
        return items
    }

    /// The exchanges captured from e-mail, by source id (a duplicate would appear twice).
    static func exchanges(_ store: DaemonStore) throws -> [String: [DomainState.Record]] {
        let state = try LogReader.open(path: store.db).domainState()
        return Dictionary(grouping: state.records.filter { $0.isExchange && $0.channel == .email }) {
            $0.source?.id ?? ""
        }
    }

    @Test(
        "a mailbox synced by mbsync is recorded once across SIGKILL of probityd, a Dovecot restart and a re-sync from scratch; bad messages are listed and retried"
    )
    func mailbox() throws {
        let store = try DaemonStore()
        let dir = store.directory
        let dovecot = try Dovecot(
            directory: dir.appendingPathComponent("dovecot"), port: try TilesWitnessTests.freePort())
        // mbsync creates the Maildir (and keeps its sync state in it).
        let maildir = dir.appendingPathComponent("mail/INBOX").path
        try FileManager.default.createDirectory(
            atPath: dir.appendingPathComponent("mail").path, withIntermediateDirectories: true)
        let sync = try MailSync(directory: dir, port: dovecot.port, maildir: maildir)
        let mapping = dir.appendingPathComponent("parties.json").path
        func writeMapping(_ extra: String = "") throws {
            try """
            {"accounts": {"buyer@ville-exemple.fr": "agent-b", "contact@sup-a.fr": "sup-a"\(extra)}, "buyers": ["agent-b"]}
            """.write(toFile: mapping, atomically: true, encoding: .utf8)
        }
        try writeMapping()
        let config = dir.appendingPathComponent("probityd.toml").path
        try """
        [[capture]]
        name = "inbox"
        kind = "maildir"
        path = "\(maildir)"
        mapping = "\(mapping)"
        rescan_seconds = 1
        max_raw_bytes = 1000000

        """.write(toFile: config, atomically: true, encoding: .utf8)

        // The first delivery: ordinary messages, one without Message-ID, a huge attachment, an unmapped
        // sender, a message that is not MIME at all, and one message delivered twice.
        let (big, bigDigest) = Self.withAttachment(id: "<offre@sup-a.fr>", size: 3_000_000)
        var first = (1...10).map { Self.message(id: "<m\($0)@sup-a.fr>") }
        first += [
            Self.message(id: nil, body: "Message sans identifiant.\r\n"), big,
            Self.message(id: "<x1@inconnu.example>", from: "someone@inconnu.example"),
            Self.nestedMIME(id: "<bombe@sup-a.fr>", depth: 40),
            Self.message(id: "<m1@sup-a.fr>"),
        ]
        try dovecot.append(first)
        try sync.run()
        var daemon = try DaemonProcess(store: store, extra: ["--config", config])
        var items = try Self.settle(store, maildir: maildir)
        #expect(items.filter { $0.state == .failed }.count == 2, "\(items)")

        // probityd killed while it captures a second delivery, then restarted; Dovecot restarted too.
        try dovecot.append((11...30).map { Self.message(id: "<m\($0)@sup-a.fr>") })
        try sync.run()
        usleep(UInt32.random(in: 0...300_000))
        daemon.kill9()
        dovecot.stop()
        try dovecot.start()
        try dovecot.append((31...35).map { Self.message(id: "<m\($0)@sup-a.fr>") })
        daemon = try DaemonProcess(store: store, extra: ["--config", config])
        defer { daemon.terminate() }
        try sync.run()
        items = try Self.settle(store, maildir: maildir)

        // A re-sync from scratch (mbsync's state lost): every message arrives again under new names.
        try FileManager.default.removeItem(atPath: maildir)
        try sync.run()
        items = try Self.settle(store, maildir: maildir)

        var exchanges = try Self.exchanges(store)
        #expect(exchanges.values.allSatisfy { $0.count == 1 }, "an exchange was recorded twice")
        #expect((1...35).allSatisfy { exchanges["<m\($0)@sup-a.fr>"] != nil })
        #expect(exchanges.keys.contains { $0.hasPrefix("sha256:") }, "the message without Message-ID")
        #expect(exchanges.count == 37, "\(exchanges.keys.sorted())")
        #expect(exchanges["<m1@sup-a.fr>"]?.first?.procedure == "2026-042")

        // The huge attachment: hashed in the entry, its raw message left out of the payload (over max_raw_bytes).
        let offer = try #require(exchanges["<offre@sup-a.fr>"]?.first)
        let entry = try #require(try LogReader.open(path: store.db).entry(seq: offer.seq))
        let data = try JSONParser.parse(entry.bytes)["data"]
        #expect(data?["attachments"]?.arrayValue?.first?["sha256"]?.stringValue == bigDigest)
        let payload = try JSONParser.parse(try #require(entry.payload).bytes)
        #expect(payload["raw"] == nil && payload["raw_omitted"] != nil)

        // What failed is listed with its reason; the unmapped sender is recorded once the mapping knows it.
        let status = try CLI.run(["capture", "status", "--db", store.db, "--failed", "--json"])
        #expect(status.status == 0, "\(status.stderr)")
        let failed = status.json["items"]?.arrayValue ?? []
        #expect(failed.count == 2, "\(status.stdout)")
        #expect(failed.contains { $0["detail"]?.stringValue?.contains("someone@inconnu.example") == true })
        #expect(failed.contains { $0["detail"]?.stringValue?.contains("nested deeper") == true })
        try writeMapping(#", "someone@inconnu.example": "sup-a""#)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, (try Self.exchanges(store))["<x1@inconnu.example>"] == nil { usleep(200_000) }
        exchanges = try Self.exchanges(store)
        #expect(exchanges["<x1@inconnu.example>"]?.count == 1)

        let metrics = try HTTPConnection(.unix(path: store.socket)).request("GET", "/metrics").text
        #expect(metrics.contains(#"probity_capture_items_total{capture="inbox",outcome="recorded"}"#), "\(metrics)")
        #expect(daemon.terminate() == 0)
        let verified = try verify(store.db)
        #expect(verified.status == 0 && verified.intact, "\(verified.json)")
    }
}
