import Foundation
import ProbityClient
import ProbityDomain
import ProbityHTTP
import ProbityLog
import ProbityStore
import Testing

@testable import ProbityFixtures

/// A store that cannot be written (read-only file, full disk): appends get 503 with a clear error,
/// nothing is corrupted, and appends work again once the cause is gone. Needs root (tests run as root
/// here and in CI): the daemon runs as `nobody` for permissions to apply, and the disk is a small tmpfs.
@Suite("probityd on an unwritable store", .serialized)
struct DaemonUnwritableStoreTests {
    static let nobody = "65534"

    func shell(_ command: String) throws -> CLI.Result {
        try CLI.run(["-c", command], executable: "/bin/sh")
    }

    func expectUnavailable(_ store: DaemonStore, mentioning words: [String], id: String) throws {
        do {
            _ = try store.client().send("POST", "/v1/events", body: TestEvents.batch((0..<50).map { "\(id)-\($0)" }))
            Issue.record("an append to an unwritable store was acknowledged")
        } catch let failure as DaemonClient.APIFailure {
            #expect(failure.status == 503 && failure.code == "store_unavailable")
            for word in words {
                #expect(failure.message.contains(word), "\"\(failure.message)\" does not mention \(word)")
            }
        }
        let health = try HTTPConnection(.unix(path: store.socket)).request("GET", "/healthz")
        #expect(health.status == 503 && health.text.contains("degraded"))
        // Reads still work.
        #expect(try store.client("read").send("GET", "/v1/checkpoint").status == 200)
    }

    @Test func aReadOnlyStoreFileAnswers503UntilItIsWritable() throws {
        let store = try DaemonStore()
        #expect(try shell("chown -R \(Self.nobody):\(Self.nobody) '\(store.directory.path)'").status == 0)
        var daemon = try DaemonProcess(store: store, user: Self.nobody)
        #expect(try store.client().send("POST", "/v1/events", body: TestEvents.exchange("before")).status == 201)
        #expect(daemon.terminate() == 0)

        chmod(store.db, 0o444)
        let notify = try DaemonLifecycleTests.NotifySocket(path: store.directory.appendingPathComponent("notify").path)
        chmod(notify.path, 0o666)
        daemon = try DaemonProcess(
            store: store, environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "200000"], user: Self.nobody)
        defer { daemon.terminate() }
        try expectUnavailable(store, mentioning: ["read-only", store.db], id: "ro")
        let statuses = notify.receive(timeout: 5) { $0.contains { $0.hasPrefix("STATUS=degraded") } }
        #expect(
            statuses.contains { $0.hasPrefix("STATUS=degraded") && $0.contains("read-only") },
            "systemd is told: \(statuses)")
        #expect(try LogReader.open(path: store.db).size() == store.base + 1)

        chmod(store.db, 0o644)
        #expect(try store.client().send("POST", "/v1/events", body: TestEvents.exchange("after")).status == 201)
        #expect(try HTTPConnection(.unix(path: store.socket)).request("GET", "/healthz").status == 200)
        #expect(try CLI.run(["verify", "--db", store.db]).status == 0)
    }

    @Test func aFullDiskAnswers503UntilSpaceIsFreed() throws {
        let base = try CLI.temporaryDirectory()
        let mount = base.appendingPathComponent("disk")
        try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
        let mounted = try shell("mount -t tmpfs -o size=3m tmpfs '\(mount.path)'")
        try #require(mounted.status == 0, "this test needs root to mount a small tmpfs: \(mounted.stderr)")
        defer { _ = try? shell("umount -l '\(mount.path)'") }
        let store = try DaemonStore(directory: mount)
        let daemon = try DaemonProcess(store: store)
        defer { daemon.terminate() }
        #expect(try store.client().send("POST", "/v1/events", body: TestEvents.batch(["f-0", "f-1"])).status == 201)

        // Fill the disk, then append: refused, and the log is unchanged.
        let filler = mount.appendingPathComponent("filler").path
        _ = try shell("dd if=/dev/zero of='\(filler)' bs=64k 2>/dev/null; true")
        let sizeBefore = try LogReader.open(path: store.db).size()
        var refused = 0
        for attempt in 0..<5 {
            do {
                _ = try store.client().send(
                    "POST", "/v1/events", body: TestEvents.batch((0..<200).map { "full-\(attempt)-\($0)" }))
            } catch let failure as DaemonClient.APIFailure {
                #expect(
                    failure.status == 503 && failure.code == "store_unavailable" && failure.message.contains("full"),
                    "\(failure)")
                refused += 1
            }
        }
        #expect(refused > 0, "the full disk refused no append")
        #expect(try LogReader.open(path: store.db).size() <= sizeBefore + 5 * 200)
        #expect(try HTTPConnection(.unix(path: store.socket)).request("GET", "/healthz").status == 503)

        try FileManager.default.removeItem(atPath: filler)
        #expect(
            try store.client().send("POST", "/v1/events", body: TestEvents.batch(["freed-0", "freed-1"])).status == 201)
        #expect(daemon.terminate() == 0)
        let verified = try CLI.run(["verify", "--db", store.db])
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
    }
}
