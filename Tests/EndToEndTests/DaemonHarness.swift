import Foundation
import ProbityClient
import ProbityDomain
import ProbityHTTP
import ProbityLog
import Testing

@testable import ProbityFixtures

/// A store made with the CLI, with one token per role, for daemon tests.
struct DaemonStore {
    let directory: URL
    var db: String { directory.appendingPathComponent("log.sqlite").path }
    var socket: String { directory.appendingPathComponent("probityd.sock").path }
    var vkey: NoteVerifier
    var tokens: [String: String] = [:]

    /// Entries in the new store: `log.created`, then `TestEvents.seed` unless `seeded` is false.
    let base: UInt64

    init(directory: URL? = nil, seeded: Bool = true) throws {
        base = seeded ? 4 : 1
        self.directory = try directory ?? CLI.temporaryDirectory()
        let db = self.directory.appendingPathComponent("log.sqlite").path
        let created = try CLI.run(["init", "--db", db, "--origin", "test.example/probity", "--json"])
        #expect(created.status == 0, "\(created.stderr)")
        vkey = try NoteVerifier(created.json["verifier_key"]?.stringValue ?? "")
        for role in ["ingest", "read", "export", "admin"] {
            let token = try CLI.run([
                "tokens", "create", "--db", db, "--name", "\(role)-token", "--role", role, "--json",
            ])
            #expect(token.status == 0, "\(token.stderr)")
            tokens[role] = token.json["token"]?.stringValue
        }
        if seeded {
            let appended = try CLI.run(["append", "--db", db, "--quiet", "-"], stdin: TestEvents.seed)
            #expect(appended.status == 0, "\(appended.stderr)")
        }
    }

    func client(_ role: String = "ingest", timeout: Int = 30) -> DaemonClient {
        DaemonClient(.unix(path: socket), token: tokens[role], timeout: timeout)
    }
}

/// A `probityd` process started as systemd would start it, stopped with SIGTERM or killed with SIGKILL.
final class DaemonProcess {
    static let binary: String = {
        let besideTests = URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().appendingPathComponent(
            "probityd"
        ).path
        return besideTests
    }()

    let process = Process()
    let stderrPath: String
    let socket: String

    /// A raw stream connection to the daemon's Unix socket at `path`, for tests that write HTTP by hand.
    static func connectUnix(_ path: String) throws -> Int32 {
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try #require(connected == 0, "connect: \(String(cString: strerror(errno)))")
        return fd
    }

    /// Starts `probityd` with `arguments` and waits until it answers on `socket` (unless `wait` is false).
    init(
        _ arguments: [String], socket: String, environment: [String: String] = [:], wait: Bool = true,
        user: String? = nil
    ) throws {
        self.socket = socket
        stderrPath = socket + ".stderr-\(UUID().uuidString.prefix(6))"
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        if let user {
            // setpriv drops root, so that file permissions apply to the daemon (tests run as root).
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=\(user)", "--regid=\(user)", "--clear-groups", Self.binary] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: Self.binary)
            process.arguments = arguments
        }
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "NOTIFY_SOCKET")
        env.removeValue(forKey: "WATCHDOG_USEC")
        process.environment = env.merging(environment) { $1 }
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        if wait { try waitUntilServing() }
    }

    convenience init(
        store: DaemonStore, extra: [String] = [], environment: [String: String] = [:], wait: Bool = true,
        user: String? = nil
    ) throws {
        try self.init(
            ["--store", store.db, "--socket", store.socket] + extra, socket: store.socket, environment: environment,
            wait: wait, user: user)
    }

    func waitUntilServing(timeout: TimeInterval = 30) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard process.isRunning else {
                throw ClientError("probityd exited with \(process.terminationStatus): \(stderr)")
            }
            if let response = try? HTTPConnection(.unix(path: socket), timeout: 5).request("GET", "/healthz"),
                response.status < 600
            {
                return
            }
            usleep(20_000)
        }
        throw ClientError("probityd did not start serving within \(timeout) s: \(stderr)")
    }

    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// SIGTERM, then the exit status.
    @discardableResult
    func terminate() -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    func kill9() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Waits for a daemon expected to refuse to start; returns its exit status.
    func exitStatus(timeout: TimeInterval = 30) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill9(); return nil }
        return process.terminationStatus
    }

    deinit { kill9() }
}

/// Events for the tests: recorded exchanges with unique sources, so that retries are idempotent.
enum TestEvents {
    /// The parties and procedure the exchanges refer to (3 entries).
    static let seed = Array(
        """
        {"type":"party.registered","data":{"party":"agent-b","role":"buyer_agent"}}
        {"type":"party.registered","data":{"party":"sup-a","role":"supplier_org"}}
        {"type":"procedure.opened","data":{"procedure":"2026-042","kind":"open_tender","buyer":"agent-b","tender_deadline":"2026-03-30T12:00:00Z"}}

        """.utf8)

    static func exchange(_ id: String, text: String = "Bonjour, une question sur le lot 2") -> [UInt8] {
        Array(
            #"{"type":"exchange.recorded","data":{"procedure":"2026-042","channel":"email","kind":"message","visibility":"direct","direction":"inbound","from":"sup-a","to":["agent-b"],"source":{"platform":"email","id":"\#(id)"},"occurred_at":"2026-03-10T08:14:00Z"},"payload":{"text":"\#(text)"}}"#
                .utf8)
    }

    /// `count` exchanges as JSONL, with sources `<prefix>-0` … .
    static func lines(_ count: Int, prefix: String) -> [UInt8] {
        Array((0..<count).map { exchange("\(prefix)-\($0)") }.joined(separator: Array("\n".utf8)))
    }

    static func batch(_ ids: [String]) -> [UInt8] {
        Array("{\"events\":[".utf8) + ids.map { exchange($0) }.joined(separator: Array(",".utf8)) + Array("]}".utf8)
    }
}

/// A value shared by test threads.
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
