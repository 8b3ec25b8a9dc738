import Foundation
import Testing

@testable import ProbityFixtures

/// Every fuzz target, built as usual (without libFuzzer), replays its committed seeds and the inputs that
/// once crashed it (Tests/Fuzz/TARGET): a regression there is a crash or a failed invariant here.
@Suite("Fuzz seeds")
struct FuzzSeedTests {
    static let targets = ["json", "event", "note", "zip", "email", "csv", "exports", "query"]

    @Test("each fuzz target replays its seeds without a crash or a failed invariant", arguments: targets)
    func replay(_ target: String) throws {
        // Tests/Fuzz/TARGET, and the fixture folders Tests/Fuzz/TARGET.seeds lists (as Scripts/fuzz.sh reads them).
        var seeds = [CLI.packageRoot.appendingPathComponent("Tests/Fuzz/\(target)").path]
        if let listed = try? String(
            contentsOf: CLI.packageRoot.appendingPathComponent("Tests/Fuzz/\(target).seeds"), encoding: .utf8)
        {
            seeds += listed.split(separator: "\n").map { CLI.packageRoot.appendingPathComponent(String($0)).path }
        }
        let binary = CLI.binaryDirectory.appendingPathComponent("fuzz-\(target)").path
        let result = try CLI.run(seeds, executable: binary)
        #expect(result.status == 0, "\(target): \(result.stdout) \(result.stderr)")
        let count = Int(result.stdout.split(separator: " ").dropFirst().first ?? "") ?? 0
        #expect(count >= 3, "\(target): \(result.stdout)")
    }
}
