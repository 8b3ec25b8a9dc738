import ArgumentParser
import Foundation
import ProbityCore
import ProbityStore

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

            Example:
              probity append --db var/log.sqlite examples/conversation.jsonl
              echo '{"type":"x-note","data":{"procedure":"2026-042"}}' | probity append --db var/log.sqlite --json -
            """
    )

    @OptionGroup var store: StoreOption
    @Argument(help: ArgumentHelp("JSON or JSONL file of events; - for standard input.", valueName: "FILE"))
    var file: String = "-"
    @Option(help: ArgumentHelp("Signing key (default: the one recorded by init).", valueName: "PEM"))
    var key: String?
    @Option(help: ArgumentHelp("The principal recorded as the entries' author.", valueName: "NAME"))
    var by: String?
    @Flag(help: "Print only a summary line, not the receipts.")
    var quiet = false
    @OptionGroup var output: JSONFlag

    /// Events per transaction for large inputs; every event is validated before the first is written.
    static let batchSize = 10_000

    func run() throws {
        let events = try EventFile.parse(try readFile(file, what: "the events file"), name: file == "-" ? "standard input" : file)
        guard !events.isEmpty else { throw CLIError.usage("\(file == "-" ? "standard input" : file) holds no event") }
        try reporting {
            let writer = try openWriter(db: store.db, key: key)
            var appended = 0
            var bar = ProgressBar(label: "appending")
            defer { bar.finish() }
            for start in stride(from: 0, to: events.count, by: Self.batchSize) {
                let batch = try writer.append(Array(events[start..<min(events.count, start + Self.batchSize)]), by: by ?? defaultPrincipal())
                appended += batch.entries.count
                if events.count > Self.batchSize { bar.update(UInt64(appended), UInt64(events.count)) }
                if quiet { continue }
                let proofs = try writer.inclusionProofs(seqs: batch.entries.map(\.seq), size: batch.checkpoint.checkpoint.size)
                for (entry, hashes) in zip(batch.entries, proofs) {
                    let proof = TlogProof(index: entry.seq, proof: hashes, checkpoint: batch.checkpoint)
                    if output.json {
                        Output.json(receiptJSON(seq: entry.seq, leafHash: entry.leafHash, proof: proof))
                    } else {
                        Output.line("# receipt: seq \(entry.seq), leaf hash \(Hex.encode(entry.leafHash))")
                        Output.raw(proof.encoded)
                        Output.line("")
                    }
                }
            }
            bar.finish()
            if quiet || !output.json {
                Output.info("appended \(appended) event\(appended == 1 ? "" : "s") to \(store.db); size is now \(try writer.size())")
            }
        }
    }
}

/// Parses an events file: JSON (one event, an array, or {"events": [...]}) or JSONL.
/// Errors name the line (JSONL) or the event's position (arrays) and the field.
enum EventFile {
    static func parse(_ bytes: [UInt8], name: String) throws -> [EventInput] {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) { return [] }
        let whole: JSONValue?
        let wholeError: JSONParseError?
        do { whole = try JSONParser.parse(bytes); wholeError = nil } catch { whole = nil; wholeError = error }
        if let whole {
            switch whole {
            case .array(let items):
                return try items.enumerated().map { i, item in try event(item, at: "\(name): event \(i + 1) of the array") }
            case .object(let members) where members.keys.sorted() == ["events"]:
                guard case .array(let items) = members["events"]! else { throw CLIError.usage("\(name): \"events\" must be an array") }
                return try items.enumerated().map { i, item in try event(item, at: "\(name): events[\(i)]") }
            default:
                return [try event(whole, at: "\(name), line 1")]
            }
        }
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let nonEmpty = lines.filter { !$0.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D } }
        guard nonEmpty.count > 1 else { throw CLIError.usage("\(name): invalid JSON at \(wholeError!)") }
        var events: [EventInput] = []
        for (number, line) in lines.enumerated() where !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
            let value: JSONValue
            do { value = try JSONParser.parse(line) } catch {
                throw CLIError.usage("\(name), line \(number + 1): invalid JSON at column \(error.column): \(error.message)")
            }
            events.append(try event(value, at: "\(name), line \(number + 1)"))
        }
        return events
    }

    static func event(_ value: JSONValue, at place: String) throws -> EventInput {
        do { return try EventInput(json: value) } catch { throw CLIError.usage("\(place): \(error)") }
    }
}
