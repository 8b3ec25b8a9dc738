import Foundation
import ProbityDomain
import ProbityLog
import Testing

@testable import ProbityFixtures

/// Probity's checkpoints, notes and proofs checked by code Probity did not write: the Go checksum
/// database's `golang.org/x/mod/sumdb/note` and `sumdb/tlog` packages (Debian's golang-go and
/// golang-golang-x-mod-dev, installed by Scripts/install-deps.sh), through Tests/Interop/gocheck.go.
@Suite("interoperability with golang.org/x/mod/sumdb")
struct InteropTests {

    static func goCheck(_ arguments: [String], cache: URL) throws -> CLI.Result {
        try goRun("gocheck.go", arguments, cache: cache)
    }

    /// Runs one of the Go programs in Tests/Interop with Debian's Go and golang.org/x/mod.
    static func goRun(_ program: String, _ arguments: [String], cache: URL) throws -> CLI.Result {
        let go = ["/usr/bin/go", "/usr/lib/go/bin/go"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let executable = try #require(go, "go is not installed: run Scripts/install-deps.sh")
        var environment = ProcessInfo.processInfo.environment
        environment["GOPATH"] = "/usr/share/gocode"
        environment["GO111MODULE"] = "off"
        environment["GOFLAGS"] = ""
        environment["GOCACHE"] = cache.path
        environment["HOME"] = cache.path
        let path = CLI.packageRoot.appendingPathComponent("Tests/Interop/\(program)").path
        return try CLI.run(["run", path] + arguments, executable: executable, environment: environment)
    }

    @Test("Go's note.Open accepts the checkpoints, and tlog.CheckRecord and CheckTree accept the proofs")
    func goVerifies() throws {
        let dir = try CLI.temporaryDirectory()
        let db = dir.appendingPathComponent("log.sqlite").path
        let created = try CLI.run(["init", "--db", db, "--origin", "achats.ville-exemple.fr/probity", "--json"])
        let vkey = try #require(created.json["verifier_key"]?.stringValue)
        #expect(try CLI.run(["append", "--db", db, "--quiet", CLI.exampleConversation.path]).status == 0)
        for round in 0..<2 {
            #expect(
                try CLI.run(["append", "--db", db, "--quiet", "-"], stdin: CLI.moreExchanges(11, round: round)).status
                    == 0)
        }
        // Checkpoints exist at sizes 1, 14, 25 and 36.
        for (seq, oldSize) in [(0, 1), (17, 14), (35, 25), (13, 14)] {
            let entry = dir.appendingPathComponent("entry.json"), proof = dir.appendingPathComponent("entry.tlog-proof")
            let old = dir.appendingPathComponent("old.checkpoint"),
                consistency = dir.appendingPathComponent("consistency.txt")
            try CLI.run(["show", "--db", db, String(seq)]).stdout.write(to: entry, atomically: true, encoding: .utf8)
            try CLI.run(["prove", "inclusion", "--db", db, String(seq)]).stdout.write(
                to: proof, atomically: true, encoding: .utf8)
            try CLI.run(["checkpoint", "--db", db, "--size", String(oldSize)]).stdout.write(
                to: old, atomically: true, encoding: .utf8)
            try CLI.run(["prove", "consistency", "--db", db, String(oldSize)]).stdout.write(
                to: consistency, atomically: true, encoding: .utf8)
            let args = [vkey, entry.path, proof.path, old.path, consistency.path]
            let result = try Self.goCheck(args, cache: dir.appendingPathComponent("gocache"))
            #expect(
                result.status == 0 && result.stdout == "ok\n",
                "seq \(seq), old size \(oldSize): \(result.stdout)\(result.stderr)")

            // The same check fails on a changed entry: the Go side is really checking.
            let changed = try String(contentsOf: entry, encoding: .utf8).replacingOccurrences(
                of: "\"v\":1", with: "\"v\":2")
            try changed.write(to: entry, atomically: true, encoding: .utf8)
            let refused = try Self.goCheck(args, cache: dir.appendingPathComponent("gocache"))
            #expect(
                refused.status == 1 && refused.stdout.contains("tlog.CheckRecord"), "\(refused.stdout)\(refused.stderr)"
            )
        }
    }
}
