import Foundation
import ProbityDomain
import ProbityEvidence
import ProbityLog
import Testing
import ZIPFoundation

@testable import ProbityFixtures

/// `probity export bundle` and both verifiers — `probity verify-bundle` and the bundle's own
/// `10_verify_bundle.py` run with Python and openssl — on intact bundles and on bundles edited every way
/// a forger or a careless hand could.
@Suite("Evidence bundles")
struct BundleTests {
    struct Fixture {
        let dir: URL
        let db: String
        let vkey: String
        /// The stand-alone verifier taken from an intact bundle (a tampered bundle's own copy proves nothing).
        var script: String { dir.appendingPathComponent("verify_bundle.py").path }
    }

    /// The scenario, with seq 21's payload redacted (seq 34).
    func fixture() throws -> Fixture {
        let (dir, db) = try redactedScenarioStore()
        let vkey = try String(contentsOfFile: dir.appendingPathComponent("log.vkey").path, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return Fixture(dir: dir, db: db, vkey: vkey)
    }

    func export(_ f: Fixture, _ scope: [String], name: String = "bundle.zip") throws -> String {
        let path = f.dir.appendingPathComponent(name).path
        let result = try CLI.run(["export", "bundle", "--db", f.db] + scope + ["-o", path, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        if !FileManager.default.fileExists(atPath: f.script) {
            try Data(try readZip(path).first { $0.name == EvidenceBundle.Names.script }!.bytes).write(
                to: URL(fileURLWithPath: f.script))
        }
        return path
    }

    func readZip(_ path: String) throws -> [(name: String, bytes: [UInt8])] {
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        return try archive.map { entry in
            var bytes: [UInt8] = []
            _ = try archive.extract(entry) { bytes += $0 }
            return (entry.path, bytes)
        }
    }

    func writeZip(_ files: [(name: String, bytes: [UInt8])], _ path: String) throws {
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        var zip = ZipWriter(modified: Timestamp(entryTime: "2026-12-01T09:00:00.000000Z")!) {
            try handle.write(contentsOf: $0)
        }
        for file in files { try zip.add(file.name, file.bytes) }
        try zip.finish()
        try handle.close()
    }

    struct Outcome { let probity: CLI.Result; let python: CLI.Result }

    func check(_ f: Fixture, _ path: String, vkey: String? = nil) throws -> Outcome {
        let key = ["--vkey", vkey ?? f.vkey]
        return Outcome(
            probity: try CLI.run(["verify-bundle", path] + key),
            python: try CLI.run(["python3", f.script, path] + key, executable: "/usr/bin/env"))
    }

    /// Both verifiers refuse the bundle (exit 1) and say `reason`.
    func expectRefused(
        _ outcome: Outcome, _ reason: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for (name, result) in [("probity", outcome.probity), ("python", outcome.python)] {
            #expect(
                result.status == 1, "\(what): \(name) exited \(result.status): \(result.stdout) \(result.stderr)",
                sourceLocation: sourceLocation)
            #expect(
                result.stdout.contains("NOT VERIFIED") && result.stdout.contains(reason),
                "\(what): \(name) said: \(result.stdout)\(result.stderr)", sourceLocation: sourceLocation)
        }
    }

    /// Edits the files of `bundle`, writes the result, and checks both verifiers refuse it with `reason`.
    func tamper(
        _ f: Fixture, _ bundle: String, _ what: String, reason: String, resign: Bool = false,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ edit: (inout [(name: String, bytes: [UInt8])]) throws -> Void
    ) throws {
        var files = try readZip(bundle)
        try edit(&files)
        if resign { files = try resigned(files, f) }
        let path = f.dir.appendingPathComponent("tampered.zip").path
        try? FileManager.default.removeItem(atPath: path)
        try writeZip(files, path)
        expectRefused(try check(f, path), reason, what, sourceLocation: sourceLocation)
    }

    /// The manifest rewritten to list the files as they now are, and signed again with the log key: what
    /// an exporter bug (not a forger, who has no key) would produce. It lets the deeper checks be reached.
    func resigned(_ files: [(name: String, bytes: [UInt8])], _ f: Fixture) throws -> [(name: String, bytes: [UInt8])] {
        let names = EvidenceBundle.Names.self
        var manifest = try JSONParser.parse(files.first { $0.name == names.manifest }!.bytes).objectValue!
        manifest["files"] = .array(
            files.filter { $0.name != names.manifest && $0.name != names.manifestSignature }.map {
                .object([
                    "name": .string($0.name), "sha256": .string(Hex.encode(SHA256.hash($0.bytes))),
                    "size": .number(Double($0.bytes.count)),
                ])
            })
        let bytes = CanonicalJSON.encode(.object(manifest))
        // The current key: after `keys rotate`, the newest of the store's key files.
        let keyFiles = try FileManager.default.contentsOfDirectory(
            at: f.dir, includingPropertiesForKeys: [.contentModificationDateKey]
        )
        .filter { $0.lastPathComponent.hasPrefix("log.key") && $0.pathExtension == "pem" }
        let newest = try #require(
            keyFiles.max { a, b in
                ((try? a.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate) ?? .distantPast)
                    < ((try? b.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate)
                        ?? .distantPast)
            })
        let key = try Ed25519PrivateKey(pem: String(contentsOf: newest, encoding: .utf8))
        let signer = try NoteSigner(name: "test.example/probity", privateKey: key)
        let size = manifest["checkpoint"]!["size"]!.uint64Value!
        let note = try signer.sign(
            text: EvidenceBundle.manifestSignatureText(
                origin: "test.example/probity", treeSize: size, manifestSHA256: SHA256.hash(bytes)))
        return files.map { file in
            switch file.name {
            case names.manifest: (file.name, bytes)
            case names.manifestSignature: (file.name, Array(note.encoded.utf8))
            default: file
            }
        }
    }

    func manifestEntries(_ files: [(name: String, bytes: [UInt8])]) throws -> [JSONValue] {
        try JSONParser.parse(files.first { $0.name == EvidenceBundle.Names.manifest }!.bytes)["entries"]!.arrayValue!
    }

    /// Removes entry `seq` from the bundle: its files and its line in the manifest.
    func drop(_ seq: UInt64, from files: inout [(name: String, bytes: [UInt8])]) throws {
        let names = EvidenceBundle.Names.self
        var manifest = try JSONParser.parse(files.first { $0.name == names.manifest }!.bytes).objectValue!
        let entries = manifest["entries"]!.arrayValue!
        let item = entries.first { $0["seq"]?.uint64Value == seq }!
        let gone = Set(["entry", "proof", "payload"].compactMap { item[$0]?.stringValue })
        manifest["entries"] = .array(entries.filter { $0["seq"]?.uint64Value != seq })
        files.removeAll { gone.contains($0.name) }
        let bytes = CanonicalJSON.encode(.object(manifest))
        files = files.map { $0.name == names.manifest ? ($0.name, bytes) : $0 }
    }

    func name(of seq: UInt64, _ key: String, in files: [(name: String, bytes: [UInt8])]) throws -> String {
        try manifestEntries(files).first { $0["seq"]?.uint64Value == seq }![key]!.stringValue!
    }

    @Test("A procedure bundle verifies with probity and with the shipped Python script, and says what it proves")
    func procedureBundle() throws {
        let f = try fixture()
        let bundle = try export(f, ["--procedure", "2026-057", "--lang", "fr"])
        let files = try readZip(bundle)
        let names = files.map(\.name)
        #expect(
            names.allSatisfy {
                $0.count < 80 && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-/".contains($0)) }
            })
        #expect(
            Array(names.prefix(11)) == [
                "00_README_LISEZMOI.txt", "01_manifest.json", "02_manifest_signature.txt", "03_checkpoint.txt",
                "04_verifier_keys.txt",
                "05_public_key.pem", "06_earlier_checkpoint.txt", "07_consistency_proof.txt", "08_timeline.csv",
                "09_timeline.html", "10_verify_bundle.py",
            ])
        #expect(names.contains("streams/S01_procedure_2026-057.txt"))
        let entries = try manifestEntries(files)
        let scope = entries.filter { $0["role"]?.stringValue == "scope" }
        #expect(scope.count == 17)
        #expect(entries.first { $0["seq"]?.uint64Value == 21 }?["redacted_by"]?.uint64Value == 34)
        #expect(
            entries.first { $0["seq"]?.uint64Value == 21 }?["payload"] == nil
                && entries.first { $0["seq"]?.uint64Value == 22 }?["payload"] != nil)
        #expect(entries.first { $0["seq"]?.uint64Value == 34 }?["role"]?.stringValue == "redaction")
        #expect(entries.first { $0["seq"]?.uint64Value == 0 }?["role"]?.stringValue == "key")
        let readme = String(decoding: files[0].bytes, as: UTF8.self)
        #expect(
            readme.contains("WHAT THIS BUNDLE PROVES") && readme.contains("CE QUE CE DOSSIER PROUVE")
                && readme.contains(f.vkey))

        let outcome = try check(f, bundle)
        for result in [outcome.probity, outcome.python] {
            #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
            #expect(result.stdout.contains("VERIFIED: \(bundle)"))
            #expect(result.stdout.contains("the bundle holds all 17 entries of procedure:2026-057 up to tree size 35"))
            #expect(result.stdout.contains("1 redacted entries"))
        }
        // Every entry's proof also checks with `verify-proof`, one file pair at a time.
        let e16 = try name(of: 16, "entry", in: files), p16 = try name(of: 16, "proof", in: files)
        let dir = f.dir.appendingPathComponent("unzipped")
        try FileManager.default.createDirectory(
            at: dir.appendingPathComponent("entries"), withIntermediateDirectories: true)
        for file in files where file.name == e16 || file.name == p16 {
            try Data(file.bytes).write(to: dir.appendingPathComponent(file.name))
        }
        let single = try CLI.run([
            "verify-proof", "--entry", dir.appendingPathComponent(e16).path, "--proof",
            dir.appendingPathComponent(p16).path, "--vkey", f.vkey,
        ])
        #expect(single.status == 0, "\(single.stdout)")
        // Without --vkey: verified against the bundled key, and said so.
        let unkeyed = try CLI.run(["verify-bundle", bundle, "--json"])
        #expect(unkeyed.status == 0 && unkeyed.json["key_given"] == .bool(false))
        // Another log's key: refused.
        let other = try CLI.temporaryDirectory()
        #expect(
            try CLI.run([
                "init", "--db", other.appendingPathComponent("o.sqlite").path, "--origin", "test.example/probity",
            ]).status == 0)
        let otherKey = try String(contentsOfFile: other.appendingPathComponent("o.vkey").path, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        expectRefused(try check(f, bundle, vkey: otherKey), "not the key given", "another log's key")
    }

    @Test("Every edit of a bundle fails both verifiers, naming what is wrong")
    func tampered() throws {
        let f = try fixture()
        let bundle = try export(f, ["--procedure", "2026-057"])
        let files = try readZip(bundle)
        let entry = try name(of: 22, "entry", in: files), payload = try name(of: 22, "payload", in: files),
            proof = try name(of: 22, "proof", in: files)
        func edit(
            _ name: String, _ change: @escaping (String) -> String
        ) -> (inout [(name: String, bytes: [UInt8])]) throws -> Void {
            { files in
                let i = files.firstIndex { $0.name == name }!
                let text = String(decoding: files[i].bytes, as: UTF8.self)
                let changed = change(text)
                #expect(changed != text, "the edit of \(name) changed nothing")
                files[i].bytes = Array(changed.utf8)
            }
        }
        let changeTime: (String) -> String = {
            $0.replacingOccurrences(of: #""occurred_at":"2026-03-10T15:40"#, with: #""occurred_at":"2026-03-09T15:40"#)
        }
        let changeText: (String) -> String = { $0.replacingOccurrences(of: "résidentielles", with: "principales") }

        // What anyone could do without the key: caught by the signed manifest.
        try tamper(
            f, bundle, "entry edited", reason: "\(entry) does not match its SHA-256 in the manifest",
            edit(entry, changeTime))
        try tamper(
            f, bundle, "payload edited", reason: "\(payload) does not match its SHA-256", edit(payload, changeText))
        try tamper(
            f, bundle, "proof edited", reason: "\(proof) does not match its SHA-256",
            edit(proof) {
                $0.replacingOccurrences(
                    of: "index 22\n", with: "index 22\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
            })
        try tamper(
            f, bundle, "checkpoint edited", reason: "03_checkpoint.txt does not match its SHA-256",
            edit("03_checkpoint.txt") { $0.replacingOccurrences(of: "\n35\n", with: "\n36\n") })
        try tamper(
            f, bundle, "HTML edited", reason: "09_timeline.html does not match its SHA-256",
            edit("09_timeline.html") { $0 + "<p>ajout</p>" })
        try tamper(
            f, bundle, "file removed", reason: "\(payload) is listed in the manifest but missing from the archive"
        ) { $0.removeAll { $0.name == payload } }
        try tamper(
            f, bundle, "file added", reason: "entries/E99999_seq99.json is in the archive but not in the manifest"
        ) { $0.append(("entries/E99999_seq99.json", Array("{}".utf8))) }
        try tamper(
            f, bundle, "manifest re-hashed without the key",
            reason: "02_manifest_signature.txt does not sign this manifest"
        ) { files in
            try edit(payload, changeText)(&files)
            let unsigned = try resigned(files, f).first { $0.name == EvidenceBundle.Names.manifest }!
            files = files.map { $0.name == EvidenceBundle.Names.manifest ? unsigned : $0 }
        }
        try tamper(f, bundle, "manifest signature removed", reason: "02_manifest_signature.txt is missing") {
            $0.removeAll { $0.name == EvidenceBundle.Names.manifestSignature }
        }
        try tamper(f, bundle, "archive with a duplicate name", reason: "two members named") {
            $0.append($0.first { $0.name == entry }!)
        }

        // Deeper checks, reached by re-signing the manifest (as a faulty exporter would).
        try tamper(
            f, bundle, "entry edited, manifest re-signed",
            reason: "inclusion proof of seq 22 does not lead to the checkpoint's root", resign: true,
            edit(entry, changeTime))
        try tamper(
            f, bundle, "entry made non-canonical", reason: "(the entry bytes were changed)", resign: true,
            edit(entry) { $0.replacingOccurrences(of: "{\"by\"", with: "{ \"by\"") })
        try tamper(
            f, bundle, "payload edited, manifest re-signed", reason: "does not match the payload commitment of seq 22",
            resign: true, edit(payload, changeText))
        try tamper(
            f, bundle, "payload removed without redaction",
            reason: "the payload of seq 22 is missing and the entry is not redacted", resign: true
        ) { files in
            files.removeAll { $0.name == payload }
            var manifest = try JSONParser.parse(files.first { $0.name == EvidenceBundle.Names.manifest }!.bytes)
                .objectValue!
            manifest["entries"] = .array(
                manifest["entries"]!.arrayValue!.map { item in
                    guard item["seq"]?.uint64Value == 22, var object = item.objectValue else { return item }
                    object["payload"] = nil; object["salt"] = nil
                    return .object(object)
                })
            files = files.map {
                $0.name == EvidenceBundle.Names.manifest ? ($0.name, CanonicalJSON.encode(.object(manifest))) : $0
            }
        }
        try tamper(
            f, bundle, "an entry of the stream left out",
            reason: "an entry of procedure:2026-057 is missing from the bundle", resign: true
        ) { try drop(22, from: &$0) }
        try tamper(f, bundle, "the stream's tail cut", reason: "is missing from the bundle (a cut tail)", resign: true)
        { try drop(33, from: &$0) }
        try tamper(f, bundle, "the redaction left out", reason: "seq 21 is said redacted by seq 34", resign: true) {
            try drop(34, from: &$0)
        }
        try tamper(
            f, bundle, "proof swapped with another entry's", reason: "is not a tlog-proof for index 22", resign: true
        ) { files in
            let other = files.first { $0.name == (try? self.name(of: 23, "proof", in: files)) }!.bytes
            files = files.map { $0.name == proof ? ($0.name, other) : $0 }
        }
        try tamper(f, bundle, "stream head removed", reason: "no stream-head note for procedure:2026-057", resign: true)
        { files in
            files.removeAll { $0.name.hasPrefix("streams/") }
            var manifest = try JSONParser.parse(files.first { $0.name == EvidenceBundle.Names.manifest }!.bytes)
                .objectValue!
            manifest["streams"] = .array([])
            files = files.map {
                $0.name == EvidenceBundle.Names.manifest ? ($0.name, CanonicalJSON.encode(.object(manifest))) : $0
            }
        }
    }

    @Test("Party and period bundles prove their completeness; bad scopes are refused with nothing written")
    func partyAndPeriod() throws {
        let f = try fixture()
        // An organisation's bundle carries its people's streams too.
        let party = try export(f, ["--party", "sup-voltaire"], name: "party.zip")
        let outcome = try check(f, party)
        for result in [outcome.probity, outcome.python] {
            #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
            #expect(
                result.stdout.contains("entries of party:sup-voltaire up to tree size")
                    && result.stdout.contains("entries of party:contact-roux up to tree size"))
        }

        // A period strictly inside the log: entries appended between two later batches.
        Thread.sleep(forTimeInterval: 0.05)
        let start = Date()
        Thread.sleep(forTimeInterval: 0.05)
        #expect(try CLI.run(["append", "--db", f.db, "--quiet", "-"], stdin: Self.exchanges(3, round: 1)).status == 0)
        Thread.sleep(forTimeInterval: 0.05)
        let end = Date()
        Thread.sleep(forTimeInterval: 0.05)
        #expect(try CLI.run(["append", "--db", f.db, "--quiet", "-"], stdin: Self.exchanges(2, round: 2)).status == 0)
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let period = try export(
            f, ["--from", format.string(from: start), "--to", format.string(from: end)], name: "period.zip")
        let manifest = try JSONParser.parse(
            try readZip(period).first { $0.name == EvidenceBundle.Names.manifest }!.bytes)
        #expect(manifest["range"] == .object(["first": .number(35), "count": .number(3)]))
        let roles = manifest["entries"]!.arrayValue!.map { ($0["seq"]!.uint64Value!, $0["role"]!.stringValue!) }
        #expect(roles.filter { $0.1 == "boundary" }.map(\.0) == [34, 38])
        let periodOutcome = try check(f, period)
        for result in [periodOutcome.probity, periodOutcome.python] {
            #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
            #expect(result.stdout.contains("the bundle holds all 3 entries appended from"))
        }
        try tamper(
            f, period, "an entry of the period left out", reason: "not the contiguous range 35..37", resign: true
        ) { try drop(36, from: &$0) }
        try tamper(
            f, period, "the boundary after the period left out",
            reason: "entry 38, needed to bound the period, is missing", resign: true
        ) { try drop(38, from: &$0) }

        // Bad scopes: exit 2, nothing written.
        let out = f.dir.appendingPathComponent("bad.zip").path
        for (arguments, message) in [
            (["--procedure", "2099-000"], "no procedure \"2099-000\""), (["--party", "nobody"], "no party \"nobody\""),
            (["--from", "2026-03-01T00:00:00Z"], "a period needs both --from and --to"),
            (["--from", "2026-03-02T00:00:00Z", "--to", "2026-03-01T00:00:00Z"], "--from must be before --to"),
            (["--procedure", "2026-057", "--party", "sup-voltaire"], "give one scope"),
        ] {
            let result = try CLI.run(["export", "bundle", "--db", f.db] + arguments + ["-o", out])
            #expect(result.status == 2 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
        let unwritable = try CLI.run([
            "export", "bundle", "--db", f.db, "--procedure", "2026-057", "-o", "/nonexistent/dir/b.zip",
        ])
        #expect(unwritable.status == 2 && unwritable.stderr.contains("cannot write /nonexistent/dir/b.zip"))
        let notZip = f.dir.appendingPathComponent("not.zip")
        try Data("hello".utf8).write(to: notZip)
        expectRefused(try check(f, notZip.path), "is not a Probity bundle", "not a zip")
    }

    @Test(
        "An extension event naming the procedure is in its stream: the bundle finds it (the stream is scanned) and stays complete"
    )
    func extensionEventInStream() throws {
        let f = try fixture()
        let note = #"{"type":"x-site-visit","data":{"procedure":"2026-057","visited_at":"2026-03-12T10:00:00Z"}}"#
        #expect(try CLI.run(["append", "--db", f.db, "--quiet", "-"], stdin: Array(note.utf8)).status == 0)
        let bundle = try export(f, ["--procedure", "2026-057"])
        let entries = try manifestEntries(try readZip(bundle))
        #expect(
            entries.contains { $0["seq"]?.uint64Value == 35 && $0["role"] == .string("scope") },
            "the extension entry is an exhibit")
        let outcome = try check(f, bundle)
        for result in [outcome.probity, outcome.python] {
            #expect(
                result.status == 0 && result.stdout.contains("all 18 entries of procedure:2026-057"),
                "\(result.stdout) \(result.stderr)")
        }
        // A key that is not the log's: refused before anything is written.
        let other = f.dir.appendingPathComponent("other.pem").path
        #expect(
            try CLI.run(["genpkey", "-algorithm", "ed25519", "-out", other], executable: "/usr/bin/openssl").status == 0
        )
        let out = f.dir.appendingPathComponent("other.zip").path
        let refused = try CLI.run([
            "export", "bundle", "--db", f.db, "--procedure", "2026-057", "--key", other, "-o", out,
        ])
        #expect(refused.status == 2 && refused.stderr.contains("is not the log's current key"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("After a key rotation, a bundle verifies from the first key: the old key signed over the rotation")
    func rotatedKey() throws {
        let f = try fixture()
        let rotated = try CLI.run(["keys", "rotate", "--db", f.db, "--reason", "annual rotation"])
        #expect(rotated.status == 0, "\(rotated.stderr)")
        #expect(try CLI.run(["append", "--db", f.db, "--quiet", "-"], stdin: Self.exchanges(2, round: 9)).status == 0)
        let bundle = try export(f, ["--procedure", "2026-057"])
        let outcome = try check(f, bundle)
        for result in [outcome.probity, outcome.python] {
            #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
            #expect(result.stdout.contains("\(f.vkey) signed the rotation to"), "\(result.stdout)")
        }
        let files = try readZip(bundle)
        let rotationFile = try #require(
            files.first { $0.name.hasPrefix("keys/R01_") && $0.name.hasSuffix("_checkpoint.txt") }?.name)
        // The rotation's checkpoint swapped for the bundle's own (signed with the new key): the first key no longer vouches.
        try tamper(
            f, bundle, "rotation vouched for by the new key only", reason: "\(rotationFile) is not signed by \(f.vkey)",
            resign: true
        ) { files in
            let latest = files.first { $0.name == EvidenceBundle.Names.checkpoint }!.bytes
            files = files.map { $0.name == rotationFile ? ($0.name, latest) : $0 }
        }
    }

    @Test(
        "The ZIP writer switches to ZIP64 end records past 65,535 files; ZIPFoundation and Python read every file back")
    func zip64() throws {
        let dir = try CLI.temporaryDirectory()
        let path = dir.appendingPathComponent("many.zip").path
        let count = 70_000
        try writeZip((0..<count).map { ("f/\($0).txt", Array("file \($0)\n".utf8)) }, path)
        let read = try readZip(path)
        #expect(
            read.count == count && read.last?.name == "f/69999.txt" && read.last?.bytes == Array("file 69999\n".utf8))
        let python = try CLI.run(
            [
                "python3", "-c",
                "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(len(z.namelist()), z.testzip())", path,
            ],
            executable: "/usr/bin/env")
        #expect(python.status == 0 && python.stdout == "\(count) None\n", "\(python.stdout) \(python.stderr)")
    }

    static func exchanges(_ count: Int, round: Int) -> [UInt8] {
        Array(
            (0..<count).map { i in
                #"{"type":"exchange.recorded","data":{"procedure":"2026-057","channel":"email","kind":"message","visibility":"direct","from":"contact-roux","to":["agent-lefevre"],"source":{"platform":"email","id":"period-\#(round)-\#(i)"},"occurred_at":"2026-03-20T10:00:00Z"},"payload":{"text":"Relance \#(round).\#(i)"}}"#
            }.joined(separator: "\n").utf8)
    }
}
