import Foundation
public import ProbityDomain
public import ProbityImport
public import ProbityLog
public import ProbityStore

/// One `[[capture]]` section (or one `probity capture` run): a folder to record, and how.
public struct CaptureSource: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// A Maildir filled by mbsync, getmail or an MDA: each message an `exchange.recorded`.
        case maildir
        /// A folder where buyers drop platform exports (the formats `probity import` reads).
        case drop
    }

    /// Names the capture in the ledger, the metrics and `probity capture status`.
    public var name: String
    public var kind: Kind
    public var directory: String
    /// The mapping of accounts to parties (`probity import --mapping`); re-read on every scan.
    public var mapping: String?
    /// Registers unmapped accounts as parties of this role; nil leaves their messages failed, listed,
    /// and retried when the mapping changes.
    public var register: String?
    public var tagging = TaggingRules()
    /// How often the folder is rescanned even if inotify reported nothing.
    public var rescan: Duration = .seconds(60)
    /// A message larger than this is recorded without its raw bytes in the payload (its headers,
    /// text and attachment digests still are); the mail servers' usual limit.
    public var maxRawBytes = 25 * 1024 * 1024
    /// A dropped file is read once it has not changed for this long (a copy may still be in progress).
    public var settle: Duration = .seconds(2)

    public init(name: String, kind: Kind, directory: String) {
        self.name = name
        self.kind = kind
        self.directory = directory
    }

    /// The directories a watcher wakes the capture for.
    public var watched: [String] { kind == .maildir ? Maildir(directory: directory).watched : [directory] }

    /// Refuses a capture that cannot work, before it starts.
    public func check() throws(CaptureError) {
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw CaptureError("capture name \"\(name)\": use letters, digits, '-', '_' or '.'")
        }
        switch kind {
        case .maildir: try Maildir(directory: directory).check()
        case .drop:
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
            else { throw CaptureError("the drop folder \(directory) does not exist or is not a directory") }
        }
        try tagging.check()
        _ = try Mapping.load(mapping, register: register)
    }
}

/// What one scan did.
public struct CaptureReport: Sendable, Equatable {
    /// Items newly recorded, with an exchange appended (or an export with records appended).
    public var recorded = 0
    /// Items whose exchanges the log held already (a re-delivery, a second copy, a restart after a crash).
    public var alreadyRecorded = 0
    /// Items that could not be read or mapped (kept, listed, retried when the mapping changes).
    public var failed = 0
    /// Recorded exchanges no rule assigned to a procedure.
    public var untagged = 0
    /// Items seen before and left alone.
    public var unchanged = 0

    public init() {}
}

/// The mapping file as a capture reads it, with a fingerprint: a failed item is retried when it changes.
struct Mapping {
    let parties: PartyMapping
    let fingerprint: String

    static func load(_ path: String?, register: String?) throws(CaptureError) -> Mapping {
        guard let path else { return Mapping(parties: PartyMapping(), fingerprint: "none|\(register ?? "")") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CaptureError("cannot read the mapping \(path)")
        }
        let bytes = Array(data)
        do {
            return Mapping(
                parties: try PartyMapping(json: bytes, file: path),
                fingerprint: Hex.encode(Array(SHA256.hash(bytes).prefix(16))) + "|\(register ?? "")")
        } catch { throw CaptureError(error.message) }
    }
}

/// Records what arrives in one folder. Not thread-safe: one capture runs on one thread, scan after scan.
///
/// Invariants: an item is marked in the ledger only after its events are durable (the append returned),
/// so a crash re-reads it and the log answers "already recorded"; an item that fails is marked failed,
/// never skipped silently; no file in the folder is ever written, moved or removed.
public final class Capture {
    public let source: CaptureSource
    private let ledger: CaptureLedger
    private let openReader: () throws -> LogReader
    private let append: ([EventInput]) throws -> LogWriter.Batch
    private let now: () -> String
    private var state: DomainState?
    private var index = TaggingIndex()
    /// The reference pattern, compiled once (`CaptureSource.check` refused one that does not compile).
    private lazy var reference: Regex<AnyRegexOutput>? = source.tagging.reference.flatMap { try? Regex($0) }
    /// Events per append: a batch is one transaction, one fsync, one checkpoint.
    public var batchSize = 500

    /// `append` makes events durable (the writer, or probityd's group committer) and returns their batch.
    public init(
        source: CaptureSource, ledger: CaptureLedger, reader: @escaping () throws -> LogReader,
        append: @escaping ([EventInput]) throws -> LogWriter.Batch,
        now: @escaping () -> String = {
            Timestamp.now().description
        }
    ) {
        self.source = source
        self.ledger = ledger
        openReader = reader
        self.append = append
        self.now = now
    }

    /// Records what is new in the folder, and retries what failed under another mapping.
    public func scan() throws -> CaptureReport {
        let mapping = try Mapping.load(source.mapping, register: source.register)
        let seen = try ledger.items(of: source.name)
        switch source.kind {
        case .maildir: return try scanMaildir(mapping: mapping, seen: seen)
        case .drop: return try scanDrop(mapping: mapping, seen: seen)
        }
    }

    private func needsWork(_ item: String, _ seen: [String: CaptureLedger.Item], _ mapping: Mapping) -> Bool {
        guard let known = seen[item] else { return true }
        return known.state == .failed && known.fingerprint != mapping.fingerprint
    }

    /// The log as it is now, for tagging and for knowing which parties are registered.
    private func refresh() throws -> LogReader {
        let reader = try openReader()
        if state == nil { state = try reader.domainState() } else { try reader.update(&state!) }
        index.update(state!)
        return reader
    }

    // MARK: Maildir

    /// A message read and planned: its events (registrations, then the exchange), or why it failed.
    private struct Planned {
        let message: Maildir.Message
        var events: [EventInput] = []
        var failure: String?
        var procedure: String?
    }

    private func scanMaildir(mapping: Mapping, seen: [String: CaptureLedger.Item]) throws -> CaptureReport {
        let maildir = Maildir(directory: source.directory)
        var report = CaptureReport()
        var todo: [Maildir.Message] = []
        let messages = try maildir.messages()
        for message in messages {
            if needsWork(message.name, seen, mapping) { todo.append(message) } else { report.unchanged += 1 }
        }
        // A failed message whose file is gone was expunged, or synced again under another name (which is
        // an item of its own): its failure no longer says anything about the mailbox.
        let present = Set(messages.map(\.name))
        try ledger.forget(
            capture: source.name,
            items: seen.values.filter { $0.state == .failed && !present.contains($0.item) }.map(\.item))
        guard !todo.isEmpty else { return report }
        let reader = try refresh()
        var start = 0
        while start < todo.count {
            var planned: [Planned] = []
            var events = 0
            // Registrations made earlier in this batch: a second message of the same account uses them.
            var registering: Set<String> = []
            while start < todo.count, events < batchSize {
                let item = plan(todo[start], maildir, mapping, reader, &registering)
                events += item.events.count
                planned.append(item)
                start += 1
            }
            try commit(&planned, reader: reader, mapping: mapping, report: &report)
        }
        return report
    }

    private func plan(
        _ message: Maildir.Message, _ maildir: Maildir, _ mapping: Mapping, _ reader: LogReader,
        _ registering: inout Set<String>
    ) -> Planned {
        var item = Planned(message: message)
        guard let bytes = maildir.read(message) else {
            item.failure = "the message file is gone (expunged before it was read)"
            return item
        }
        let result: ImportResult
        do { result = try Email.readMessage(bytes) } catch {
            item.failure = error.message
            return item
        }
        var plan: ImportPlan
        var tagged: String?
        do {
            plan = try ImportMapper.plan(
                result, procedure: nil, mapping: mapping.parties, register: source.register, capturedAt: now(),
                isRegistered: { try reader.fact(.party, $0) != nil || registering.contains($0) },
                tag: { message, parties in
                    tagged =
                        self.index.procedure(
                            for: message, parties: parties, rules: self.source.tagging, reference: self.reference)?
                        .procedure
                    return tagged
                },
                extraPayload: { _ in
                    bytes.count <= self.source.maxRawBytes
                        ? ["raw": Self.raw(bytes)]
                        : ["raw_omitted": .string("\(bytes.count) bytes, over max_raw_bytes")]
                })
        } catch {
            item.failure = "cannot read the log's parties: \(error)"
            return item
        }
        if let rejection = plan.rejections.first {
            item.failure = rejection.reason
            return item
        }
        for event in plan.events where event.type == DomainEventType.partyRegistered {
            if case .string(let party)? = event.data["party"] { registering.insert(party) }
        }
        item.events = plan.events
        item.procedure = tagged
        if let tagged, let message = result.messages.first {
            index.note(thread: message.conversation, source: message.sourceID, procedure: tagged)
        }
        return item
    }

    /// The raw message for the payload: its text when it is UTF-8 (nearly all mail: 7-bit MIME), else
    /// base64 under `base64`.
    static func raw(_ bytes: [UInt8]) -> JSONValue {
        if let text = String(validating: bytes, as: UTF8.self) { return .string(text) }
        return .object(["base64": .string(Base64.encode(bytes))])
    }

    /// Appends the planned events (leaving out, item by item, those the log would refuse) and marks
    /// every item in the ledger once they are durable.
    private func commit(
        _ planned: inout [Planned], reader: LogReader, mapping: Mapping, report: inout CaptureReport
    ) throws {
        let all = planned.flatMap(\.events)
        let check = try reader.check(all)
        var owner: [Int] = []  // event index → planned index
        for (index, item) in planned.enumerated() { owner += Array(repeating: index, count: item.events.count) }
        for rejection in check.rejections where planned[owner[rejection.index]].failure == nil {
            planned[owner[rejection.index]].failure = "\(rejection.error)"
        }
        var kept: [EventInput] = []
        var keptOwner: [Int] = []
        for (index, event) in all.enumerated() where planned[owner[index]].failure == nil {
            kept.append(event)
            keptOwner.append(owner[index])
        }
        var seqs: [Int: (seq: UInt64, duplicate: Bool)] = [:]  // planned index → its exchange's entry
        if !kept.isEmpty {
            let batch = try append(kept)
            for (index, (seq, duplicate)) in zip(batch.seqs, batch.duplicates).enumerated()
            where kept[index].type == DomainEventType.exchangeRecorded {
                seqs[keptOwner[index]] = (seq, duplicate)
            }
        }
        let time = now()
        var items: [CaptureLedger.Item] = []
        for (index, item) in planned.enumerated() {
            if let failure = item.failure {
                report.failed += 1
                items.append(
                    CaptureLedger.Item(
                        capture: source.name, item: item.message.name, state: .failed, detail: failure,
                        fingerprint: mapping.fingerprint, updated: time))
                continue
            }
            guard let entry = seqs[index] else { continue }
            if entry.duplicate { report.alreadyRecorded += 1 } else { report.recorded += 1 }
            if item.procedure == nil && !entry.duplicate { report.untagged += 1 }
            items.append(
                CaptureLedger.Item(
                    capture: source.name, item: item.message.name, state: .recorded,
                    detail: entry.duplicate ? "already in the log" : "recorded", seq: entry.seq,
                    procedure: item.procedure, fingerprint: mapping.fingerprint, updated: time))
        }
        try ledger.record(items)
    }

    // MARK: Drop folder

    private func scanDrop(mapping: Mapping, seen: [String: CaptureLedger.Item]) throws -> CaptureReport {
        var seen = seen  // and the files of this scan: a second copy under another name is the same item
        var report = CaptureReport()
        let files: [String]
        do { files = try FileManager.default.contentsOfDirectory(atPath: source.directory).sorted() } catch {
            throw CaptureError("cannot list the drop folder \(source.directory): \(error.localizedDescription)")
        }
        let settled = Date().addingTimeInterval(-Double(source.settle.components.seconds))
        var reader: LogReader?
        for file in files where !file.hasPrefix(".") && !file.hasSuffix(".part") && !file.hasSuffix(".tmp") {
            let path = source.directory + "/" + file
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                attributes[.type] as? FileAttributeType == .typeRegular,
                let modified = attributes[.modificationDate] as? Date, modified <= settled,
                let data = FileManager.default.contents(atPath: path)
            else { continue }
            let bytes = Array(data)
            let item = "sha256:" + Hex.encode(SHA256.hash(bytes))
            guard needsWork(item, seen, mapping) else {
                report.unchanged += 1
                continue
            }
            if reader == nil { reader = try refresh() }
            let outcome = try importFile(file, bytes, mapping: mapping, reader: reader!)
            if outcome.state == .failed {
                report.failed += 1
            } else if outcome.new > 0 {
                report.recorded += 1
            } else {
                report.alreadyRecorded += 1
            }
            report.untagged += outcome.untagged
            let done = CaptureLedger.Item(
                capture: source.name, item: item, state: outcome.state,
                detail: String(decoding: CanonicalJSON.encode(outcome.report), as: UTF8.self),
                fingerprint: mapping.fingerprint, updated: now())
            try ledger.record([done])
            seen[item] = done
        }
        return report
    }

    /// Imports one dropped export; its report is what `probity import --json` prints.
    private func importFile(
        _ file: String, _ bytes: [UInt8], mapping: Mapping, reader: LogReader
    ) throws -> (state: CaptureLedger.State, report: JSONValue, new: Int, untagged: Int) {
        func failed(_ reason: String) -> (CaptureLedger.State, JSONValue, Int, Int) {
            (.failed, .object(["file": .string(file), "error": .string(reason)]), 0, 0)
        }
        guard let format = ExportFormat.detect(bytes) else {
            return failed(
                "not an export probity import reads (mbox, eml, LinkedIn messages.csv, X direct-messages.js, Mastodon outbox.json)"
            )
        }
        let result: ImportResult
        do { result = try format.read(bytes) } catch { return failed("\(format.rawValue): \(error.message)") }
        var untagged = 0
        var plan = try ImportMapper.plan(
            result, procedure: nil, mapping: mapping.parties, register: source.register, capturedAt: now(),
            isRegistered: { try reader.fact(.party, $0) != nil },
            tag: { message, parties in
                let procedure = self.index.procedure(
                    for: message, parties: parties, rules: self.source.tagging, reference: self.reference)
                if let procedure {
                    self.index.note(thread: message.conversation, source: message.sourceID, procedure: procedure.0)
                } else {
                    untagged += 1
                }
                return procedure?.procedure
            })
        let check = try reader.check(plan.events)
        for rejection in check.rejections {
            plan.rejections.append(
                ImportRejection(position: plan.positions[rejection.index] ?? 0, reason: "\(rejection.error)"))
        }
        let refused = Set(check.rejections.map(\.index))
        let events = plan.events.indices.filter { !refused.contains($0) }.map { plan.events[$0] }
        var new = 0, duplicates = 0
        for start in stride(from: 0, to: events.count, by: batchSize) {
            let batch = try append(Array(events[start..<min(events.count, start + batchSize)]))
            for (index, duplicate) in batch.duplicates.enumerated()
            where events[start + index].type == DomainEventType.exchangeRecorded {
                if duplicate { duplicates += 1 } else { new += 1 }
            }
        }
        let rejected = plan.rejections.sorted { $0.position < $1.position }
        let report: JSONValue = .object([
            "file": .string(file), "format": .string(format.rawValue),
            "read": .number(Double(result.messages.count + result.rejections.count)),
            "new": .number(Double(new)), "duplicate": .number(Double(duplicates)),
            "rejected": .array(
                rejected.map { .object(["position": .number(Double($0.position)), "reason": .string($0.reason)]) }),
        ])
        // Records refused for an unmapped account are retried when the mapping changes: the file stays failed.
        return (rejected.isEmpty ? .recorded : .failed, report, new, untagged)
    }
}
