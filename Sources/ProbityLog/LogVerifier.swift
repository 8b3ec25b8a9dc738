/// The integrity checks of `probity verify`, as a pure state machine fed the log's rows in seq order.
///
/// Nothing derived is trusted: every hash is recomputed from the entry bytes; the stored leaf hashes
/// and Merkle nodes are only compared with the recomputed ones, to name the place they were changed.
/// The work splits in two: `CheckedEntry.check` is per entry and independent (parse, canonical form,
/// hashes), so callers may run it in parallel; `consume` is the cheap sequential part (links).
public struct LogVerifier {
    public struct Failure: Sendable, Equatable, CustomStringConvertible {
        public enum Kind: String, Sendable, CaseIterable {
            case malformedEntry = "malformed-entry"
            case notCanonical = "not-canonical"
            case storedHashMismatch = "stored-hash-mismatch"
            case storedNodeMismatch = "stored-node-mismatch"
            case sequence
            case wrongLog = "wrong-log"
            case chain
            case time
            case stream
            case payloadMismatch = "payload-mismatch"
            case payloadMissing = "payload-missing"
            case keyChain = "key-chain"
            case checkpointRoot = "checkpoint-root"
            case checkpointSignature = "checkpoint-signature"
            case uncovered
            case truncated
            case fork
            /// A table the writer trusts (streams, counts, references, sources, checkpoints' sizes, the
            /// schema itself) disagrees with what the entries give.
            case derivedTable = "derived-table"
        }
        public let kind: Kind
        /// Failures that follow from another one (a changed entry changes the Merkle nodes and
        /// checkpoint roots above it) are listed after the failures of entries themselves, so that the
        /// first failure reported is the cause, not its echo.
        public var isConsequence: Bool {
            switch kind {
            case .storedNodeMismatch, .checkpointRoot, .checkpointSignature, .uncovered, .truncated, .fork: true
            default: false
            }
        }
        /// The first seq the failure concerns.
        public let seq: UInt64
        public let message: String
        public var description: String { "seq \(seq): \(kind.rawValue): \(message)" }
        public init(kind: Kind, seq: UInt64, message: String) {
            self.kind = kind; self.seq = seq; self.message = message
        }
    }

    public enum Trust: Sendable {
        /// The auditor's key obtained out of band: `log.created` must carry exactly this key.
        case verifier(NoteVerifier)
        /// An Ed25519 public key (from PEM); the key name is taken from the log's origin.
        case publicKey(Ed25519PublicKey)
        /// No key given: trust the key in `log.created` (reported as a warning).
        case firstUse
    }

    public let origin: String
    public private(set) var failures: [Failure] = []
    public private(set) var failureCount = 0
    public private(set) var warnings: [String] = []
    public private(set) var size: UInt64 = 0
    public private(set) var checkpointsChecked = 0
    public private(set) var redacted: [UInt64: UInt64] = [:]
    public private(set) var keys: [(fromSize: UInt64, verifier: NoteVerifier)] = []

    static let maxFailuresKept = 100
    private let trust: Trust
    private var range = CompactRange()
    private var lastLeafHash = Entry.zeroHash
    private var lastTime: Timestamp?
    /// Each stream's last entry and number of entries, and each type's number of entries, as the entries
    /// give them: what the store's `streams` and `type_counts` tables must hold.
    public private(set) var streamHeads: [String: (seq: UInt64, hash: Merkle.Hash, count: Int)] = [:]
    public private(set) var typeCounts: [String: Int] = [:]
    private var missingPayloads: [UInt64] = []
    private var checkpoints: [UInt64: [SignedCheckpoint]]
    private var lastValidCheckpointSize: UInt64 = 0
    private var rotationSeqs: [UInt64] = []
    private var auditorCheckpoints: [UInt64: [SignedCheckpoint]] = [:]

    /// - Parameters:
    ///   - checkpoints: every checkpoint the store holds.
    ///   - auditorCheckpoints: checkpoints kept from earlier, to catch truncation, rollback and forks.
    public init(
        origin: String, trust: Trust, checkpoints: [SignedCheckpoint], auditorCheckpoints: [SignedCheckpoint] = []
    ) {
        self.origin = origin
        self.trust = trust
        self.checkpoints = Dictionary(grouping: checkpoints, by: { $0.checkpoint.size })
        self.auditorCheckpoints = Dictionary(grouping: auditorCheckpoints, by: { $0.checkpoint.size })
        for (size, cps) in self.checkpoints where size == 0 || cps.count > 1 {
            record(
                .checkpointRoot, seq: size == 0 ? 0 : size - 1,
                "the store holds \(cps.count) checkpoints of size \(size)")
        }
    }

    private mutating func record(_ kind: Failure.Kind, seq: UInt64, _ message: String) {
        failureCount += 1
        if failures.count < Self.maxFailuresKept { failures.append(Failure(kind: kind, seq: seq, message: message)) }
    }

    /// Causes before consequences, each by seq (ties keep the order found).
    /// Causes first, then their echoes in the tree, then disagreements of the derived tables (which any
    /// change of the entries also causes, so they name the cause only when nothing else failed).
    public static func ordered(_ failures: [Failure]) -> [Failure] {
        func rank(_ f: Failure) -> Int { f.kind == .derivedTable ? 2 : (f.isConsequence ? 1 : 0) }
        return failures.enumerated().sorted { a, b in
            (rank(a.element), a.element.seq, a.offset) < (rank(b.element), b.element.seq, b.offset)
        }.map(\.element)
    }

    public var root: Merkle.Hash { range.root }

    /// Consumes the next row; returns the Merkle nodes its leaf completed (lowest first), for the caller
    /// to compare with what the store keeps of them (`checkStoredTile`).
    @discardableResult
    public mutating func consume(_ checked: CheckedEntry) -> [(node: Merkle.Node, hash: Merkle.Hash)] {
        // `position` is the row's stored seq; the tree position is `size` (they differ after a gap).
        checkEntry(checked, seq: checked.position)
        lastLeafHash = checked.leafHash
        let created = range.append(checked.leafHash)
        size += 1
        checkCheckpoints(atSize: size)
        return created
    }

    /// Compares a stored tile (nil: missing) with the one the entries give; records where they differ.
    public mutating func checkStoredTile(_ id: Tiles.ID, stored: [UInt8]?, expected: [UInt8]) {
        guard stored != expected else { return }
        guard let stored else {
            record(
                .storedNodeMismatch, seq: id.firstLeaf, "the store has no Merkle \(id) (\(expected.count / 32) hashes)")
            return
        }
        let differing = (0..<(expected.count / 32)).first { k in
            stored.count < (k + 1) * 32 || stored[(k * 32)..<((k + 1) * 32)] != expected[(k * 32)..<((k + 1) * 32)]
        }
        let firstLeaf = (id.index * UInt64(Tiles.width) + UInt64(differing ?? 0)) << UInt64(Tiles.height * id.level)
        record(
            .storedNodeMismatch, seq: firstLeaf,
            differing.map { "hash \($0) of the stored Merkle \(id) differs from the one the entries give" }
                ?? "the stored Merkle \(id) has \(stored.count / 32) hashes, not \(expected.count / 32)")
    }

    private mutating func checkEntry(_ checked: CheckedEntry, seq: UInt64) {
        if checked.storedLeafHash != checked.leafHash {
            record(
                .storedHashMismatch, seq: seq,
                "the entry bytes do not hash to the stored leaf hash: the entry or its stored hash was changed")
        }
        let entry: EntryHeader
        switch checked.entry {
        case .failure(let error):
            record(error.code == .notCanonical ? .notCanonical : .malformedEntry, seq: seq, error.message)
            return
        case .success(let e): entry = e
        }
        if entry.seq != seq {
            // A row holding another seq's entry: an entry was inserted, deleted or moved here.
            record(
                .sequence, seq: min(seq, entry.seq),
                "position \(seq) holds the entry for seq \(entry.seq): an entry was \(entry.seq < seq ? "inserted" : "removed") or moved"
            )
        }
        if entry.log != origin {
            record(.wrongLog, seq: seq, "the entry belongs to log \"\(entry.log)\", not \"\(origin)\"")
        }
        // A displaced entry (sequence failure above) breaks the chain by construction; report the cause only.
        if entry.prev != lastLeafHash && entry.seq == seq {
            record(
                .chain, seq: seq == 0 ? 0 : seq - 1,
                seq == 0
                    ? "seq 0 must have an all-zero prev"
                    : "seq \(seq) links to \(Hex.encode(entry.prev).prefix(16))…, not to the leaf hash of seq \(seq - 1): seq \(seq - 1) was changed or replaced"
            )
        }
        if let lastTime, entry.time < lastTime {
            record(.time, seq: seq, "time goes backwards: \(entry.time) is before \(lastTime) of the previous entry")
        }
        lastTime = max(lastTime ?? entry.time, entry.time)
        checkStreams(entry, seq: seq, leafHash: checked.leafHash)
        typeCounts[entry.type, default: 0] += 1
        switch checked.payload {
        case .absent where entry.payload != nil: missingPayloads.append(seq)
        case .mismatch:
            record(
                .payloadMismatch, seq: seq, "the stored payload or salt does not match the entry's payload commitment")
        case .orphan: record(.payloadMismatch, seq: seq, "a payload is stored for an entry that commits to none")
        default: break
        }
        checkKeys(entry, seq: seq)
        if entry.type == LogEventType.redactionApplied, let target = entry.targetSeq { redacted[target] = seq }
    }

    /// Records that the store has no row at `seq` (the next row has a higher seq). Feed the next row
    /// as usual: its links across the gap fail too, and the checkpoints after it no longer match.
    public mutating func missing(seq: UInt64, nextPresent: UInt64) {
        guard nextPresent > seq else { return }
        record(
            .sequence, seq: seq,
            nextPresent == seq + 1
                ? "seq \(seq) is missing: the entry was deleted"
                : "seqs \(seq)…\(nextPresent - 1) are missing: entries were deleted")
    }

    private mutating func checkStreams(_ entry: EntryHeader, seq: UInt64, leafHash: Merkle.Hash) {
        if !entry.streamsMatchData {
            let implied = entry.impliedStreams
            let ids = Set(entry.streams.map(\.id))
            let extra = ids.subtracting(implied).sorted(), absent = Set(implied).subtracting(ids).sorted()
            record(
                .stream, seq: seq,
                "the entry is not in exactly the streams its data implies"
                    + (absent.isEmpty ? "" : "; missing from \(absent.joined(separator: ", "))")
                    + (extra.isEmpty ? "" : "; wrongly in \(extra.joined(separator: ", "))"))
        }
        for (stream, previous) in entry.streams {
            // One look-up per stream: the head is read, checked and replaced in place (count 0: a new stream).
            var problem: String?
            func link(_ head: inout (seq: UInt64, hash: Merkle.Hash, count: Int)) {
                if previous != head.hash {
                    let expected = head.count > 0 ? "seq \(head.seq)" : "nothing (it would be the stream's first entry)"
                    problem =
                        "in stream \(stream) the entry links to \(Hex.encode(previous).prefix(16))…, but the stream's previous entry is \(expected): a gap or a fork"
                }
                head = (seq, leafHash, head.count + 1)
            }
            link(&streamHeads[stream, default: (0, Entry.zeroHash, 0)])
            if let problem { record(.stream, seq: seq, problem) }
        }
    }

    private mutating func checkKeys(_ entry: EntryHeader, seq: UInt64) {
        if seq == 0 {
            guard entry.type == LogEventType.logCreated else {
                record(.keyChain, seq: 0, "seq 0 must be log.created, found \(entry.type)")
                return
            }
            guard let text = entry.verifierKey, let verifier = try? NoteVerifier(text) else {
                record(.keyChain, seq: 0, "log.created does not carry a valid verifier_key")
                return
            }
            if verifier.name != origin {
                record(.keyChain, seq: 0, "the key in log.created is named \(verifier.name), not the origin \(origin)")
            }
            switch trust {
            case .verifier(let trusted) where trusted != verifier:
                record(.keyChain, seq: 0, "log.created carries key \(verifier), not the key you trust (\(trusted))")
            case .publicKey(let trusted) where trusted != verifier.publicKey:
                record(.keyChain, seq: 0, "log.created carries another public key than the PEM you gave")
            case .firstUse:
                warnings.append(
                    "no key given: trusting the key in log.created (\(verifier)); pass --vkey with a key obtained out of band"
                )
            default: break
            }
            keys.append((0, verifier))
        } else if entry.type == LogEventType.logCreated {
            record(.keyChain, seq: seq, "log.created may only be seq 0")
        } else if entry.type == LogEventType.keyRotated {
            guard let text = entry.verifierKey, let verifier = try? NoteVerifier(text), verifier.name == origin else {
                record(.keyChain, seq: seq, "key.rotated does not carry a valid verifier_key named \(origin)")
                return
            }
            // The rotation entry itself is covered by a checkpoint (size seq+1) under the old key;
            // the new key signs only larger checkpoints.
            keys.append((seq + 2, verifier))
            rotationSeqs.append(seq)
        }
    }

    func key(forCheckpointSize size: UInt64) -> NoteVerifier? {
        keys.last { $0.fromSize <= size }?.verifier
    }

    private mutating func checkCheckpoints(atSize size: UInt64) {
        guard checkpoints[size] != nil || auditorCheckpoints[size] != nil else { return }
        let root = range.root
        for cp in checkpoints[size] ?? [] {
            checkpointsChecked += 1
            let firstUnproven = lastValidCheckpointSize
            guard let key = key(forCheckpointSize: size) else {
                record(.keyChain, seq: firstUnproven, "no key to check the checkpoint of size \(size) with")
                continue
            }
            guard cp.checkpoint.origin == origin, cp.isSigned(by: key) else {
                record(
                    .checkpointSignature, seq: firstUnproven,
                    "the checkpoint of size \(size) is not signed by the log's key \(key.name)+\(String(key.keyID, radix: 16)): entries from seq \(firstUnproven) on are not vouched for"
                )
                continue
            }
            guard cp.checkpoint.root == root else {
                record(
                    .checkpointRoot, seq: firstUnproven,
                    "the signed checkpoint of size \(size) has another root than the entries give: entries in \(firstUnproven)…\(size - 1) were changed"
                )
                continue
            }
            lastValidCheckpointSize = size
        }
        for cp in auditorCheckpoints[size] ?? [] where cp.checkpoint.origin == origin && cp.checkpoint.root != root {
            record(
                .fork, seq: size - 1,
                "the log at size \(size) does not match the checkpoint you kept (root \(Base64.encode(cp.checkpoint.root))): the log was rewritten or forked before seq \(size)"
            )
        }
    }

    /// Ends the scan. Returns the failures found, causes first (see `Failure.isConsequence`), each by seq.
    public mutating func finish() -> [Failure] {
        defer { failures = Self.ordered(failures) }
        if size == 0 { record(.keyChain, seq: 0, "the log is empty: it has no log.created entry") }
        for (cpSize, _) in checkpoints where cpSize > size {
            record(
                .truncated, seq: size,
                "the store holds a checkpoint of size \(cpSize) but only \(size) entries: the tail was removed")
        }
        if lastValidCheckpointSize < size {
            record(
                .uncovered, seq: lastValidCheckpointSize,
                "entries \(lastValidCheckpointSize)…\(size - 1) are not covered by any valid signed checkpoint")
        }
        for r in rotationSeqs
        where !(checkpoints[r + 1] ?? []).contains(where: { cp in keys.contains { $0.verifier.verifies(cp.note) } }) {
            record(
                .keyChain, seq: r,
                "the key rotation at seq \(r) is not covered by a checkpoint of size \(r + 1) signed with the old key")
        }
        for (cpSize, kept) in auditorCheckpoints {
            for cp in kept
            where cp.checkpoint.origin != origin || !keys.contains(where: { cp.isSigned(by: $0.verifier) }) {
                record(
                    .checkpointSignature, seq: min(cpSize, size),
                    "the checkpoint you kept (size \(cpSize)) is not signed by any of this log's keys")
            }
            if cpSize > size {
                record(
                    .truncated, seq: size,
                    "you kept a checkpoint of size \(cpSize) but the log has only \(size) entries: entries \(size)…\(cpSize - 1) were removed (truncation or rollback)"
                )
            }
        }
        for seq in missingPayloads where redacted[seq] == nil {
            record(.payloadMissing, seq: seq, "the payload was deleted but no redaction.applied event records it")
        }
        return Self.ordered(failures)
    }

}

/// The per-entry, order-independent half of verification.
public struct CheckedEntry: Sendable {
    public enum PayloadStatus: Sendable { case absent, matches, mismatch, orphan }

    public let position: UInt64
    public let entry: Result<EntryHeader, EntryFormatError>
    public let leafHash: Merkle.Hash
    /// The leaf hash the store keeps beside the entry; nil if what it keeps is not 32 bytes.
    public let storedLeafHash: Merkle.Hash?
    public let payload: PayloadStatus

    /// Checks one stored row, read in place (verify's chunks keep every row in one buffer): decodes the entry,
    /// hashes it, and compares the payload with the entry's commitment.
    public static func check(
        position: UInt64, bytes: UnsafeBufferPointer<UInt8>, storedLeafHash: UnsafeBufferPointer<UInt8>,
        payload: (salt: UnsafeBufferPointer<UInt8>, bytes: UnsafeBufferPointer<UInt8>)?
    ) -> CheckedEntry {
        let entry = Result { () throws(EntryFormatError) in try EntryHeader(buffer: bytes) }
        var status = PayloadStatus.absent
        if let payload {
            switch entry {
            case .success(let e):
                if let commitment = e.payload {
                    status = commitment.matches(salt: payload.salt, payload: payload.bytes) ? .matches : .mismatch
                } else {
                    status = .orphan
                }
            case .failure: status = .mismatch
            }
        }
        return CheckedEntry(
            position: position, entry: entry, leafHash: SHA256.digest(prefix: 0x00, UnsafeRawBufferPointer(bytes)),
            storedLeafHash: SHA256Digest(storedLeafHash),
            payload: status)
    }
}
