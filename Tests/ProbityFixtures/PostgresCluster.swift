import Foundation
import Testing

/// Throw-away PostgreSQL 15 servers for a test (Scripts/pg-cluster.sh): a primary, and on request a
/// streaming standby, in a temporary directory, on loopback ports of their own; stopped by `stop`.
/// Without PostgreSQL the test fails under CI=true (CI installs it) and is otherwise skipped by the caller.
final class PostgresCluster: @unchecked Sendable {
    let directory: URL
    let primaryPort: Int
    let standbyPort: Int
    let password = "probity-test-\(UUID().uuidString.prefix(8))"
    /// A PGPASSFILE (mode 0600) holding the role's password, for the processes the test starts.
    let passFile: String

    static var available: Bool { FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/15/bin/initdb") }

    /// Fails under CI=true when PostgreSQL is missing; elsewhere says whether to go on.
    static func required() -> Bool {
        if available { return true }
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            Issue.record("PostgreSQL 15 is missing: Scripts/install-deps.sh --test installs it")
        }
        return false
    }

    init(standby: Bool = false) throws {
        directory = URL(fileURLWithPath: "/tmp").appendingPathComponent(
            "probity-pg-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        primaryPort = Int.random(in: 20_000..<40_000)
        standbyPort = primaryPort + 1
        passFile = directory.path + "/pgpass"
        try "127.0.0.1:*:*:probity:\(password)\n".write(toFile: passFile, atomically: true, encoding: .utf8)
        chmod(passFile, 0o600)
        try script(["primary", directory.path, String(primaryPort), password])
        if standby { try script(["standby", directory.path, String(standbyPort), String(primaryPort)]) }
    }

    var primaryURL: String { "postgres://probity@127.0.0.1:\(primaryPort)/probity" }
    var standbyURL: String { "postgres://probity@127.0.0.1:\(standbyPort)/probity" }
    /// The environment for a process that reaches the servers (the PGPASSFILE).
    var environment: [String: String] {
        ProcessInfo.processInfo.environment.merging(["PGPASSFILE": passFile]) { $1 }
    }

    /// Runs SQL as the superuser over the primary's socket (or the standby's port).
    @discardableResult
    func psql(_ sql: String, standby: Bool = false, database: String = "probity") throws -> String {
        let arguments = [
            "-h", directory.path + "/socket", "-p", String(standby ? standbyPort : primaryPort), "-U", "postgres", "-d",
            database, "-Atq", "-v", "ON_ERROR_STOP=1", "-c", sql,
        ]
        let result =
            getuid() == 0
            ? try CLI.run(
                ["-u", "postgres", "--", "/usr/lib/postgresql/15/bin/psql"] + arguments, executable: "/usr/sbin/runuser"
            )
            : try CLI.run(arguments, executable: "/usr/lib/postgresql/15/bin/psql")
        guard result.status == 0 else { throw ClusterError(message: "psql \(sql): \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Waits until the standby has replayed everything the primary has written.
    func waitForStandby() throws {
        let target = try psql("SELECT pg_current_wal_lsn()")
        for _ in 0..<200 {
            if try psql("SELECT pg_last_wal_replay_lsn() >= '\(target)'::pg_lsn", standby: true) == "t" { return }
            usleep(50_000)
        }
        throw ClusterError(message: "the standby did not catch up with the primary in 10 s")
    }

    func script(_ arguments: [String]) throws {
        let result = try CLI.run(
            [CLI.packageRoot.appendingPathComponent("Scripts/pg-cluster.sh").path] + arguments,
            executable: "/bin/bash")
        guard result.status == 0 else {
            let log = (try? String(contentsOfFile: directory.path + "/primary.log", encoding: .utf8)) ?? ""
            throw ClusterError(message: "pg-cluster.sh \(arguments[0]) failed: \(result.stderr)\n\(log.suffix(2000))")
        }
    }

    func stop() {
        _ = try? script(["stop", directory.path])
        try? FileManager.default.removeItem(at: directory)
    }

    struct ClusterError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}
