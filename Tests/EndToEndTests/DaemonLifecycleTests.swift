import CoreFoundation
import Foundation
import Glibc
import ProbityClient
import ProbityDomain
import ProbityHTTP
import ProbityLog
import ProbityStore
import Testing

@testable import ProbityFixtures

/// Start-up, configuration, systemd integration, shutdown, and an unwritable store.
@Suite("probityd lifecycle", .serialized)
struct DaemonLifecycleTests {
    /// A datagram socket standing in for systemd's notify socket.
    final class NotifySocket {
        let path: String
        let fd: Int32

        init(path: String) throws {
            self.path = path
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            guard bound == 0 else { throw ClientError("cannot bind \(path)") }
            var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        /// The messages received until `until` returns true for them (or the timeout).
        func receive(timeout: TimeInterval = 20, until: ([String]) -> Bool) -> [String] {
            var messages: [String] = []
            let deadline = Date().addingTimeInterval(timeout)
            var buffer = [UInt8](repeating: 0, count: 4096)
            while Date() < deadline && !until(messages) {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n > 0 { messages.append(String(decoding: buffer[0..<n], as: UTF8.self)) }
            }
            return messages
        }

        deinit { close(fd); unlink(path) }
    }

    @Test func notifiesSystemdAndStopsCleanlyOnSIGTERM() throws {
        let store = try DaemonStore()
        let notify = try NotifySocket(path: store.directory.appendingPathComponent("notify").path)
        let daemon = try DaemonProcess(
            store: store, environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000"], wait: false)
        let started = notify.receive {
            $0.contains { $0.contains("READY=1") } && $0.filter { $0 == "WATCHDOG=1" }.count >= 2
        }
        #expect(started.contains { $0.hasPrefix("STATUS=opening") })
        let ready = try #require(started.first { $0.contains("READY=1") })
        #expect(ready.contains("STATUS=serving \(store.base) entries on \(store.socket)"))
        #expect(started.filter { $0 == "WATCHDOG=1" }.count >= 2, "\(started)")
        // Ready means the socket accepts group members.
        var info = stat()
        #expect(stat(store.socket, &info) == 0 && info.st_mode & 0o777 == 0o660)

        // Appends in flight when SIGTERM arrives are finished and acknowledged; then exit 0.
        let results = Locked<[Int]>([])
        let threads = (0..<8).map { index in
            Thread {
                let client = store.client()
                for i in 0..<200 {
                    do {
                        _ = try client.send("POST", "/v1/events", body: TestEvents.exchange("t\(index)-\(i)"))
                        results.withLock { $0.append(201) }
                    } catch let failure as DaemonClient.APIFailure {
                        results.withLock { $0.append(failure.status) }
                    } catch { return }
                }
            }
        }
        threads.forEach { $0.start() }
        usleep(300_000)
        #expect(daemon.terminate() == 0, "\(daemon.stderr)")
        let stopping = notify.receive(timeout: 2) { $0.contains { $0.hasPrefix("STOPPING=1") } }
        #expect(stopping.contains { $0.hasPrefix("STOPPING=1") })
        usleep(200_000)
        let statuses = results.withLock { $0 }
        #expect(statuses.allSatisfy { $0 == 201 || $0 == 503 }, "\(Set(statuses))")
        #expect(
            try LogReader.open(path: store.db).size() == store.base + UInt64(statuses.filter { $0 == 201 }.count),
            "every acknowledged append is in the log")
        #expect(!FileManager.default.fileExists(atPath: store.socket), "the socket is removed on exit")
        #expect(daemon.stderr.contains("<5>probityd stopped"), "journald priority prefixes: \(daemon.stderr)")
    }

    @Test func aSecondDaemonOnTheSameStoreOrSocketRefusesToStart() throws {
        let store = try DaemonStore()
        let first = try DaemonProcess(store: store)
        defer { first.terminate() }

        let sameStore = try DaemonProcess(
            ["--store", store.db, "--socket", store.directory.appendingPathComponent("other.sock").path],
            socket: store.directory.appendingPathComponent("other.sock").path, wait: false)
        #expect(sameStore.exitStatus() == 1)
        #expect(
            sameStore.stderr.contains("is being written by process \(first.process.processIdentifier)"),
            "\(sameStore.stderr)")

        let other = try DaemonStore()
        let sameSocket = try DaemonProcess(
            ["--store", other.db, "--socket", store.socket], socket: store.socket, wait: false)
        #expect(sameSocket.exitStatus() == 1)
        #expect(
            sameSocket.stderr.contains(
                "another probityd (process \(first.process.processIdentifier)) is serving the socket"),
            "\(sameSocket.stderr)")
        // The first daemon keeps its socket and serves.
        #expect(try store.client().send("POST", "/v1/events", body: TestEvents.exchange("still-here")).status == 201)
    }

    @Test func badConfigurationStopsTheStartWithTheKeyNamed() throws {
        let store = try DaemonStore()
        let dir = store.directory
        func start(_ toml: String?, _ extra: [String] = []) throws -> (Int32?, String) {
            var args = extra
            if let toml {
                let file = dir.appendingPathComponent("probityd-\(UUID().uuidString.prefix(6)).toml").path
                try Data(toml.utf8).write(to: URL(fileURLWithPath: file))
                args = ["--config", file] + args
            }
            let daemon = try DaemonProcess(args, socket: store.socket, wait: false)
            return (daemon.exitStatus(), daemon.stderr)
        }
        let valid = "[store]\npath = \"\(store.db)\"\n[listen]\nsocket = \"\(store.socket)\"\n"
        let cases: [(String?, [String], String)] = [
            (valid + "[limits]\nmax_body_byte = 10\n", [], "unknown key limits.max_body_byte"),
            (valid + "[limits]\nmax_body_bytes = \"big\"\n", [], "limits.max_body_bytes: must be an integer"),
            (valid + "[lmits]\n", [], "unknown section [lmits]"),
            ("[store\npath = 1", [], ":1:"),
            (valid + "[listen]\n", [], "listen"),
            (valid, ["--tcp", "0.0.0.0:8787"], "not a loopback address"),
            (valid, ["--tcp", "localhost"], "listen.tcp: must be HOST:PORT"),
            (valid + "[commit]\nwindow_ms = -1\n", [], "commit.window_ms"),
            (valid + "[signing]\nkey_file = \"/k\"\nkey_credential = \"k\"\n", [], "both set"),
            (valid + "[signing]\nkey_credential = \"signing-key\"\n", [], "CREDENTIALS_DIRECTORY"),
            (
                nil, ["--store", dir.appendingPathComponent("none.sqlite").path, "--socket", store.socket],
                "no store at"
            ),
        ]
        for (toml, extra, message) in cases {
            let (status, stderr) = try start(toml, extra)
            #expect(status == 2, "\(message): exit \(String(describing: status)) \(stderr)")
            #expect(stderr.contains(message), "expected \"\(message)\" in: \(stderr)")
        }
        // A key that group or others may read is refused.
        let key = dir.appendingPathComponent("log.key.pem").path
        chmod(key, 0o644)
        let (status, stderr) = try start(valid)
        #expect(status == 2 && stderr.contains("readable by group or others"), "\(stderr)")
        chmod(key, 0o600)
        #expect(!FileManager.default.fileExists(atPath: store.socket), "no socket was created by a refused start")
        // --print-config shows the merged settings.
        let printed = try CLI.run(
            ["--config", dir.appendingPathComponent("p.toml").path, "--print-config"], executable: DaemonProcess.binary)
        #expect(printed.status == 2)
        try Data((valid + "[commit]\nwindow_ms = 2\n").utf8).write(to: dir.appendingPathComponent("p.toml"))
        let merged = try CLI.run(
            ["--config", dir.appendingPathComponent("p.toml").path, "--max-batch-events", "50", "--print-config"],
            executable: DaemonProcess.binary)
        #expect(
            merged.status == 0 && merged.stdout.contains("max_batch_events = 50")
                && merged.stdout.contains("window_ms = 2.0"), "\(merged.stdout)\(merged.stderr)")
    }

    @Test func theKeyCanComeFromASystemdCredentialAndTheStoreIsCreatedOnFirstStart() throws {
        let dir = try CLI.temporaryDirectory()
        let credentials = dir.appendingPathComponent("credentials")
        try FileManager.default.createDirectory(at: credentials, withIntermediateDirectories: true)
        let key = try Ed25519PrivateKey.generate()
        let keyPath = credentials.appendingPathComponent("signing-key").path
        FileManager.default.createFile(
            atPath: keyPath, contents: Data(key.pem.utf8), attributes: [.posixPermissions: 0o400])
        let db = dir.appendingPathComponent("state/log.sqlite").path
        let socket = dir.appendingPathComponent("run/probityd.sock").path
        let daemon = try DaemonProcess(
            ["--store", db, "--origin", "cred.example/probity", "--key-credential", "signing-key", "--socket", socket],
            socket: socket, environment: ["CREDENTIALS_DIRECTORY": credentials.path])
        #expect(daemon.terminate() == 0)
        let reader = try LogReader.open(path: db)
        #expect(reader.origin == "cred.example/probity")
        #expect(
            try reader.checkpoint().isSigned(by: NoteSigner(name: "cred.example/probity", privateKey: key).verifier))
    }

    @Test func systemdUnitsVerify() throws {
        let unit = try String(
            contentsOf: CLI.packageRoot.appendingPathComponent("systemd/probityd.service"), encoding: .utf8)
        for directive in [
            "Type=notify", "NotifyAccess=main", "WatchdogSec=", "Restart=on-failure", "StateDirectory=",
            "RuntimeDirectory=",
            "LoadCredential=signing-key:", "ProtectSystem=strict", "ProtectHome=", "PrivateTmp=", "NoNewPrivileges=",
            "CapabilityBoundingSet=", "RestrictAddressFamilies=", "SystemCallFilter=@system-service",
        ] {
            #expect(unit.contains(directive), "the unit lacks \(directive)")
        }
        let dir = try CLI.temporaryDirectory()
        let copy = dir.appendingPathComponent("probityd.service")
        // systemd-analyze checks that ExecStart's binary exists: point it at the one just built.
        try Data(unit.replacingOccurrences(of: "/usr/local/bin/probityd", with: DaemonProcess.binary).utf8).write(
            to: copy)
        let verify = try CLI.run(["verify", "--man=no", copy.path], executable: "/usr/bin/systemd-analyze")
        #expect(verify.status == 0 && verify.stderr.isEmpty, "\(verify.stdout)\(verify.stderr)")
        let security = try CLI.run(["security", "--offline=true", copy.path], executable: "/usr/bin/systemd-analyze")
        let line =
            security.stdout.split(separator: "\n").first { $0.contains("Overall exposure level") }.map(String.init)
            ?? ""
        let score = Double(line.split(separator: ":").last?.split(separator: " ").first ?? "") ?? 99
        #expect(score <= 2.0, "\(line)")
        // The witness's unit too (it runs `probity witness serve`, on TCP).
        let witnessUnit = try String(
            contentsOf: CLI.packageRoot.appendingPathComponent("systemd/probity-witness.service"), encoding: .utf8)
        let witnessCopy = dir.appendingPathComponent("probity-witness.service")
        try Data(witnessUnit.replacingOccurrences(of: "/usr/local/bin/probity ", with: CLI.binary + " ").utf8).write(
            to: witnessCopy)
        let witnessVerify = try CLI.run(
            ["verify", "--man=no", witnessCopy.path], executable: "/usr/bin/systemd-analyze")
        #expect(
            witnessVerify.status == 0 && witnessVerify.stderr.isEmpty, "\(witnessVerify.stdout)\(witnessVerify.stderr)")
        let witnessSecurity = try CLI.run(
            ["security", "--offline=true", witnessCopy.path], executable: "/usr/bin/systemd-analyze")
        #expect(witnessSecurity.stdout.contains("OK"), "\(witnessSecurity.stdout)")
        // The install script stages everything under --root.
        let root = dir.appendingPathComponent("root").path
        let binaries = URL(fileURLWithPath: DaemonProcess.binary).deletingLastPathComponent().path
        let installed = try CLI.run(
            [CLI.packageRoot.appendingPathComponent("Scripts/install.sh").path, "--root", root, "--bin-dir", binaries],
            executable: "/bin/bash")
        #expect(installed.status == 0, "\(installed.stdout)\(installed.stderr)")
        for file in [
            "/usr/local/bin/probityd", "/usr/local/bin/probity", "/etc/systemd/system/probityd.service",
            "/etc/sysusers.d/probity.conf",
            "/etc/tmpfiles.d/probity.conf", "/etc/probity/probityd.toml", "/etc/probity/signing-key.pem",
        ] {
            #expect(FileManager.default.fileExists(atPath: root + file), "\(file) not installed")
        }
        var info = stat()
        #expect(stat(root + "/etc/probity/signing-key.pem", &info) == 0 && info.st_mode & 0o077 == 0)
        #expect(
            (try? Ed25519PrivateKey(pem: String(contentsOfFile: root + "/etc/probity/signing-key.pem", encoding: .utf8)))
                != nil,
            "the generated key is an Ed25519 PEM key probityd can load")
    }
}
