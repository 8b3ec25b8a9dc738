import Foundation
import ProbityClient
import ProbityDomain
import ProbityHTTP
import ProbityLog
import ProbityStore
import ProbityWire

/// What the commands that work on a store file (`--db`) or through probityd (`--socket`, `--url`) ask of
/// the log. The commands print; the two implementations only fetch, so both print the same bytes.
protocol LogService {
    /// Appends the events of `input`, writing their receipts to `receipts` once they are durable. A bad
    /// event names its place in the input (`events.jsonl, line 4`).
    func append(_ input: EventStream, receipts: ReceiptOutput) throws -> AppendSummary
    /// The latest signed checkpoint, or the one of tree size `size`.
    func checkpoint(size: UInt64?) throws -> SignedCheckpoint
    /// Entry `seq`'s leaf hash and .tlog-proof, against the checkpoint of `size` (default: the latest).
    func inclusionProof(seq: UInt64, size: UInt64?) throws -> Receipt
    /// The RFC 6962 consistency proof from tree size `old` to `new` (default: the latest checkpoint).
    func consistencyProof(old: UInt64, new: UInt64?) throws -> ConsistencyProof
    /// A signed stream-head note for `procedure:<ref>` or `party:<id>`.
    func streamHead(_ stream: String) throws -> SignedNote
}

struct AppendSummary {
    var appended = 0
    var duplicates = 0
    /// "to var/log.sqlite", or "through probityd at unix:…".
    var destination: String
    /// The log's size after the append, when known.
    var size: UInt64? = nil
}

struct ConsistencyProof {
    let oldSize: UInt64
    let newSize: UInt64
    let oldRoot: Merkle.Hash
    let newRoot: Merkle.Hash
    let hashes: [Merkle.Hash]

    var json: JSONValue {
        .object([
            "old_size": .number(Double(oldSize)), "new_size": .number(Double(newSize)),
            "old_root": .string(Base64.encode(oldRoot)), "new_root": .string(Base64.encode(newRoot)),
            "proof": .array(hashes.map { .string(Base64.encode($0)) }),
        ])
    }
}

/// The log in a store file, opened by this process (it takes the writer lock only to append or sign).
struct LocalLog: LogService {
    let db: String
    /// The signing key for appends and stream heads; nil for the one `probity init` recorded.
    let key: String?
    /// The entries' author (`--by`); nil for `cli:$USER`.
    let author: String?

    /// Events per transaction of `probity import`.
    static let batchSize = 10_000

    /// The whole input is one transaction: batches of the stream's chunks (each under its own signed
    /// checkpoint) are written as they are parsed, and nothing is durable, or printed, until the last is.
    /// The receipts wait in an unlinked temporary file meanwhile, so memory stays flat.
    func append(_ input: EventStream, receipts: ReceiptOutput) throws -> AppendSummary {
        try reporting {
            let writer = try openWriter(db: db, key: key, cache: .bulk)
            var summary = AppendSummary(destination: "to \(db)")
            var bar = ProgressBar(label: "appending")
            defer { bar.finish() }
            let spool = try ReceiptSpool()
            // Only where the current chunk's events came from is kept: the writer frees the events themselves.
            var place: ((Int) -> String)?
            do {
                try writer.appendAll(by: author ?? defaultPrincipal()) {
                    guard let next = try input.next() else { return nil }
                    place = next.place
                    if let (done, total) = input.progress { bar.update(done, total) }
                    return next.events
                } written: { batch in
                    summary.appended += batch.entries.count
                    summary.duplicates += batch.receiptCount - batch.entries.count
                    try spool.keep(batch, as: receipts)
                }
            } catch let rejection as EventRejection {
                throw CLIError.usage("\(place?(rejection.index) ?? input.name): \(rejection.error)")
            }
            bar.finish()
            try spool.replay(into: receipts)
            summary.size = try writer.size()
            return summary
        }
    }

    func checkpoint(size: UInt64?) throws -> SignedCheckpoint {
        try reporting { try LogReader.open(path: db).checkpoint(size: size) }
    }

    func inclusionProof(seq: UInt64, size: UInt64?) throws -> Receipt {
        try reporting {
            try LogReader.open(path: db).receipt(seq: seq, size: size)
        }
    }

    func consistencyProof(old: UInt64, new: UInt64?) throws -> ConsistencyProof {
        try reporting {
            let reader = try LogReader.open(path: db)
            let newSize = try new ?? reader.checkpoint().checkpoint.size
            guard newSize <= (try reader.size()) else {
                throw CLIError.usage("the log has only \(try reader.size()) entries, fewer than \(newSize)")
            }
            let hashes = try reader.consistencyProof(from: old, to: newSize)
            return ConsistencyProof(
                oldSize: old, newSize: newSize, oldRoot: try reader.root(size: old),
                newRoot: try reader.root(size: newSize), hashes: hashes)
        }
    }

    func streamHead(_ stream: String) throws -> SignedNote {
        try reporting { try openWriter(db: db, key: key).signedStreamHead(stream) }
    }
}

/// The log behind a running probityd, reached with an API token; the daemon signs and names the author.
struct RemoteLog: LogService {
    let daemon: DaemonClient

    /// Events per request to probityd (its default limits.max_batch_events), and bytes per request.
    static let requestEvents = 1_000
    static let requestBytes = 2 << 20

    /// Sends the events in requests of at most `requestEvents` events and about `requestBytes` bytes;
    /// each request is appended atomically by the daemon, and its receipts are written at once.
    func append(_ input: EventStream, receipts: ReceiptOutput) throws -> AppendSummary {
        var summary = AppendSummary(destination: "through probityd at \(daemon.connection.endpoint)")
        var bar = ProgressBar(label: "appending")
        defer { bar.finish() }
        while let current = try input.next() {
            let events = current.events
            var sent = 0
            while sent < events.count {
                var end = sent, bytes = 0
                while end < events.count && end - sent < Self.requestEvents
                    && (end == sent || bytes < Self.requestBytes)
                {
                    bytes += events[end].dataBytes.count + (events[end].payload?.count ?? 0) + 64
                    end += 1
                }
                let response = try requesting {
                    try daemon.json("POST", "/v1/events", body: EventsRequest.body(events[sent..<end]))
                }
                guard case .array(let items) = try response.required("receipts") else {
                    throw CLIError.usage("probityd's receipts are not an array")
                }
                let batch = try items.map(Self.receipt)
                sent = end
                for receipt in batch {
                    if receipt.duplicate { summary.duplicates += 1 } else { summary.appended += 1 }
                }
                receipts.emit(receipts.encode(batch))
            }
            if let (done, total) = input.progress { bar.update(done, total) }
        }
        return summary
    }

    func checkpoint(size: UInt64?) throws -> SignedCheckpoint {
        let note = try requesting { try daemon.send("GET", "/v1/checkpoint" + (size.map { "?size=\($0)" } ?? "")).text }
        do { return try SignedCheckpoint(parsing: note) } catch {
            throw CLIError.usage("probityd's checkpoint is not a signed checkpoint: \(error)")
        }
    }

    func inclusionProof(seq: UInt64, size: UInt64?) throws -> Receipt {
        try Self.receipt(
            try requesting {
                try daemon.json("GET", "/v1/proofs/inclusion?seq=\(seq)" + (size.map { "&size=\($0)" } ?? ""))
            })
    }

    func consistencyProof(old: UInt64, new: UInt64?) throws -> ConsistencyProof {
        let response = try requesting {
            try daemon.json("GET", "/v1/proofs/consistency?old=\(old)" + (new.map { "&new=\($0)" } ?? ""))
        }
        guard let hashes = try response.required("proof").arrayValue else {
            throw CLIError.usage("probityd's consistency proof is not an array")
        }
        return ConsistencyProof(
            oldSize: try Self.number(response, "old_size"), newSize: try Self.number(response, "new_size"),
            oldRoot: try Self.hash(try response.required("old_root")),
            newRoot: try Self.hash(try response.required("new_root")), hashes: try hashes.map(Self.hash))
    }

    func streamHead(_ stream: String) throws -> SignedNote {
        let query = stream.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? stream
        let text = try requesting { try daemon.send("GET", "/v1/proofs/stream?stream=\(query)").text }
        do { return try SignedNote.parse(text) } catch {
            throw CLIError.usage("probityd's stream head is not a signed note: \(error)")
        }
    }

    /// A receipt as probityd returns it (`Receipt.json`): the same value `--db` would give.
    private static func receipt(_ json: JSONValue) throws -> Receipt {
        let seq = try number(json, "seq")
        guard let leafHash = try json.required("leaf_hash").stringValue.flatMap(Hex.digest)
        else { throw CLIError.usage("probityd's leaf_hash for entry \(seq) is not 32 bytes of hex") }
        let proof: TlogProof
        do { proof = try TlogProof.parse(try json.required("proof").stringValue ?? "") } catch {
            throw CLIError.usage("probityd's proof for entry \(seq) is not a .tlog-proof: \(error)")
        }
        return Receipt(seq: seq, leafHash: leafHash, proof: proof, duplicate: json["duplicate"] == .bool(true))
    }

    private static func number(_ json: JSONValue, _ key: String) throws -> UInt64 {
        guard let value = try json.required(key).uint64Value else {
            throw CLIError.usage("probityd's \"\(key)\" is not a number")
        }
        return value
    }

    private static func hash(_ json: JSONValue) throws -> Merkle.Hash {
        guard let hash = json.stringValue.flatMap(Base64.digest) else {
            throw CLIError.usage("probityd's proof holds a hash that is not 32 bytes of base64")
        }
        return hash
    }
}
