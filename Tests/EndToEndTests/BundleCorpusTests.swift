import Foundation
import ProbityDomain
import ProbityEvidence
import ProbityLog
import Testing

@testable import ProbityFixtures

/// Both bundle verifiers must reach the same verdict on every input. The corpus is written by
/// `Tests/Fixtures/bundles/corpus.py` from a genuine bundle (archives anyone could make of it, each
/// departing from Probity's ZIP form one way); the genuine bundles below are the ones the verifiers once
/// disagreed on.
extension BundleTests {
    @Test("Both verifiers give the verdict the shared corpus expects, for every archive in it")
    func sharedCorpus() throws {
        let f = try fixture()
        let bundle = try export(f, ["--procedure", "2026-057"])
        let corpus = f.dir.appendingPathComponent("corpus")
        try FileManager.default.createDirectory(at: corpus, withIntermediateDirectories: true)
        let generator = CLI.packageRoot.appendingPathComponent("Tests/Fixtures/bundles/corpus.py").path
        let made = try CLI.run(["python3", generator, bundle, corpus.path], executable: "/usr/bin/env")
        try #require(made.status == 0, "\(made.stderr)")
        let index = try JSONParser.parse(try [UInt8](Data(contentsOf: corpus.appendingPathComponent("index.json"))))
        let cases = try #require(index.arrayValue)
        #expect(cases.count >= 12)
        for item in cases {
            let name = try #require(item["case"]?.stringValue), verdict = item["verdict"]?.stringValue
            let outcome = try check(f, corpus.appendingPathComponent(name + ".zip").path)
            let expected: Int32 = verdict == "verified" ? 0 : 1
            #expect(
                outcome.probity.status == expected,
                "\(name) (\(item["why"] ?? .null)): probity said \(outcome.probity.stdout)\(outcome.probity.stderr)")
            #expect(
                outcome.python.status == expected,
                "\(name) (\(item["why"] ?? .null)): python said \(outcome.python.stdout)\(outcome.python.stderr)")
            if expected == 1 {
                #expect(
                    outcome.probity.stdout.contains("NOT VERIFIED") && outcome.python.stdout.contains("NOT VERIFIED"),
                    "\(name)")
            }
        }
    }

    @Test(
        "Genuine bundles with numbers RFC 8785 writes in exponent or decimal form, and accented identifiers, pass both verifiers"
    )
    func formerDisagreements() throws {
        let f = try fixture()
        let nfc = "fournisseur-caf\u{E9}-lumi\u{E8}re"
        let events = [
            #"{"type":"x-indicator","data":{"procedure":"2026-057","ratio":0.00001,"tiny":1.5e-7,"large":1e21,"price":1234.5,"count":9007199254740991}}"#,
            #"{"type":"party.registered","data":{"party":"\#(nfc)","role":"supplier_org"}}"#,
            #"{"type":"x-note","data":{"party":"\#(nfc)","procedure":"2026-057"}}"#,
        ]
        let appended = try CLI.run(
            ["append", "--db", f.db, "--quiet", "-"], stdin: Array(events.joined(separator: "\n").utf8))
        try #require(appended.status == 0, "\(appended.stderr)")
        for scope in [["--procedure", "2026-057"], ["--party", nfc]] {
            let bundle = try export(f, scope, name: "genuine-\(scope[0].dropFirst(2)).zip")
            let outcome = try check(f, bundle)
            #expect(outcome.probity.status == 0, "\(scope): \(outcome.probity.stdout)")
            #expect(outcome.python.status == 0, "\(scope): \(outcome.python.stdout)")
        }

        // The same identifier decomposed (NFD) is refused where it enters: it would look the same and
        // compare differently.
        let nfd = "fournisseur-cafe\u{301}-lumie\u{300}re"
        let refused = try CLI.run(
            ["append", "--db", f.db, "--quiet", "-"],
            stdin: Array(#"{"type":"x-note","data":{"party":"\#(nfd)"}}"#.utf8))
        #expect(refused.status == 2 && refused.stderr.contains("NFC"), "\(refused.stderr)")
        let tooPrecise = try CLI.run(
            ["append", "--db", f.db, "--quiet", "-"],
            stdin: Array(#"{"type":"x-note","data":{"n":9007199254740993}}"#.utf8))
        #expect(
            tooPrecise.status == 2 && tooPrecise.stderr.contains("would be recorded as 9007199254740992"),
            "\(tooPrecise.stderr)")

        // A manifest naming its stream in NFD, re-signed as a faulty exporter would: both refuse it.
        let bundle = try export(f, ["--procedure", "2026-057"], name: "nfd.zip")
        try tamper(f, bundle, "stream id in NFD", reason: "is not procedure:<id> or party:<id>", resign: true) {
            files in
            let i = files.firstIndex { $0.name == EvidenceBundle.Names.manifest }!
            var manifest = try JSONParser.parse(files[i].bytes).objectValue!
            var streams = manifest["streams"]!.arrayValue!
            var first = streams[0].objectValue!
            first["id"] = .string("procedure:2026-057-cafe\u{301}")
            streams[0] = .object(first)
            manifest["streams"] = .array(streams)
            files[i] = (files[i].name, CanonicalJSON.encode(.object(manifest)))
        }
    }

    @Test("A signature note of thousands of lines is refused by both verifiers without trying them")
    func signatureFlood() throws {
        let f = try fixture()
        let bundle = try export(f, ["--procedure", "2026-057"])
        try tamper(f, bundle, "manifest signature with 5,000 lines", reason: "signature lines") { files in
            let i = files.firstIndex { $0.name == EvidenceBundle.Names.manifestSignature }!
            let note = String(decoding: files[i].bytes, as: UTF8.self)
            let line = note.split(separator: "\n").last!
            files[i] = (files[i].name, Array((note + String(repeating: line + "\n", count: 5000)).utf8))
        }
    }

    @Test("Both verifiers treat a missing file and a malformed --vkey as usage errors (exit 2)")
    func usageErrors() throws {
        let f = try fixture()
        let bundle = try export(f, ["--procedure", "2026-057"])
        for (path, key) in [(f.dir.appendingPathComponent("absent.zip").path, f.vkey), (bundle, "not-a-key")] {
            let outcome = try check(f, path, vkey: key)
            #expect(outcome.probity.status == 2, "probity: \(outcome.probity.stdout) \(outcome.probity.stderr)")
            #expect(outcome.python.status == 2, "python: \(outcome.python.stdout) \(outcome.python.stderr)")
        }
    }
}
