import Foundation
import ProbityLog
import Testing

@testable import ProbityEvidence
@testable import ProbityFixtures

/// The Python verifier is a file of this repository (Sources/ProbityEvidence/Resources/verify_bundle.py),
/// embedded in the binary at build time; these tests hold the file to Python's own checks.
@Suite("The bundled Python verifier", .serialized)
struct VerifierScriptTests {
    static let script = CLI.packageRoot.appendingPathComponent("Sources/ProbityEvidence/Resources/verify_bundle.py")

    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let result = try CLI.run(arguments, executable: executable)
        return (result.status, result.stdout + result.stderr)
    }

    @Test("the embedded script is the file, byte for byte")
    func embedded() throws {
        #expect(BundleVerifierScript.source == [UInt8](try Data(contentsOf: Self.script)))
    }

    @Test("python3 -m py_compile compiles it")
    func compiles() throws {
        // The byte code goes to a temporary directory, not a __pycache__ beside the source.
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent(
            "probity-pycache-\(UUID().uuidString)"
        ).path
        let result = try Self.run(
            "/usr/bin/env", ["PYTHONPYCACHEPREFIX=\(cache)", "python3", "-m", "py_compile", Self.script.path])
        #expect(result.status == 0, "\(result.output)")
    }

    @Test("pyflakes finds nothing in it (no unused or undefined names)")
    func lints() throws {
        let pyflakes = try #require(
            ["/usr/bin/pyflakes3", "/usr/bin/pyflakes"].first { FileManager.default.isExecutableFile(atPath: $0) },
            "pyflakes3 is missing: run Scripts/install-deps.sh --test")
        let result = try Self.run(pyflakes, [Self.script.path])
        #expect(result.status == 0, "\(result.output)")
    }
}

@Suite("ZIP")
struct ZipTests {
    @Test("what the writer writes, the reader reads back: names, sizes and bytes")
    func roundTrip() throws {
        var archive: [UInt8] = []
        var writer = ZipWriter(modified: Timestamp(entryTime: "2026-03-10T08:20:11.000000Z")!) { archive += $0 }
        let files: [(String, [UInt8])] = [
            ("00_README.txt", Array("Lisez-moi".utf8)), ("entries/000001.json", Array("{}".utf8)), ("empty", []),
        ]
        for (name, bytes) in files { try writer.add(name, bytes) }
        try writer.finish()
        try archive.withUnsafeBytes { raw in
            let reader = try ZipReader(raw)
            #expect(reader.members.map(\.name) == files.map(\.0))
            for (name, bytes) in files {
                let member = try #require(reader.member(named: name))
                #expect(member.size == bytes.count)
                #expect(try ZipReader.data(of: member, in: raw) == bytes)
            }
        }
    }

    @Test("a flipped byte in a member is caught by its CRC-32")
    func corruption() throws {
        var archive: [UInt8] = []
        var writer = ZipWriter(modified: Timestamp(entryTime: "2026-03-10T08:20:11.000000Z")!) { archive += $0 }
        try writer.add("a.txt", Array("evidence".utf8))
        try writer.finish()
        let member = try archive.withUnsafeBytes { try ZipReader($0).members[0] }
        archive[member.dataOffset] ^= 1
        #expect(throws: ZipFormatError.self) { try archive.withUnsafeBytes { try ZipReader.data(of: member, in: $0) } }
    }
}
