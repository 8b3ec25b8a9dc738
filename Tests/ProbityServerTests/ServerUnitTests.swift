import Foundation
import Logging
import Testing

@testable import ProbityFixtures
@testable import ProbityServer
@testable import ProbityStore

@Suite("server parts")
struct ServerUnitTests {
    @Test("roles: admin may do everything, ingest appends, read reads without payloads, export adds payloads")
    func roles() {
        #expect(Role.allCases.allSatisfy { $0.allows(.readProofs) })
        #expect(Role.allowing(.append) == [.ingest, .admin])
        #expect(Role.allowing(.readEntries) == [.read, .export, .admin])
        #expect(Role.allowing(.readPayloads) == [.export, .admin])
        #expect(Role.allowing(.administer) == [.admin])
    }

    @Test("console sessions: random ids and CSRF secrets, an idle expiry restarted by each use, sign-out forgets")
    func consoleSessions() throws {
        let sessions = ConsoleSessions(idle: .seconds(60))
        let token = TokenInfo(
            id: "0123456789ab", name: "auditrice", role: .read, created: "2026-12-03T00:00:00Z", revoked: nil,
            secretHash: [])
        let (id, session) = try sessions.open(token: token)
        let (other, _) = try sessions.open(token: token)
        #expect(id.count == 64 && session.csrf.count == 64 && id != other && id != session.csrf)
        let start = ContinuousClock.now
        #expect(sessions.use(id, now: start + .seconds(50))?.user == "auditrice")
        // Used at 50 s, so still alive at 100 s; then idle past a minute, gone for good.
        #expect(sessions.use(id, now: start + .seconds(100)) != nil)
        #expect(sessions.use(id, now: start + .seconds(161)) == nil)
        #expect(sessions.use(id, now: start + .seconds(1)) == nil)
        sessions.close(other)
        #expect(sessions.use(other) == nil)
    }

    @Test("console forms and cookies are read as browsers send them")
    func consoleForms() {
        #expect(
            ConsoleRoutes.form(Array("token=prb_a%2Bb&csrf=x+y&empty=".utf8)) == [
                "token": "prb_a+b", "csrf": "x y", "empty": "",
            ])
        #expect(ConsoleRoutes.cookie("s", "v") == "s=v; Path=/ui; HttpOnly; SameSite=Strict; Secure")
    }

    @Test("bearer tokens: only the exact format is accepted")
    func bearerTokens() {
        let valid = "prb_0123456789ab_" + String(repeating: "c", count: 64)
        #expect(BearerToken(valid)?.id == "0123456789ab")
        for bad in [
            "", "prb_0123456789ab", valid + "0", "prb_0123456789AB_" + String(repeating: "c", count: 64),
            "xyz_0123456789ab_" + String(repeating: "c", count: 64),
            "prb_0123456789ab-" + String(repeating: "c", count: 64),
        ] {
            #expect(BearerToken(bad) == nil, "\(bad)")
        }
    }

    @Test("sd_notify datagrams reach the socket named by NOTIFY_SOCKET; the watchdog interval is half of WATCHDOG_USEC")
    func notifier() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "notify-\(getpid())-\(UUID().uuidString.prefix(6))"
        ).path
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd); unlink(path) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try #require(bound == 0)
        let notifier = SystemdNotifier(environment: [
            "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "3000000", "WATCHDOG_PID": String(getpid()),
        ])
        #expect(notifier.watchdogInterval == .milliseconds(1500))
        #expect(notifier.notify("READY=1\nSTATUS=serving"))
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        #expect(String(decoding: buffer[0..<max(0, n)], as: UTF8.self) == "READY=1\nSTATUS=serving")
        // A manager that stops reading: once its queue is full the sends fail at once, they never block.
        let sent = (0..<200).map { _ in notifier.notify("WATCHDOG=1") }
        #expect(sent.first == true && sent.last == false, "the queue never filled: \(sent.filter { $0 }.count) sent")
        // Not under systemd, or another process's watchdog: nothing is sent, nothing fails.
        #expect(!SystemdNotifier(environment: [:]).notify("READY=1"))
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "1000", "WATCHDOG_PID": "1"]).watchdogInterval == nil)
    }

    @Test("journald priority prefixes")
    func priorities() {
        #expect(JournalLogHandler.priority(.critical) == 2 && JournalLogHandler.priority(.error) == 3)
        #expect(
            JournalLogHandler.priority(.warning) == 4 && JournalLogHandler.priority(.info) == 6
                && JournalLogHandler.priority(.debug) == 7)
    }
}
