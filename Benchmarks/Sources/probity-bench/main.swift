// Probity's benchmark: durable batched append, verify, replay and proofs on a synthetic log of
// procurement exchanges, each against baselines measured in the same run on the same bytes
// (a raw SQLite insert with the same durability, and OpenSSL SHA-256).
//
//   swift run -c release probity-bench [--events N] [--batch B] [--dir PATH]
import BenchSupport
import Foundation
import GRDB
import ProbityDomain
import ProbityLog
import ProbityStore

struct Options {
    let events, batch, proofs: Int
    let dir: String

    init() {
        let a = BenchArguments(
            names: ["--events", "--batch", "--proofs", "--dir"], program: "probity-bench",
            usage: "[--events N] [--batch B] [--proofs P] [--dir PATH]")
        events = a.int("--events", default: 1_000_000)
        batch = a.int("--batch", default: 1_000)
        proofs = a.int("--proofs", default: 10_000)
        dir = a.string("--dir", default: "var/bench")
    }
}

func rssMiB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
        let kb = Double(line.split(separator: " ").dropFirst().first ?? "")
    else { return 0 }
    return kb / 1024
}

/// User + system CPU seconds of this process so far.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(
        usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

/// A deterministic synthetic exchange: header data without personal data, ~600-byte payload.
func syntheticEvent(_ i: Int) -> EventInput {
    let procedure = "2026-\(String(format: "%04d", i % 1000))"
    let supplier = "sup-\(i % 5000)", agent = "agent-\(i % 50)"
    let inbound = i % 2 == 0
    let data: [String: JSONValue] = [
        "procedure": .string(procedure), "channel": .string(["linkedin", "x", "email", "mastodon"][i % 4]),
        "kind": .string("message"), "visibility": .string(i % 10 == 0 ? "public" : "direct"),
        "direction": .string(inbound ? "inbound" : "outbound"),
        "from": .string(inbound ? supplier : agent), "to": .array([.string(inbound ? agent : supplier)]),
        "source": .object(["platform": .string("linkedin"), "id": .string("msg-\(i)")]),
        "occurred_at": .string("2026-03-10T08:14:00Z"), "captured_at": .string("2026-03-10T08:20:11Z"),
    ]
    let text =
        "Bonjour, concernant la consultation \(procedure), pourriez-vous préciser si le CCTP impose un enrobé tiède ou à chaud pour la couche de roulement, et si une variante est admise pour les bordures ? Nous souhaitons également savoir si la visite de site est obligatoire et à quelles dates elle peut être organisée. Merci par avance pour votre retour. Message \(i). Cordialement, l'équipe commerciale."
    let payload: JSONValue = .object([
        "text": .string(text),
        "display_names": .object(["from": .string("Julien Martin"), "to": .string("Claire Durand")]),
        "urls": .array([.string("https://www.linkedin.com/messaging/thread/\(i)/")]),
    ])
    return EventInput(type: "exchange.recorded", data: data, payload: payload)
}

let options = Options()
let fm = FileManager.default
let report = try BenchReport(dir: options.dir)
@MainActor func log(_ line: String) { report.log(line) }

log(
    "# probity-bench: \(options.events) events, batches of \(options.batch), \(ProcessInfo.processInfo.activeProcessorCount) cores"
)
log("")

// Inputs are built batch by batch, outside the timed calls, so that resident memory shows the store's
// footprint rather than a million prepared events.
func batchEvents(_ start: Int) -> [EventInput] {
    (start..<min(options.events, start + options.batch)).map(syntheticEvent)
}
let averagePayload = batchEvents(0).reduce(0) { $0 + $1.payload!.count } / max(1, min(options.batch, options.events))
var t0 = now()

// Probity: durable batched append.
let keyPEM = try Ed25519PrivateKey.generate()
let signer = try NoteSigner(name: "bench.example/probity", privateKey: keyPEM)
let dbPath = options.dir + "/log.sqlite"
let writer = try LogWriter.create(
    path: dbPath, origin: "bench.example/probity", signer: signer, keyPath: "", by: "bench", software: "probity-bench")
// The parties and procedures the exchanges name must be in the log first (not timed).
_ = try writer.append(registrations(), by: "bench")
var rssSamples: [(Int, Double)] = []
var appendSeconds = 0.0
var appendCPU = 0.0
var done = 0
while done < options.events {
    let events = batchEvents(done)
    t0 = now()
    let c0 = cpuSeconds()
    _ = try writer.append(events, by: "bench")
    appendSeconds += now() - t0
    appendCPU += cpuSeconds() - c0
    done += events.count
    if done % (options.events / 10 == 0 ? options.events : options.events / 10) == 0 {
        rssSamples.append((done, rssMiB()))
    }
}
let appendRate = Double(options.events) / appendSeconds
let entryBytesTotal = try DatabaseQueue(path: dbPath).read {
    try Int.fetchOne($0, sql: "SELECT SUM(length(bytes)) FROM entries") ?? 0
}
let averageEntry = entryBytesTotal / Int(try writer.size())

// Baseline 1: the same bytes (an entry-sized blob and the payload) into SQLite, same durability, same batches.
let rawPath = options.dir + "/raw.sqlite"
let raw = try DatabaseQueue(path: rawPath)
try raw.writeWithoutTransaction { db in
    try db.execute(sql: "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL")
    try db.execute(
        sql:
            "CREATE TABLE entries (seq INTEGER PRIMARY KEY, bytes BLOB NOT NULL); CREATE TABLE payloads (seq INTEGER PRIMARY KEY, bytes BLOB NOT NULL)"
    )
}
let entryFiller = [UInt8](repeating: 0x61, count: averageEntry)
var rawSeconds = 0.0
var shaSeconds = 0.0
var sink: UInt8 = 0
done = 0
while done < options.events {
    let payloads = batchEvents(done).map { Data($0.payload!) }
    t0 = now()
    try raw.write { db in
        let e = try db.cachedStatement(sql: "INSERT INTO entries (seq, bytes) VALUES (?, ?)")
        let p = try db.cachedStatement(sql: "INSERT INTO payloads (seq, bytes) VALUES (?, ?)")
        for (i, payload) in payloads.enumerated() {
            try e.execute(arguments: [done + i, Data(entryFiller)])
            try p.execute(arguments: [done + i, payload])
        }
    }
    rawSeconds += now() - t0
    // Baseline 2: SHA-256 (OpenSSL) over the same bytes: entry + payload per event.
    t0 = now()
    for payload in payloads { sink ^= SHA256.hash(entryFiller)[0] ^ SHA256.hash(payload)[0] }
    shaSeconds += now() - t0
    done += payloads.count
}
let rawRate = Double(options.events) / rawSeconds

let shaRate = Double(options.events) / shaSeconds

// Verify and replay, from a fresh reader.
let reader = try LogReader.open(path: dbPath)
t0 = now()
let verified = try reader.verify(trust: .verifier(signer.verifier))
let verifySeconds = now() - t0
guard verified.intact else { print("verify FAILED: \(verified.failures.first!)"); exit(1) }
let verifyRate = Double(verified.size) / verifySeconds
t0 = now()
let replayed = try reader.replay()
let replaySeconds = now() - t0
let replayRate = Double(replayed.entries) / replaySeconds

// Proofs: random inclusion and consistency proofs against the latest checkpoint.
let size = try reader.size()
var rng = SystemRandomNumberGenerator()
var inclusion: [Double] = [], consistency: [Double] = []
for _ in 0..<options.proofs {
    let seq = UInt64.random(in: 0..<size, using: &rng)
    var t = now()
    _ = try reader.tlogProof(seq: seq)
    inclusion.append((now() - t) * 1000)
    let old = UInt64.random(in: 1..<size, using: &rng)
    t = now()
    _ = try reader.consistencyProof(from: old, to: size)
    consistency.append((now() - t) * 1000)
}
inclusion.sort(); consistency.sort()

let dbSize = (try fm.attributesOfItem(atPath: dbPath)[.size] as? Int ?? 0)
log("| measure | result | baseline in the same run | ratio |")
log("|---|---|---|---|")
log(
    String(
        format:
            "| durable batched append (batch %d, WAL, synchronous=FULL) | %.0f events/s | raw SQLite insert of the same bytes: %.0f events/s | %.2f× of raw |",
        options.batch, appendRate, rawRate, appendRate / rawRate))
log(
    String(
        format:
            "| verify (everything recomputed, %d cores) | %.0f events/s | SHA-256 of the same bytes: %.0f events/s | %.2f× of SHA-256 alone |",
        ProcessInfo.processInfo.activeProcessorCount, verifyRate, shaRate, verifyRate / shaRate))
log(String(format: "| replay (chain check + projections) | %.0f events/s | | |", replayRate))
log(
    String(
        format: "| inclusion proof (.tlog-proof, latest checkpoint) | p50 %.3f ms, p99 %.3f ms, max %.3f ms | | |",
        percentile(inclusion, 0.5), percentile(inclusion, 0.99), inclusion.last!))
log(
    String(
        format: "| consistency proof (random old size → latest) | p50 %.3f ms, p99 %.3f ms, max %.3f ms | | |",
        percentile(consistency, 0.5), percentile(consistency, 0.99), consistency.last!))
log("")
log(
    "Entry ~\(averageEntry) bytes, payload ~\(averagePayload) bytes; store \(dbSize / 1_048_576) MiB for \(size) entries; \(try reader.checkpointCount()) checkpoints."
)
log(String(format: "Resident memory after verify and replay: %.0f MiB.", rssMiB()))
log(
    "Resident memory while appending (events appended → RSS MiB): "
        + rssSamples.map { "\($0.0) → \(String(format: "%.0f", $0.1))" }.joined(separator: ", "))
log(String(format: "Append used %.1f s of CPU for %.1f s of wall time.", appendCPU, appendSeconds))
log(
    String(
        format: "Times: append %.1f s, raw insert %.1f s, SHA-256 %.1f s, verify %.1f s, replay %.1f s.", appendSeconds,
        rawSeconds, shaSeconds, verifySeconds, replaySeconds))
if sink == 42 { print("") }
try report.save()
