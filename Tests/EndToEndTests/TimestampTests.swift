import Foundation
import ProbityClient
import ProbityDomain
import ProbityHTTP
import ProbityLog
import Testing

@testable import ProbityFixtures

/// `probity timestamp` against a real local TSA — `openssl ts -reply` behind a small HTTP handler
/// (Tests/Fixtures/tsa/tsa_server.py) with an ECDSA key and a critical timeStamping key usage — and
/// `probity verify --tsa-ca` checking the tokens it recorded.
@Suite("RFC 3161 timestamps", .serialized)
struct TimestampTests {
    /// A CA, a TSA certificate it issued, a TSA certificate without the timeStamping usage, another CA.
    static func makePKI(in dir: URL) throws {
        let script = """
            set -e
            cd "$1"
            ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
            openssl req -x509 $ec -keyout ca.key -out ca.crt -days 30 -subj "/CN=Probity Test Root CA" \
                -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
            openssl req -x509 $ec -keyout rogue.key -out rogue.crt -days 30 -subj "/CN=Another CA" \
                -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
            for name in tsa plain; do
                openssl req -new $ec -keyout $name.key -out $name.csr -subj "/CN=Probity Test TSA ($name)" 2>/dev/null
            done
            printf 'basicConstraints=critical,CA:FALSE\\nkeyUsage=critical,digitalSignature\\nextendedKeyUsage=critical,timeStamping\\n' > tsa.ext
            printf 'basicConstraints=critical,CA:FALSE\\nkeyUsage=critical,digitalSignature\\n' > plain.ext
            for name in tsa plain; do
                openssl x509 -req -in $name.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out $name.crt -days 30 -extfile $name.ext 2>/dev/null
            done
            printf '[ tsa ]\\ndefault_tsa = tsa_config\\n[ tsa_config ]\\nserial = ./tsaserial\\ncrypto_device = builtin\\nsigner_digest = sha256\\ndefault_policy = 1.2.3.4.1\\ndigests = sha256\\naccuracy = secs:1\\ntsa_name = yes\\ness_cert_id_alg = sha256\\n' > ts.cnf
            echo 01 > tsaserial
            """
        let result = try CLI.run(["-c", script, "pki", dir.path], executable: "/bin/sh")
        #expect(result.status == 0, "\(result.stderr)")
    }

    /// The local TSA, serving from `dir` (whose tsa.crt/tsa.key sign); stopped by `stop()`.
    final class LocalTSA {
        let process = Process()
        let url: String

        init(dir: URL) throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "python3", CLI.packageRoot.appendingPathComponent("Tests/Fixtures/tsa/tsa_server.py").path, dir.path,
            ]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            var line: [UInt8] = []
            while let byte = try out.fileHandleForReading.read(upToCount: 1)?.first, byte != UInt8(ascii: "\n") {
                line.append(byte)
            }
            guard let port = UInt16(String(decoding: line, as: UTF8.self)) else {
                throw CLIError("the local TSA did not start")
            }
            url = "http://127.0.0.1:\(port)"
        }

        // SIGKILL: the test runner blocks SIGTERM in its threads, and a child inherits the blocked mask.
        func stop() { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }

    struct CLIError: Error { let message: String; init(_ message: String) { self.message = message } }

    /// A directory with the PKI, the local TSA serving from it, and a store holding the scenario.
    struct Lab {
        let dir: URL
        let tsa: LocalTSA
        let db: String
        var ca: String { dir.appendingPathComponent("ca.crt").path }
        var rogue: String { dir.appendingPathComponent("rogue.crt").path }

        init() throws {
            dir = try CLI.temporaryDirectory()
            try TimestampTests.makePKI(in: dir)
            tsa = try LocalTSA(dir: dir)
            db = dir.appendingPathComponent("log.sqlite").path
            #expect(try CLI.run(["init", "--db", db, "--origin", "test.example/probity"]).status == 0)
            #expect(try CLI.run(["append", "--db", db, "--quiet", DomainTests.scenario.path]).status == 0)
        }
    }

    @Test("A token from a real TSA is checked, recorded, and verified against the CA; a foreign CA fails verify")
    func timestampAndVerify() throws {
        let lab = try Lab()
        defer { lab.tsa.stop() }
        let (tsa, db, ca, rogue) = (lab.tsa, lab.db, lab.ca, lab.rogue)

        let stamped = try CLI.run(["timestamp", "--db", db, "--tsa", tsa.url + "/tsa", "--ca", ca, "--json"])
        #expect(stamped.status == 0, "\(stamped.stderr)")
        #expect(stamped.json["tree_size"]?.uint64Value == 34 && stamped.json["chain_checked"] == .bool(true))
        #expect(stamped.json["tsa"]?.stringValue?.contains("Probity Test TSA (tsa)") == true)
        let genTime = stamped.json["gen_time"]?.stringValue ?? ""
        #expect(genTime.count >= 20 && Timestamp(rfc3339: genTime) != nil, "gen_time \(genTime) is RFC 3339")
        let entry = try CLI.run(["show", "--db", db, "34"]).stdout
        #expect(entry.contains(#""type":"checkpoint.timestamped""#) && entry.contains(#""tree_size":34"#))

        let verified = try CLI.run(["verify", "--db", db, "--tsa-ca", ca, "--json"])
        #expect(verified.status == 0, "\(verified.stdout)")
        let check = verified.json["timestamps"]?.arrayValue?.first
        #expect(
            check?["seq"]?.uint64Value == 34 && check?["chain_checked"] == .bool(true) && check?["problem"] == .null)
        let text = try CLI.run(["verify", "--db", db, "--tsa-ca", ca]).stdout
        #expect(
            text.contains("timestamp seq 34: the checkpoint of size 34 existed at \(genTime)")
                && text.contains("(certificate chain checked)"))
        let unchained = try CLI.run(["verify", "--db", db]).stdout
        #expect(unchained.contains("give --tsa-ca to check who the TSA is"))

        let foreign = try CLI.run(["verify", "--db", db, "--tsa-ca", rogue])
        #expect(
            foreign.status == 1
                && foreign.stdout.contains(
                    "FAILED timestamp seq 34 (checkpoint of size 34): the time-stamp token does not verify"),
            "\(foreign.stdout)")
        // The token's checkpoint stays provable after more appends: a second timestamp dates the later size.
        #expect(try CLI.run(["timestamp", "--db", db, "--tsa", tsa.url + "/tsa", "--ca", ca]).status == 0)
        let twice = try CLI.run(["verify", "--db", db, "--tsa-ca", ca, "--json"])
        #expect(
            twice.status == 0 && twice.json["timestamps"]?.arrayValue?.map { $0["tree_size"]?.uint64Value } == [34, 35])
    }

    @Test("A bundle carries the timestamp dating its entries; both verifiers check the token against the CA")
    func bundleDating() throws {
        let lab = try Lab()
        defer { lab.tsa.stop() }
        let (dir, tsa, db, ca, rogue) = (lab.dir, lab.tsa, lab.db, lab.ca, lab.rogue)
        #expect(try CLI.run(["timestamp", "--db", db, "--tsa", tsa.url + "/tsa", "--ca", ca]).status == 0)
        let bundle = dir.appendingPathComponent("b.zip").path
        #expect(try CLI.run(["export", "bundle", "--db", db, "--procedure", "2026-057", "-o", bundle]).status == 0)
        let extract = try CLI.run(
            [
                "python3", "-c",
                "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract('10_verify_bundle.py', sys.argv[2])", bundle,
                dir.path,
            ],
            executable: "/usr/bin/env")
        #expect(extract.status == 0, "\(extract.stderr)")
        let script = dir.appendingPathComponent("10_verify_bundle.py").path
        for (ca, status, said) in [
            (ca, Int32(0), "dated the checkpoint of size 34 at"),
            (rogue, 1, "the RFC 3161 token of entry 34 does not verify"),
        ] {
            let probity = try CLI.run(["verify-bundle", bundle, "--tsa-ca", ca])
            let python = try CLI.run(["python3", script, bundle, "--tsa-ca", ca], executable: "/usr/bin/env")
            for result in [probity, python] {
                #expect(result.status == status && result.stdout.contains(said), "\(result.stdout) \(result.stderr)")
            }
            if status == 0 {
                #expect(
                    probity.stdout.contains(
                        "(RFC 3161, certificate chain checked): the 17 entries in scope below that size existed then"))
            }
        }
    }

    @Test("probityd timestamps the log on its schedule when it grew, and says why in its log when the TSA fails")
    func daemonSchedule() throws {
        let lab = try Lab()
        defer { lab.tsa.stop() }
        let (tsa, ca) = (lab.tsa, lab.ca)
        let store = try DaemonStore(directory: lab.dir.appendingPathComponent("daemon"))
        let daemon = try DaemonProcess(
            store: store, extra: ["--tsa-url", tsa.url + "/tsa", "--tsa-ca", ca, "--timestamp-interval", "1"])
        var stamped: [JSONValue] = []
        for _ in 0..<100 where stamped.isEmpty {
            Thread.sleep(forTimeInterval: 0.1)
            stamped =
                try store.client("read").json("GET", "/v1/events?after=\(store.base - 1)&limit=10")["entries"]?
                .arrayValue ?? []
        }
        #expect(daemon.terminate() == 0)
        let first = stamped.first?["entry"]
        #expect(
            first?["type"] == .string("checkpoint.timestamped")
                && first?["data"]?["tree_size"]?.uint64Value == store.base, "\(stamped)")
        let verified = try CLI.run(["verify", "--db", store.db, "--tsa-ca", ca, "--json"])
        #expect(verified.status == 0 && verified.json["timestamps"]?.arrayValue?.count == 1, "\(verified.stdout)")

        // The log grew; the TSA answers garbage: probityd keeps serving, logs why, appends no timestamp.
        #expect(
            try CLI.run(["append", "--db", store.db, "--quiet", "-"], stdin: TestEvents.exchange("while-stopped"))
                .status == 0)
        let broken = try DaemonProcess(
            store: store, extra: ["--tsa-url", tsa.url + "/broken", "--timestamp-interval", "1"])
        for _ in 0..<50 where !broken.stderr.contains("timestamp not taken") { Thread.sleep(forTimeInterval: 0.1) }
        #expect(try store.client().send("POST", "/v1/events", body: TestEvents.exchange("after-broken")).status == 201)
        #expect(broken.terminate() == 0)
        #expect(
            broken.stderr.contains("timestamp not taken") && broken.stderr.contains("not a DER TimeStampResp"),
            "\(broken.stderr)")
        let bad = try CLI.run(["verify", "--db", store.db, "--tsa-ca", ca, "--json"])
        #expect(bad.json["timestamps"]?.arrayValue?.count == 1)
        let config = try CLI.run(
            ["--store", store.db, "--tsa-url", "https://tsa.example/", "--print-config"],
            executable: DaemonProcess.binary)
        #expect(
            config.status == 2 && config.stderr.contains("timestamp.tsa_url: must be an http:// URL"),
            "\(config.stderr)")
    }

    @Test(
        "A TSA that is down, answers garbage, is not trusted or lacks the timeStamping usage: clear error, nothing appended"
    )
    func failures() throws {
        let lab = try Lab()
        defer { lab.tsa.stop() }
        let (dir, tsa, db, ca, rogue) = (lab.dir, lab.tsa, lab.db, lab.ca, lab.rogue)
        func size() throws -> UInt64? { try CLI.run(["checkpoint", "--db", db, "--json"]).json["size"]?.uint64Value }
        let before = try size()
        let cases: [([String], Int32, String)] = [
            (["--tsa", tsa.url + "/down"], 2, "answered HTTP 503"),
            (["--tsa", tsa.url + "/broken"], 2, "not a DER TimeStampResp"),
            (["--tsa", "http://127.0.0.1:9/tsa"], 2, "cannot reach the TSA"),
            (["--tsa", "https://tsa.example/"], 2, "must be an http:// URL"),
            (["--tsa", tsa.url + "/tsa", "--ca", rogue], 1, "the TSA's token does not verify"),
            (
                ["--tsa", tsa.url + "/tsa", "--ca", dir.appendingPathComponent("nonexistent.pem").path], 2,
                "nonexistent.pem"
            ),
        ]
        for (arguments, status, message) in cases {
            let result = try CLI.run(["timestamp", "--db", db] + arguments)
            #expect(
                result.status == status && result.stderr.contains(message),
                "\(arguments): \(result.status) \(result.stderr)")
        }
        // A certificate without the critical timeStamping usage, though the CA issued it: `openssl ts` will not
        // sign with it (HTTP 500), and Probity's check (TS_RESP_verify_token) would refuse its token too.
        try FileManager.default.removeItem(at: dir.appendingPathComponent("tsa.crt"))
        try FileManager.default.copyItem(
            at: dir.appendingPathComponent("plain.crt"), to: dir.appendingPathComponent("tsa.crt"))
        try FileManager.default.removeItem(at: dir.appendingPathComponent("tsa.key"))
        try FileManager.default.copyItem(
            at: dir.appendingPathComponent("plain.key"), to: dir.appendingPathComponent("tsa.key"))
        let plain = try CLI.run(["timestamp", "--db", db, "--tsa", tsa.url + "/tsa", "--ca", ca])
        #expect(
            plain.status != 0
                && (plain.stderr.contains("answered HTTP 500") || plain.stderr.contains("does not verify")),
            "\(plain.stderr)")
        #expect(try size() == before, "something was appended")
    }
}
