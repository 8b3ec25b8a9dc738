// Benchmarks of the procurement domain (issue 4), each as a user meets it:
//   1. findings on one procedure of N events (default 100,000): projections rebuilt from the entries,
//      then from the snapshot `probity replay` saves, and the rules alone;
//   2. `probity import --format linkedin-csv` of an M-message messages.csv (default 100,000), run as
//      the CLI binary beside this one, with the time spent reading the CSV alone as the baseline.
// Replay of 1,000,000 events is measured by probity-bench (its "replay" line includes these projections).
//
//   swift run -c release probity-domain-bench [--events N] [--messages M] [--dir PATH]
import BenchSupport
import Foundation
import ProbityDomain
import ProbityImport
import ProbityLog
import ProbityStore

struct Options {
    let events, messages: Int
    let dir: String

    init() {
        let a = BenchArguments(
            names: ["--events", "--messages", "--dir"], program: "probity-domain-bench",
            usage: "[--events N] [--messages M] [--dir PATH]")
        events = a.int("--events", default: 100_000)
        messages = a.int("--messages", default: 100_000)
        dir = a.string("--dir", default: "var/bench-domain")
    }
}

func event(_ json: String) -> EventInput { try! EventInput(json: JSONParser.parse(json)) }

let options = Options()
let fm = FileManager.default
let report = try BenchReport(dir: options.dir)
@MainActor func log(_ line: String) { report.log(line) }

let suppliers = 200
/// The buyer, its agent, `suppliers` supplier organisations with one contact each, open tender P.
func registry() -> [EventInput] {
    var events = [
        event(#"{"type":"party.registered","data":{"party":"buyer","role":"buyer_org","time_zone":"Europe/Paris"}}"#),
        event(#"{"type":"party.registered","data":{"party":"agent","role":"buyer_agent","org":"buyer"}}"#),
    ]
    for s in 0..<suppliers {
        events.append(event(#"{"type":"party.registered","data":{"party":"s\#(s)","role":"supplier_org"}}"#))
        events.append(
            event(#"{"type":"party.registered","data":{"party":"c\#(s)","role":"supplier_contact","org":"s\#(s)"}}"#))
    }
    events.append(
        event(
            #"{"type":"procedure.opened","data":{"procedure":"P","kind":"open_tender","buyer":"buyer","published_at":"2026-01-05T09:00:00Z","tender_deadline":"2026-12-20T12:00:00Z"}}"#
        ))
    events.append(
        event(
            #"{"type":"procedure.phase_changed","data":{"procedure":"P","phase":"consultation","effective_at":"2026-01-05T09:00:00Z"}}"#
        ))
    for s in 0..<suppliers {
        events.append(event(#"{"type":"procedure.candidate_joined","data":{"procedure":"P","party":"s\#(s)"}}"#))
    }
    return events
}

/// Event `i` of the procedure's traffic: questions from candidates' contacts (direct, on four channels),
/// the buyer's private answers, platform messages, a disclosure every 50 answers, a public post now and then.
func traffic(_ i: Int) -> EventInput {
    let s = i % suppliers
    let minute = 60_000_000 * Int64(i)
    let at = Timestamp(microsecondsSinceEpoch: Timestamp(rfc3339: "2026-01-06T00:00:00Z")!.microseconds + minute / 10)
        .description
    let channel = ["linkedin", "x", "email", "platform"][i % 4]
    switch i % 10 {
    case 9 where i % 500 == 499:
        return event(
            #"{"type":"disclosure.published","data":{"procedure":"P","answers":[{"platform":"\#(["linkedin", "x", "email", "platform"][(i - 9) % 4])","id":"q\#(i - 9)"}],"channel":"platform","published_at":"\#(at)"}}"#
        )
    case 7:
        return event(
            #"{"type":"exchange.recorded","data":{"procedure":"P","channel":"linkedin","kind":"post","visibility":"public","from":"agent","mentions":["s\#(s)"],"source":{"platform":"linkedin","id":"post\#(i)"},"occurred_at":"\#(at)"}}"#
        )
    case let k where k % 2 == 1:
        return event(
            #"{"type":"exchange.recorded","data":{"procedure":"P","channel":"\#(channel)","kind":"reply","visibility":"direct","from":"agent","to":["c\#(s)"],"source":{"platform":"\#(channel)","id":"a\#(i)"},"reply_to":{"platform":"\#(["linkedin", "x", "email", "platform"][(i - 1) % 4])","id":"q\#(i - 1)"},"occurred_at":"\#(at)"}}"#
        )
    default:
        return event(
            #"{"type":"exchange.recorded","data":{"procedure":"P","channel":"\#(channel)","kind":"message","visibility":"direct","from":"c\#(s)","to":["agent"],"source":{"platform":"\#(channel)","id":"q\#(i)"},"occurred_at":"\#(at)"}}"#
        )
    }
}

log(
    "# probity-domain-bench: one procedure of \(options.events) events; a LinkedIn export of \(options.messages) messages; \(ProcessInfo.processInfo.activeProcessorCount) cores"
)
log("")

// 1. Findings on one procedure.
let key = try Ed25519PrivateKey.generate()
let signer = try NoteSigner(name: "bench.example/probity", privateKey: key)
let dbPath = options.dir + "/procedure.sqlite"
let writer = try LogWriter.create(
    path: dbPath, origin: "bench.example/probity", signer: signer, keyPath: "", by: "bench",
    software: "probity-domain-bench")
_ = try writer.append(registry(), by: "bench")
for start in stride(from: 0, to: options.events, by: 5_000) {
    _ = try writer.append((start..<min(options.events, start + 5_000)).map(traffic), by: "bench")
}
let reader = try LogReader.open(path: dbPath)
var t0 = now()
let rebuilt = try reader.domainState()
let rebuildSeconds = now() - t0
t0 = now()
let findings = FindingRules.evaluate(rebuilt, procedure: "P")
let rulesSeconds = now() - t0
try SnapshotWriter.save(rebuilt, path: dbPath)
t0 = now()
let loaded = try LogReader.open(path: dbPath).domainState()
let loadSeconds = now() - t0
guard loaded == rebuilt else { print("the snapshot does not give the rebuilt state"); exit(1) }
let procedureEvents = rebuilt.procedures["P"]!.records.count
let counts = Dictionary(grouping: findings, by: \.rule.rawValue).mapValues(\.count).sorted { $0.key < $1.key }.map {
    "\($0.key) \($0.value)"
}

// 2. LinkedIn import through the CLI.
let csvPath = options.dir + "/messages.csv", mappingPath = options.dir + "/mapping.json",
    importDB = options.dir + "/import.sqlite"
var csv =
    "CONVERSATION ID,CONVERSATION TITLE,FROM,SENDER PROFILE URL,TO,RECIPIENT PROFILE URLS,DATE,SUBJECT,CONTENT,FOLDER,ATTACHMENTS\n"
for i in 0..<options.messages {
    let s = i % suppliers
    let inbound = i % 2 == 0
    let (from, fromURL) =
        inbound
        ? ("Contact \(s)", "https://www.linkedin.com/in/contact-\(s)")
        : ("Claire Durand", "https://www.linkedin.com/in/claire-durand")
    let (to, toURL) =
        inbound
        ? ("Claire Durand", "https://www.linkedin.com/in/claire-durand")
        : ("Contact \(s)", "https://www.linkedin.com/in/contact-\(s)")
    let date = Timestamp(
        microsecondsSinceEpoch: Timestamp(rfc3339: "2026-01-06T00:00:00Z")!.microseconds + Int64(i) * 6_000_000)
    let text =
        "Bonjour, concernant le lot \(i % 7), pourriez-vous préciser les délais de livraison « franco de port » ?\nCordialement, message \(i)."
    csv +=
        "2-conv-\(s),,\(from),\(fromURL),\(to),\(toURL),\(LocalTime.utc.day(date)) \(LocalTime.utc.clock(date)):\(String(format: "%02d", i % 60)) UTC,,\"\(text)\",INBOX,\n"
}
try csv.write(toFile: csvPath, atomically: true, encoding: .utf8)
var accounts = ["\"https://www.linkedin.com/in/claire-durand\": \"agent\""]
for s in 0..<suppliers { accounts.append("\"https://www.linkedin.com/in/contact-\(s)\": \"c\(s)\"") }
try "{\"accounts\": {\(accounts.joined(separator: ", "))}, \"buyers\": [\"agent\"]}".write(
    toFile: mappingPath, atomically: true, encoding: .utf8)
/// The store the CLI imports into, with the registry; the writer (and its lock) is released on return.
func createImportStore() throws {
    let importWriter = try LogWriter.create(
        path: importDB, origin: "bench.example/probity", signer: signer, keyPath: "", by: "bench",
        software: "probity-domain-bench")
    _ = try importWriter.append(registry(), by: "bench")
}
try createImportStore()
let keyPath = options.dir + "/bench.key.pem"
try key.pem.write(toFile: keyPath, atomically: true, encoding: .utf8)
chmod(keyPath, 0o600)
let csvBytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: csvPath)))
t0 = now()
let parsed = try LinkedInMessages.read(csvBytes)
let parseSeconds = now() - t0
guard parsed.messages.count == options.messages else {
    print("read \(parsed.messages.count) of \(options.messages) messages"); exit(1)
}
let mapping = try PartyMapping(json: [UInt8](Data(contentsOf: URL(fileURLWithPath: mappingPath))), file: mappingPath)
t0 = now()
let planned = try ImportMapper.plan(
    parsed, procedure: "P", mapping: mapping, register: nil, capturedAt: "2026-11-30T00:00:00Z")
let planSeconds = now() - t0
guard planned.events.count == options.messages else {
    print("planned \(planned.events.count) of \(options.messages) events"); exit(1)
}

// The CLI under test: $PROBITY (Scripts/bench.sh passes the root package's release build), else beside this binary.
let cli =
    ProcessInfo.processInfo.environment["PROBITY"]
    ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("probity").path
func runImport() throws -> (Double, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: cli)
    process.arguments = [
        "import", "--db", importDB, "--key", keyPath, "--format", "linkedin-csv", "--procedure", "P", "--mapping",
        mappingPath, "--json", csvPath,
    ]
    let out = Pipe()
    process.standardOutput = out
    let started = now()
    try process.run()
    let output = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        print("probity import failed (\(process.terminationStatus)); is \(cli) built?"); exit(1)
    }
    return (now() - started, String(decoding: output, as: UTF8.self))
}
guard fm.isExecutableFile(atPath: cli) else {
    print("no probity CLI at \(cli): build it (swift build -c release --product probity) and set PROBITY to its path")
    exit(1)
}
let (importSeconds, importReport) = try runImport()
let (reimportSeconds, _) = try runImport()

log("| measure | result | target | baseline in the same run |")
log("|---|---|---|---|")
log(
    String(
        format:
            "| findings on a procedure of %d events, projections rebuilt from the entries | %.2f s (rebuild %.2f s + rules %.3f s) | ≤ 2 s | |",
        procedureEvents, rebuildSeconds + rulesSeconds, rebuildSeconds, rulesSeconds))
log(
    String(
        format:
            "| findings on the same procedure, projections from the snapshot | %.2f s (load %.2f s + rules %.3f s) | ≤ 2 s | |",
        loadSeconds + rulesSeconds, loadSeconds, rulesSeconds))
log(
    String(
        format:
            "| `probity import --format linkedin-csv`, %d messages (parse, map, append durably) | %.0f messages/s (%.2f s) | ≥ 50,000/s | reading the CSV alone: %.0f messages/s |",
        options.messages, Double(options.messages) / importSeconds, importSeconds,
        Double(options.messages) / parseSeconds))
log(
    String(
        format: "| the same import again (every message already recorded) | %.0f messages/s (%.2f s) | | |",
        Double(options.messages) / reimportSeconds, reimportSeconds))
log(
    String(
        format:
            "| of which, in process: reading the CSV %.2f s, mapping to events %.2f s; the rest is checking references and appending durably | | | |",
        parseSeconds, planSeconds))
log("")
log("Findings on the procedure: \(findings.count) (\(counts.joined(separator: ", "))).")
log("First import's report: " + (importReport.split(separator: "\n").first.map { String($0.prefix(200)) } ?? ""))
try report.save()
