// probityd's benchmark: concurrent clients appending over the Unix socket, against the same clients on
// a route that validates and appends nothing (the cost of durability), the batch route, and the
// daemon's memory after a large log. Clients and daemon share this machine's cores.
//
//   swift build -c release --package-path Benchmarks && PROBITYD=.build/release/probityd Benchmarks/.build/release/probityd-bench [--clients 64] [--seconds 10] [--events 1000000]
import BenchSupport
import Foundation
import ProbityClient
import ProbityDomain
import ProbityHTTP
import ProbityLog
import ProbityStore

struct Options {
    let clients, events, batch, batchClients: Int
    let seconds, window: Double
    let dir: String

    init() {
        let a = BenchArguments(
            names: ["--clients", "--seconds", "--events", "--batch", "--batch-clients", "--window", "--dir"],
            program: "probityd-bench",
            usage: "[--clients C] [--seconds S] [--events N] [--batch B] [--batch-clients K] [--window MS] [--dir PATH]"
        )
        clients = a.int("--clients", default: 64)
        seconds = a.double("--seconds", default: 10)
        events = a.int("--events", default: 1_000_000)
        batch = a.int("--batch", default: 1_000)
        batchClients = a.int("--batch-clients", default: 4)
        window = a.double("--window", default: 0)
        dir = a.string("--dir", default: "var/bench-daemon")
    }
}

let options = Options()

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("probityd-bench: \(message)\n".utf8))
    exit(1)
}

func monotonic() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// A synthetic recorded exchange (~1 KB body: header data, ~600-byte payload), unique by `id`.
func eventJSON(_ id: String, _ i: Int) -> String {
    let text = String(repeating: "Bonjour, suite à notre échange sur le lot \(i % 7), voici nos questions. ", count: 8)
    return
        #"{"type":"exchange.recorded","data":{"procedure":"2026-\#(String(format: "%04d", i % 1000))","channel":"\#(["linkedin", "x", "email", "mastodon"][i % 4])","kind":"message","visibility":"direct","direction":"inbound","from":"sup-\#(i % 5000)","to":["agent-\#(i % 50)"],"source":{"platform":"bench","id":"\#(id)"},"occurred_at":"2026-03-10T08:14:00Z"},"payload":{"text":"\#(text)","sender":{"name":"Jean Martin","url":"https://www.linkedin.com/in/jean-martin-\#(i % 5000)"}}}"#
}

// MARK: Set-up: a store, a token, a daemon.

let dir = URL(fileURLWithPath: options.dir)
try? FileManager.default.removeItem(at: dir)
try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
let db = dir.appendingPathComponent("log.sqlite").path
let keyPath = dir.appendingPathComponent("log.key.pem").path
let key = try Ed25519PrivateKey.generate()
FileManager.default.createFile(atPath: keyPath, contents: Data(key.pem.utf8), attributes: [.posixPermissions: 0o600])
do {
    // The parties and procedures the exchanges name: without them every append is a 422.
    let writer = try LogWriter.create(
        path: db, origin: "bench.example/probity", signer: NoteSigner(name: "bench.example/probity", privateKey: key),
        keyPath: keyPath, by: "bench", software: "probityd-bench")
    _ = try writer.append(registrations(), by: "bench")
}
let token = try TokenStore.open(path: db).create(name: "bench", role: .ingest).token.text
let socket = dir.appendingPathComponent("probityd.sock").path

// The daemon under test: $PROBITYD (Scripts/bench.sh passes the root package's release build), else beside this binary.
let daemonBinary =
    ProcessInfo.processInfo.environment["PROBITYD"]
    ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("probityd")
    .path
let daemon = Process()
daemon.executableURL = URL(fileURLWithPath: daemonBinary)
daemon.arguments = [
    "--store", db, "--socket", socket, "--max-batch-events", String(max(1000, options.batch)), "--log-level", "warning",
    "--commit-window-ms", String(options.window),
]
try daemon.run()
defer { if daemon.isRunning { daemon.terminate(); daemon.waitUntilExit() } }
let startDeadline = monotonic() + 30
while (try? HTTPConnection(.unix(path: socket), timeout: 2).request("GET", "/healthz")) == nil {
    guard monotonic() < startDeadline, daemon.isRunning else { fail("probityd did not start (\(daemonBinary))") }
    usleep(20_000)
}

func daemonMemoryMiB() -> (rss: Double, peak: Double) {
    guard let status = try? String(contentsOfFile: "/proc/\(daemon.processIdentifier)/status", encoding: .utf8) else {
        return (0, 0)
    }
    func field(_ name: String) -> Double {
        status.split(separator: "\n").first { $0.hasPrefix(name) }.flatMap {
            Double($0.split(separator: " ").dropFirst().first ?? "")
        }.map { $0 / 1024 } ?? 0
    }
    return (field("VmRSS:"), field("VmHWM:"))
}

/// CPU seconds (user + system) the daemon has used so far.
func daemonCPUSeconds() -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(daemon.processIdentifier)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return 0 }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    // After the command: state is field 3; utime and stime are fields 14 and 15 (clock ticks).
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

// MARK: Load

final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var latencies: [Double] = []
    private(set) var events = 0
    private(set) var errors: [String] = []
    func add(_ latencies: [Double], events: Int, errors: [String]) {
        lock.lock()
        self.latencies += latencies
        self.events += events
        self.errors += errors.prefix(3)
        lock.unlock()
    }
}

struct Phase {
    let name: String
    let events: Int
    let seconds: Double
    let latencies: [Double]
    /// Daemon CPU time per event, in microseconds.
    let daemonCPU: Double
    var rate: Double { Double(events) / seconds }
    func latency(_ p: Double) -> Double {
        latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] * 1000
    }
}

/// `clients` threads, each on its own kept-alive connection, sending `body(client, n)` to `path` until
/// `seconds` pass (or `total` events are sent, when given).
func load(
    _ name: String, clients: Int, path: String, seconds: Double, total: Int? = nil, eventsPerRequest: Int = 1,
    body: @escaping @Sendable (Int, Int) -> [UInt8]
) -> Phase {
    let results = Results()
    let group = DispatchGroup()
    let cpuBefore = daemonCPUSeconds()
    let start = monotonic()
    let deadline = start + seconds
    let perClient = total.map { ($0 + clients * eventsPerRequest - 1) / (clients * eventsPerRequest) }
    for client in 0..<clients {
        group.enter()
        let thread = Thread {
            let connection = DaemonClient(.unix(path: socket), token: token)
            var latencies: [Double] = []
            var errors: [String] = []
            var n = 0
            while perClient.map({ n < $0 }) ?? (monotonic() < deadline) {
                let payload = body(client, n)
                let sent = monotonic()
                do {
                    _ = try connection.send("POST", path, body: payload)
                    latencies.append(monotonic() - sent)
                } catch {
                    errors.append("\(error)")
                    if errors.count > 100 { break }
                }
                n += 1
            }
            results.add(latencies, events: latencies.count * eventsPerRequest, errors: errors)
            group.leave()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
    group.wait()
    let elapsed = monotonic() - start
    if !results.errors.isEmpty { fail("\(name): \(results.errors.count) errors, first: \(results.errors[0])") }
    let phase = Phase(
        name: name, events: results.events, seconds: elapsed, latencies: results.latencies.sorted(),
        daemonCPU: (daemonCPUSeconds() - cpuBefore) / Double(max(1, results.events)) * 1e6)
    FileHandle.standardError.write(
        Data(
            String(
                format: "%@: %d events in %.1f s = %.0f/s, p50 %.2f ms, p99 %.2f ms\n",
                name, phase.events, phase.seconds, phase.rate, phase.latency(0.5), phase.latency(0.99)
            ).utf8))
    return phase
}

/// (group commits, events committed) so far, from the daemon's /metrics.
func commitCounts() -> (commits: Double, events: Double) {
    let metrics = (try? HTTPConnection(.unix(path: socket)).request("GET", "/metrics").text) ?? ""
    func value(_ name: String) -> Double {
        metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap {
            Double($0.split(separator: " ").last ?? "")
        } ?? 0
    }
    return (value("probity_commit_batch_events_count"), value("probity_commit_batch_events_sum"))
}

let singleBodies = { @Sendable (client: Int, n: Int) -> [UInt8] in
    Array(eventJSON("s-\(client)-\(n)", client * 100_000 + n).utf8)
}
_ = load("warm-up", clients: options.clients, path: "/v1/events/validate", seconds: 2, body: singleBodies)
let baseline = load(
    "validate only (appends nothing)", clients: options.clients, path: "/v1/events/validate", seconds: options.seconds,
    body: singleBodies)
let commitsBefore = commitCounts()
let durable = load(
    "durable single-event appends", clients: options.clients, path: "/v1/events", seconds: options.seconds,
    body: singleBodies)
let commitsAfter = commitCounts()
let eventsPerCommit =
    (commitsAfter.events - commitsBefore.events) / max(1, commitsAfter.commits - commitsBefore.commits)
let afterSingles = try LogReader.open(path: db).size()

let remaining = max(0, options.events - Int(afterSingles))
let batchSize = options.batch
let batches = load(
    "batch route (\(batchSize) events per request)", clients: options.batchClients, path: "/v1/events",
    seconds: .infinity,
    total: remaining, eventsPerRequest: batchSize
) { client, n in
    let first = (client * 1_000_000 + n) * batchSize
    return Array(
        ("{\"events\":["
            + (0..<batchSize).map { eventJSON("b-\(client)-\(n)-\($0)", first + $0) }.joined(separator: ",") + "]}")
            .utf8)
}
let size = try LogReader.open(path: db).size()
let memory = daemonMemoryMiB()
let metrics = (try? HTTPConnection(.unix(path: socket)).request("GET", "/metrics").text) ?? ""
let commits =
    metrics.split(separator: "\n").first { $0.hasPrefix("probity_commit_batch_events_count") }.map {
        String($0.split(separator: " ").last ?? "")
    } ?? "?"
daemon.terminate()
daemon.waitUntilExit()

let report = """
    ## probityd (\(ProcessInfo.processInfo.activeProcessorCount) cores shared by clients and daemon; \(options.clients) clients, \(Int(options.seconds)) s per phase, commit window \(options.window) ms)

    | phase | events | events/s | p50 | p99 | max | daemon CPU per event |
    |---|---:|---:|---:|---:|---:|---:|
    | \(baseline.name) | \(baseline.events) | \(String(format: "%.0f", baseline.rate)) | \(String(format: "%.2f", baseline.latency(0.5))) ms | \(String(format: "%.2f", baseline.latency(0.99))) ms | \(String(format: "%.2f", baseline.latency(1))) ms | \(String(format: "%.0f", baseline.daemonCPU)) µs |
    | \(durable.name) | \(durable.events) | \(String(format: "%.0f", durable.rate)) | \(String(format: "%.2f", durable.latency(0.5))) ms | \(String(format: "%.2f", durable.latency(0.99))) ms | \(String(format: "%.2f", durable.latency(1))) ms | \(String(format: "%.0f", durable.daemonCPU)) µs |
    | \(batches.name), \(options.batchClients) clients | \(batches.events) | \(String(format: "%.0f", batches.rate)) | \(String(format: "%.1f", batches.latency(0.5))) ms | \(String(format: "%.1f", batches.latency(0.99))) ms | \(String(format: "%.1f", batches.latency(1))) ms | \(String(format: "%.0f", batches.daemonCPU)) µs |

    - Cost of durability: durable appends run at **\(String(format: "%.2f", durable.rate / baseline.rate))×** the rate of the route that appends nothing; group commit put \(String(format: "%.1f", eventsPerCommit)) events in each transaction on average.
    - Log size at the end: \(size) entries in \(commits) group commits; daemon memory after it: RSS \(String(format: "%.0f", memory.rss)) MiB, peak \(String(format: "%.0f", memory.peak)) MiB.

    """
print(report)
try? report.write(to: dir.appendingPathComponent("report.md"), atomically: true, encoding: .utf8)
