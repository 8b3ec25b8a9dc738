import ArgumentParser
import Foundation
import ProbityDomain
import ProbityLog
import ProbityStore
import ProbityWire

struct AppendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append events from a JSON or JSONL file (or standard input).",
        discussion: """
            Each event is {"type": ..., "data": {...}, "payload": {...}}: `data` holds the header fields (no \
            personal data), `payload` the personal data, stored apart with a random salt and committed to by \
            hash. Input is one JSON event, a JSON array of events, {"events": [...]}, or JSONL (one event per \
            line). Every event is checked before any is appended: one bad event appends nothing. \
            Prints one receipt per event: seq, leaf hash, and a .tlog-proof with the signed checkpoint.

            With --socket or --url the events go through a running probityd (token from $PROBITY_TOKEN or \
            --token-file); the entries' author is then the token's name.

            Example:
              probity append --db var/log.sqlite examples/conversation.jsonl
              PROBITY_TOKEN=$(cat ingest.token) probity append --socket /run/probity/probityd.sock examples/conversation.jsonl
              echo '{"type":"x-note","data":{"procedure":"2026-042"}}' | probity append --db var/log.sqlite --json -
            """
    )

    @OptionGroup var target: LogTarget
    @Argument(help: ArgumentHelp("JSON or JSONL file of events; - for standard input.", valueName: "FILE"))
    var file: String = "-"
    @Option(help: ArgumentHelp("Signing key (default: the one recorded by init).", valueName: "PEM"))
    var key: String?
    @Option(help: ArgumentHelp("The principal recorded as the entries' author.", valueName: "NAME"))
    var by: String?
    @Flag(help: "Print only a summary line, not the receipts.")
    var quiet = false
    @OptionGroup var output: JSONFlag

    func run() throws {
        let input = try EventStream(path: file)
        guard try input.hasEvents() else { throw CLIError.usage("\(input.name) holds no event") }
        let log = try target.service(key: key, author: by)
        let summary = try log.append(
            input, receipts: ReceiptOutput(json: output.json, quiet: quiet))
        if quiet || !output.json {
            Output.info(
                "appended \(summary.appended) event\(summary.appended == 1 ? "" : "s") \(summary.destination)"
                    + (summary.duplicates > 0 ? " (\(summary.duplicates) already in the log)" : "")
                    + (summary.size.map { "; size is now \($0)" } ?? ""))
        }
    }
}

/// How receipts are printed: encoded as bytes (a JSON line, or a comment line and the .tlog-proof), and
/// written to standard output in large blocks rather than one write per line.
struct ReceiptOutput {
    let json: Bool
    let quiet: Bool

    func encode(_ receipts: [Receipt]) -> [UInt8] {
        guard !quiet else { return [] }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(receipts.count * 1_100)
        // A batch's receipts share its checkpoint: encoded once.
        var checkpoint: (note: SignedCheckpoint, bytes: [UInt8])?
        for receipt in receipts {
            if json {
                CanonicalJSON.write(receipt.json, into: &bytes)
                bytes.append(0x0A)
            } else {
                bytes.append(contentsOf: "# receipt: seq \(receipt.seq), leaf hash ".utf8)
                Hex.append(receipt.leafHash, to: &bytes)
                if receipt.duplicate { bytes.append(contentsOf: " (already in the log: nothing appended)".utf8) }
                bytes.append(0x0A)
                if checkpoint?.note != receipt.proof.checkpoint {
                    checkpoint = (receipt.proof.checkpoint, Array(receipt.proof.checkpoint.encoded.utf8))
                }
                receipt.proof.write(into: &bytes, checkpointBytes: checkpoint?.bytes)
                bytes.append(0x0A)
            }
        }
        return bytes
    }

    func emit(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        FileHandle.standardOutput.write(Data(bytes))
    }
}

/// Receipts kept until the transaction that gives them commits: encoded on a queue of their own (off the
/// writer's thread) into an unlinked temporary file, so that they take no memory and vanish if the process
/// dies.
final class ReceiptSpool: @unchecked Sendable {
    private let file: UnsafeMutablePointer<FILE>
    private let queue = DispatchQueue(label: "probity.receipts")
    /// Batches queued but not yet written: at most four, so memory stays bounded.
    private let slots = DispatchSemaphore(value: 4)
    /// The first write error (read and written on `queue` only).
    private var failure: CLIError?

    init() throws {
        guard let file = tmpfile() else {
            throw CLIError.usage("cannot create a temporary file for the receipts: \(String(cString: strerror(errno)))")
        }
        self.file = file
    }

    deinit { fclose(file) }

    /// Queues `batch`'s receipts to be proven, encoded and kept; throws if an earlier batch could not be kept.
    func keep(_ batch: LogWriter.Batch, as output: ReceiptOutput) throws {
        guard !output.quiet else { return }
        if let failure = queue.sync(execute: { failure }) { throw failure }
        slots.wait()
        queue.async { [self] in
            defer { slots.signal() }
            guard failure == nil else { return }
            let bytes = output.encode(batch.receipts)
            if fwrite(bytes, 1, bytes.count, file) != bytes.count {
                failure = .usage("cannot keep the receipts in a temporary file: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Waits for every queued batch, then writes everything kept, in order, to `output`.
    func replay(into output: ReceiptOutput) throws {
        try queue.sync {
            if let failure { throw failure }
            guard fflush(file) == 0 else {
                throw CLIError.usage(
                    "cannot keep the receipts in a temporary file: \(String(cString: strerror(errno)))")
            }
        }
        rewind(file)
        guard !output.quiet, try !Self.sendToStandardOutput(fileno(file)) else { return }
        var block = [UInt8](repeating: 0, count: 1 << 20)
        while case let count = fread(&block, 1, block.count, file), count > 0 {
            output.emit(Array(block[0..<count]))
        }
    }

    /// Copies the spool to standard output inside the kernel (`sendfile`: no copy through this process,
    /// which mattered at a kilobyte of receipt per event); false, having written nothing, where the kernel
    /// cannot (standard output a terminal, or an old kernel's pipe), so that the caller copies it itself.
    private static func sendToStandardOutput(_ spool: Int32) throws -> Bool {
        var stats = stat()
        guard fstat(spool, &stats) == 0 else { return false }
        var offset: off_t = 0
        while offset < stats.st_size {
            let sent = sendfile(STDOUT_FILENO, spool, &offset, Int(min(stats.st_size - offset, 1 << 30)))
            if sent < 0 {
                if errno == EINTR { continue }
                guard offset == 0 else {
                    throw CLIError.usage(
                        "the events are appended, but their receipts could not all be written to standard output: \(String(cString: strerror(errno))); `probity prove inclusion` gives any of them again"
                    )
                }
                lseek(spool, 0, SEEK_SET)
                return false
            }
            if sent == 0 { break }
        }
        return true
    }
}

/// Parses an events file: JSON (one event, an array, or {"events": [...]}) or JSONL.
/// Errors name the line (JSONL) or the event's position (arrays) and the field.
enum EventFile {
    static func parse(_ bytes: [UInt8], name: String) throws -> [EventInput] {
        try parseWithPlaces(bytes, name: name).events
    }

    /// The events, and where each was in the file (`events.jsonl, line 4`), for messages about them.
    static func parseWithPlaces(_ bytes: [UInt8], name: String) throws -> (events: [EventInput], places: [String]) {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) { return ([], []) }
        let whole: JSONValue?
        let wholeError: JSONParseError?
        do { whole = try JSONParser.parse(bytes, numbers: .exact); wholeError = nil } catch {
            whole = nil; wholeError = error
        }
        if let whole {
            switch whole {
            case .array(let items):
                return try placed(items.indices.map { "\(name): event \($0 + 1) of the array" }, items)
            case .object(let members) where members.keys.sorted() == ["events"]:
                guard case .array(let items) = members["events"]! else {
                    throw CLIError.usage("\(name): \"events\" must be an array")
                }
                return try placed(items.indices.map { "\(name): events[\($0)]" }, items)
            default:
                return try placed(["\(name), line 1"], [whole])
            }
        }
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let nonEmpty = lines.filter { !$0.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D } }
        guard nonEmpty.count > 1 else { throw CLIError.usage("\(name): invalid JSON at \(wholeError!)") }
        var events: [EventInput] = [], places: [String] = []
        for (number, line) in lines.enumerated() where !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
            let value: JSONValue
            do { value = try JSONParser.parse(line, numbers: .exact) } catch {
                throw CLIError.usage(
                    "\(name), line \(number + 1): invalid JSON at column \(error.column): \(error.message)")
            }
            places.append("\(name), line \(number + 1)")
            events.append(try event(value, at: places.last!))
        }
        return (events, places)
    }

    private static func placed(
        _ places: [String], _ items: [JSONValue]
    ) throws -> (events: [EventInput], places: [String]) {
        (try zip(items, places).map { try event($0, at: $1) }, places)
    }

    static func event(_ value: JSONValue, at place: String) throws -> EventInput {
        do { return try EventInput(json: value) } catch { throw CLIError.usage("\(place): \(error)") }
    }
}
