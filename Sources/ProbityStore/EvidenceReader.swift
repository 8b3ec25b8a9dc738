import Foundation
public import ProbityDomain
public import ProbityEvidence
public import ProbityLog

/// A request the export cannot serve: an unknown procedure or party, an empty period… Says what to do.
public struct ExportError: Error, CustomStringConvertible, Equatable {
    public enum Code: String, Sendable { case notFound, badRequest }
    public let code: Code
    public let message: String
    public var description: String { message }
    init(_ code: Code, _ message: String) { self.code = code; self.message = message }
}

/// The reads of the log that exports make, on either store (the SQLite file's `LogReader`, a PostgreSQL
/// store's `PostgresLogReader`). A bundle reads at one tree size, so reads made one after the other agree.
public protocol EvidenceReads: Sendable {
    func entry(seq: UInt64) throws -> LogReader.StoredEntry?
    /// The entries of `seqs` (missing ones left out).
    func entries(seqs: [UInt64]) throws -> [LogReader.StoredEntry]
    func checkpoint(size: UInt64?) throws -> SignedCheckpoint
    /// The latest checkpoint and the current heads of `streams`, read together.
    func checkpointAndStreamHeads(_ streams: [String]) throws -> (SignedCheckpoint, [String: LogReader.StreamPosition])
    func keyChain() throws -> [LogReader.KeyLink]
    func firstCheckpoint(covering seq: UInt64) throws -> SignedCheckpoint
    func timestampEntries(below size: UInt64) throws -> [(seq: UInt64, treeSize: UInt64)]
    func seqRange(appendedFrom from: Timestamp, to: Timestamp, below size: UInt64) throws -> Range<UInt64>
    func consistencyProof(from old: UInt64, to new: UInt64) throws -> [Merkle.Hash]
    func inclusionProofs(seqs: [UInt64], size: UInt64) throws -> [[Merkle.Hash]]
    /// Up to `limit` entries from seq `first` on, in order.
    func entries(from first: UInt64, limit: Int) throws -> [LogReader.StoredEntry]
    /// The seqs of the entries whose payload is still stored (not redacted), for retention plans.
    func payloadSeqs() throws -> [UInt64]
}

extension LogReader: EvidenceReads {}

/// Reads what an export needs from the store and the projections: the I/O side of the exports, shared by
/// `probity export` and probityd's export routes. Rendering is left to the pure renderers.
public struct EvidenceSource: Sendable {
    public let reader: any EvidenceReads
    public let state: DomainState

    public init(reader: any EvidenceReads, state: DomainState) {
        self.reader = reader
        self.state = state
    }

    /// Checks the scope names something in the log; returns its procedure, if it is one.
    @discardableResult
    public func check(_ scope: ExportScope) throws(ExportError) -> DomainState.Procedure? {
        switch scope {
        case .procedure(let ref):
            guard let procedure = state.procedures[ref] else {
                let known = state.procedures.keys.sorted()
                throw ExportError(
                    .notFound,
                    "no procedure \"\(ref)\" in the log"
                        + (known.isEmpty ? "" : "; procedures: \(known.joined(separator: ", "))"))
            }
            return procedure
        case .party(let id):
            guard state.party(id) != nil else {
                throw ExportError(.notFound, "no party \"\(id)\" is registered in the log")
            }
            return nil
        case .period(let from, let to):
            guard from < to else { throw ExportError(.badRequest, "the period must start before it ends") }
            return nil
        }
    }

    /// The domain events in scope below tree size `size`, with their entries and payloads.
    public func events(_ scope: ExportScope, below size: UInt64 = .max) throws -> [ExportedEvent] {
        let records = scope.records(in: state).filter { $0.seq < size }
        let stored = try reader.entries(seqs: records.map(\.seq))
        return try events(records, stored: Dictionary(uniqueKeysWithValues: stored.map { ($0.seq, $0) }))
    }

    func events(_ records: [DomainState.Record], stored: [UInt64: LogReader.StoredEntry]) throws -> [ExportedEvent] {
        try records.map { record in
            guard let entry = stored[record.seq] else {
                throw StoreError(.inconsistent, "entry \(record.seq) is missing; run `probity verify`")
            }
            return ExportedEvent(
                record: record, entryBytes: entry.bytes, leafHash: entry.leafHash,
                payload: entry.payload.flatMap { try? JSONParser.parse($0.bytes) },
                redactedBy: state.redactions[record.seq])
        }
    }

    public enum TimelineFormat: String, Sendable, CaseIterable { case jsonl, csv, html }

    /// The timeline of `scope` in `format`; the HTML carries the findings concerning its entries and
    /// `checkpoint` (default: the latest) with the log's verifier key.
    public func timeline(
        _ scope: ExportScope, format: TimelineFormat, time: LocalTime, lang: FindingText.Language,
        generatedAt: Timestamp, events: [ExportedEvent]? = nil, checkpoint: SignedCheckpoint? = nil
    ) throws -> [UInt8] {
        let events = try events ?? self.events(scope)
        switch format {
        case .jsonl: return TimelineJSONL.render(events)
        case .csv: return TimelineCSV.render(events, time: time, lang: lang)
        case .html:
            let seqs = Set(events.map(\.seq))
            let procedure: String? = if case .procedure(let ref) = scope { ref } else { nil }
            let findings = FindingRules.evaluate(state, procedure: procedure).filter {
                $0.seqs.contains(where: seqs.contains)
            }
            let document = TimelineHTML.Document(
                scope: scope, events: events, findings: findings,
                checkpoint: try (checkpoint ?? reader.checkpoint(size: nil)).encoded,
                verifierKey: try reader.keyChain().first?.verifierKey ?? "", generatedAt: generatedAt)
            return TimelineHTML.render(document, time: time, lang: lang)
        }
    }

    /// The streams whose completeness a bundle of `scope` proves: the procedure's, or the party's and
    /// (for an organisation) each of its people's.
    func streams(of scope: ExportScope) -> [String] {
        switch scope {
        case .procedure(let ref): return ["procedure:" + ref]
        case .party(let id):
            let people = state.parties.keys.filter { $0 != id && state.organisation(of: $0) == id }.sorted()
            return (["party:" + id] + people.map { "party:" + $0 })
        case .period: return []
        }
    }

    /// Everything an evidence bundle of `scope` holds, proven against the latest checkpoint. `signer`
    /// (the log key) signs the stream heads and, later, the manifest.
    public func bundle(
        _ scope: ExportScope, time: LocalTime, lang: FindingText.Language, signer: NoteSigner,
        generatedAt: Timestamp
    ) throws -> EvidenceBundle {
        try check(scope)
        let streamIDs = streams(of: scope)
        let (checkpoint, currentHeads) = try reader.checkpointAndStreamHeads(streamIDs)
        let size = checkpoint.checkpoint.size
        let keys = try reader.keyChain().filter { $0.seq < size }
        guard keys.last?.verifierKey == signer.verifier.description else {
            throw ExportError(
                .badRequest,
                "the signing key given is not the log's current key (\(keys.last?.verifierKey ?? "none")); use the key recorded by init or the one of the last key rotation"
            )
        }

        var loaded: [UInt64: (stored: LogReader.StoredEntry, entry: Entry)] = [:]
        func load(_ seq: UInt64) throws -> (stored: LogReader.StoredEntry, entry: Entry) {
            if let known = loaded[seq] { return known }
            guard let stored = try reader.entry(seq: seq) else {
                throw StoreError(.inconsistent, "entry \(seq) is missing; run `probity verify`")
            }
            let entry: Entry
            do { entry = try Entry(bytes: stored.bytes) } catch {
                throw StoreError(.inconsistent, "entry \(seq) is malformed (\(error)); run `probity verify`")
            }
            loaded[seq] = (stored, entry)
            return (stored, entry)
        }
        /// Loads the entries of `seqs` not loaded yet, in one read transaction.
        func prefetch(_ seqs: [UInt64]) throws {
            for stored in try reader.entries(seqs: seqs.filter { loaded[$0] == nil }) {
                do { loaded[stored.seq] = (stored, try Entry(bytes: stored.bytes)) } catch {
                    throw StoreError(.inconsistent, "entry \(stored.seq) is malformed (\(error)); run `probity verify`")
                }
            }
        }

        // The entries in scope: the domain records, the whole of each stream, or the period's range.
        var scopeSeqs = Set<UInt64>()
        var range: Range<UInt64>?
        if case .period(let from, let to) = scope {
            let seqs = try reader.seqRange(appendedFrom: from, to: to, below: size)
            scopeSeqs.formUnion(seqs)
            range = seqs
        } else {
            let records = scope.records(in: state).filter { $0.seq < size }
            try prefetch(records.map(\.seq))
            scopeSeqs.formUnion(records.map(\.seq))
        }
        var heads: [(stream: String, note: SignedNote)] = []
        for stream in streamIDs {
            let (members, head) = try streamMembers(
                stream, currentHead: currentHeads[stream], size: size, load: load, loaded: { loaded })
            scopeSeqs.formUnion(members)
            let note = try StreamHead(
                origin: checkpoint.checkpoint.origin, treeSize: size, stream: stream, lastSeq: head?.seq,
                lastLeafHash: head?.leafHash ?? Entry.zeroHash
            ).sign(with: signer)
            heads.append((stream, note))
        }

        // Context: the key chain, the redactions of entries in scope, a period's boundaries.
        var roles: [UInt64: EvidenceBundle.Role] = [:]
        for seq in scopeSeqs { roles[seq] = .scope }
        for key in keys where roles[key.seq] == nil { roles[key.seq] = .key }
        for seq in scopeSeqs {
            if let by = state.redactions[seq], by < size, roles[by] == nil { roles[by] = .redaction }
        }
        if let range {
            if range.lowerBound > 0, roles[range.lowerBound - 1] == nil { roles[range.lowerBound - 1] = .boundary }
            if range.upperBound < size, roles[range.upperBound] == nil { roles[range.upperBound] = .boundary }
        }
        // Dating: the first RFC 3161 timestamp of a checkpoint holding every entry in scope, with its token.
        var dated: [EvidenceBundle.LinkedCheckpoint] = []
        if let last = scopeSeqs.max() {
            for stamp in try reader.timestampEntries(below: size) where stamp.treeSize > last && stamp.treeSize <= size
            {
                guard let payload = try load(stamp.seq).stored.payload else { continue }  // its token was redacted
                roles[stamp.seq] = roles[stamp.seq] ?? .timestamp
                // The checkpoint as the token imprinted it (without cosignatures added since), which is what
                // both bundle verifiers hash.
                let stored = try reader.checkpoint(size: stamp.treeSize)
                let imprint = (try? JSONParser.parse(payload.bytes))?["token"]?.stringValue.flatMap(Base64.decode)
                    .flatMap { try? TrustedTimestamp.parse(tokenDER: $0).imprint }
                dated.append(
                    .init(
                        entrySeq: stamp.seq, checkpoint: imprint.flatMap(stored.stamped(imprint:)) ?? stored,
                        consistencyProof: try reader.consistencyProof(from: stamp.treeSize, to: size)))
                break
            }
        }
        // Each key rotation, under the checkpoint the old key signed over it.
        var rotations: [EvidenceBundle.LinkedCheckpoint] = []
        for (old, rotation) in zip(keys, keys.dropFirst()) {
            let covering = try reader.firstCheckpoint(covering: rotation.seq)
            guard let oldKey = try? NoteVerifier(old.verifierKey), covering.isSigned(by: oldKey) else {
                throw StoreError(
                    .inconsistent,
                    "the key rotation at seq \(rotation.seq) is not covered by a checkpoint signed with the key it replaced; run `probity verify`"
                )
            }
            rotations.append(
                .init(
                    entrySeq: rotation.seq, checkpoint: covering,
                    consistencyProof: try reader.consistencyProof(from: covering.checkpoint.size, to: size)))
        }
        let seqs = roles.keys.sorted()
        try prefetch(seqs)
        let proofs = try reader.inclusionProofs(seqs: seqs, size: size)
        var exhibits: [EvidenceBundle.Exhibit] = []
        exhibits.reserveCapacity(seqs.count)
        for (seq, proof) in zip(seqs, proofs) {
            let (stored, entry) = try load(seq)
            let role = roles[seq]!
            let redactedBy = state.redactions[seq].flatMap { $0 < size ? $0 : nil }
            if role == .scope, entry.payload != nil, stored.payload == nil, redactedBy == nil {
                throw StoreError(
                    .inconsistent,
                    "the payload of entry \(seq) is missing and no redaction names it; run `probity verify`")
            }
            exhibits.append(
                EvidenceBundle.Exhibit(
                    seq: seq, role: role, entryBytes: stored.bytes, proof: proof,
                    payload: role == .scope || role == .timestamp ? stored.payload : nil, redactedBy: redactedBy))
        }
        let earlier = try reader.firstCheckpoint(covering: seqs.last ?? 0)
        let consistency = try reader.consistencyProof(from: earlier.checkpoint.size, to: size)

        let timelineRecords = scope.records(in: state).filter { $0.seq < size && (range?.contains($0.seq) ?? true) }
        for record in timelineRecords where loaded[record.seq] == nil { _ = try load(record.seq) }
        let events = try self.events(timelineRecords, stored: loaded.mapValues(\.stored))
        return EvidenceBundle(
            scope: scope, generatedAt: generatedAt, checkpoint: checkpoint, earlierCheckpoint: earlier,
            consistencyProof: consistency,
            verifierKeys: keys.map(\.verifierKey), publicKeyPEM: signer.verifier.publicKey.pem, streamHeads: heads,
            range: range.map { ($0.lowerBound, UInt64($0.count)) }, exhibits: exhibits, timestamps: dated,
            rotations: rotations,
            timelineCSV: try timeline(
                scope, format: .csv, time: time, lang: lang, generatedAt: generatedAt, events: events),
            timelineHTML: try timeline(
                scope, format: .html, time: time, lang: lang, generatedAt: generatedAt, events: events,
                checkpoint: checkpoint))
    }

    /// The seqs of `stream` below `size` and its last entry there, walking the stream's chain back from its
    /// head. The entries already loaded (the scope's records) usually hold the whole chain; when they do not
    /// (an extension type naming the procedure, or a commit after the projections were read), the entries
    /// below `size` are scanned for the stream.
    func streamMembers(
        _ stream: String, currentHead: LogReader.StreamPosition?, size: UInt64,
        load: (UInt64) throws -> (stored: LogReader.StoredEntry, entry: Entry),
        loaded: () -> [UInt64: (stored: LogReader.StoredEntry, entry: Entry)]
    ) throws -> ([UInt64], LogReader.StreamPosition?) {
        guard let currentHead else { return ([], nil) }
        if currentHead.seq < size {
            var byHash: [Merkle.Hash: (seq: UInt64, entry: Entry)] = [:]
            for (seq, item) in loaded() where item.entry.streams[stream] != nil {
                byHash[item.stored.leafHash] = (seq, item.entry)
            }
            var members: [UInt64] = []
            var cursor = currentHead.leafHash
            while cursor != Entry.zeroHash, let member = byHash[cursor] {
                members.append(member.seq)
                cursor = member.entry.streams[stream]!
            }
            if cursor == Entry.zeroHash { return (members.reversed(), currentHead) }
        }
        var members: [UInt64] = []
        var last: LogReader.StreamPosition?
        var next: UInt64 = 0
        while next < size {
            let chunk = try reader.entries(from: next, limit: 10_000).filter { $0.seq < size }
            guard let end = chunk.last?.seq else { break }
            for stored in chunk {
                guard let entry = try? Entry(bytes: stored.bytes), entry.streams[stream] != nil else { continue }
                _ = try load(stored.seq)
                members.append(stored.seq)
                last = (stored.seq, stored.leafHash)
            }
            next = end + 1
        }
        return (members, last)
    }
}
