import Foundation
import Testing

@testable import ProbityFixtures

/// A new store holding the scenario (examples/scenario.jsonl), with seq 21's payload redacted (seq 34),
/// made with the CLI as a user would: what the bundle and rendering tests start from.
func redactedScenarioStore() throws -> (dir: URL, db: String) {
    let dir = try CLI.temporaryDirectory()
    let db = dir.appendingPathComponent("log.sqlite").path
    #expect(try CLI.run(["init", "--db", db, "--origin", "test.example/probity"]).status == 0)
    #expect(try CLI.run(["append", "--db", db, "--quiet", DomainTests.scenario.path]).status == 0)
    #expect(
        try CLI.run(["redact", "--db", db, "21", "--legal-basis", "RGPD art. 17", "--requested-by", "DPO"]).status == 0)
    return (dir, db)
}
