import Foundation
import ProbityDomain
import ProbityLog

/// Why a bundle does not verify: the first thing found wrong, naming the file.
public struct BundleVerificationError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { message }
    public init(_ message: String) { self.message = message }
    public init(message: String) { self.message = message }
}

/// Checks an evidence bundle offline: every file against the signed manifest, every entry against the
/// signed checkpoint, payloads against their commitments, the key chain, the consistency proof, and
/// completeness (stream chains closed by signed stream heads, or a period's contiguous range). Pure: the
/// caller gives the archive's members (`BundleFiles`). `10_verify_bundle.py` performs the same checks, in
/// the same order, and must reach the same verdict on every input (the tests run both on one corpus).
public struct BundleVerifier {
    public typealias Names = EvidenceBundle.Names

    let files: BundleFiles
    let givenKey: NoteVerifier?
    let tsaCA: String?

    /// Most a file read before the manifest is authenticated may hold (the key list, the signature note):
    /// a forged bundle cannot make the verifier read more than this on trust.
    static let maxUnauthenticatedFile = 1 << 20

    /// With `tsaCA` (PEM certificates), RFC 3161 tokens must chain to it.
    public init(files: BundleFiles, vkey: String?, tsaCA: String? = nil) throws(BundleVerificationError) {
        self.files = files
        self.tsaCA = tsaCA
        if let vkey {
            do { givenKey = try NoteVerifier(vkey.trimmingCharacters(in: .whitespacesAndNewlines)) } catch {
                throw .init("--vkey: \(error)")
            }
        } else {
            givenKey = nil
        }
    }

    /// `files` maps each member's name to its bytes (for bundles already in memory).
    public init(files: [String: [UInt8]], vkey: String?, tsaCA: String? = nil) throws(BundleVerificationError) {
        try self.init(files: BundleFiles(files), vkey: vkey, tsaCA: tsaCA)
    }

    /// What was proven, one statement per line, or the first failure.
    ///
    /// The order matters: the manifest is authenticated first (its signature, by the last key of the
    /// bundle's key list, which must contain `--vkey`), reading nothing but the manifest, the signature
    /// note and the key list; then every member is checked against the manifest's size before it is
    /// read, and against its SHA-256 after. Nothing the archive claims is trusted before that.
    public func verify() throws(BundleVerificationError) -> [String] {
        var proven: [String] = []
        let manifestBytes = try files.read(Names.manifest)
        let manifest = try json(Names.manifest, manifestBytes)
        guard manifest["format"]?.stringValue == EvidenceBundle.format else {
            throw .init("\(Names.manifest): not a \(EvidenceBundle.format) bundle")
        }
        guard files.size(of: Names.manifestSignature) != nil else {
            throw .init("\(Names.manifestSignature) is missing")
        }

        // The key chain and the manifest's signature, before any other file is read.
        let origin = try string(manifest, "origin")
        let keys = try object(manifest, "keys")
        let keysFile = try string(keys, "verifier_keys")
        let chain = try text(keysFile, limit: Self.maxUnauthenticatedFile).split(separator: "\n").map {
            line throws(BundleVerificationError) -> NoteVerifier in
            do { return try NoteVerifier(String(line)) } catch { throw .init("\(Names.verifierKeys): \(error)") }
        }
        guard let signer = chain.last else { throw .init("the bundle carries no verifier key") }
        if let givenKey, !chain.contains(givenKey) {
            throw .init("the bundle's log key is \(signer), not the key given")
        }
        guard signer.name == origin else {
            throw .init("the verifier key is for \(signer.name), not for the bundle's log \(origin)")
        }
        let size = try number(try object(manifest, "checkpoint"), "size")
        let expected = EvidenceBundle.manifestSignatureText(
            origin: origin, treeSize: size, manifestSHA256: SHA256.hash(manifestBytes))
        guard try signedText(Names.manifestSignature, by: [signer], limit: Self.maxUnauthenticatedFile) == expected
        else {
            throw .init("\(Names.manifestSignature) does not sign this manifest")
        }

        // Every file is listed with its size and SHA-256: nothing removed, nothing added, nothing changed.
        var listed: [String: (sha256: String, size: UInt64)] = [:]
        for item in try array(manifest, "files") {
            let name = try string(item, "name")
            guard listed[name] == nil else { throw .init("\(Names.manifest) lists \(name) twice") }
            listed[name] = (try string(item, "sha256"), try number(item, "size"))
        }
        for name in files.names where listed[name] == nil && name != Names.manifest && name != Names.manifestSignature {
            throw .init("\(name) is in the archive but not in the manifest (a file was added)")
        }
        for (name, expected) in listed.sorted(by: { $0.key < $1.key }) {
            guard let stored = files.size(of: name) else {
                throw .init("\(name) is listed in the manifest but missing from the archive")
            }
            guard UInt64(stored) == expected.size, Hex.encode(SHA256.hash(try files.read(name))) == expected.sha256
            else {
                throw .init("\(name) does not match its SHA-256 in the manifest (the file was changed)")
            }
        }
        guard listed[keysFile] != nil else { throw .init("\(keysFile) is not listed in the manifest") }
        proven.append("the manifest, and through it every file's SHA-256, is signed by the log key")

        // The checkpoint, signed by the same key.
        let pemFile = try string(keys, "public_key")
        guard let pem = try? Ed25519PublicKey(pem: try text(pemFile)), pem == signer.publicKey else {
            throw .init("\(pemFile) is not the key that signs the checkpoint")
        }
        let checkpointFile = try string(try object(manifest, "checkpoint"), "file")
        let checkpointNote = try text(checkpointFile), checkpointBytes = try file(checkpointFile)
        let checkpoint: SignedCheckpoint
        do { checkpoint = try SignedCheckpoint(parsing: checkpointNote) } catch {
            throw .init("\(checkpointFile) is not a checkpoint: \(error)")
        }
        guard checkpoint.isSigned(by: signer) else {
            throw .init("\(checkpointFile) is not signed by \(signer) (the signature does not verify)")
        }
        let root = checkpoint.checkpoint.root
        guard checkpoint.checkpoint.origin == origin, checkpoint.checkpoint.size == size else {
            throw .init(
                "\(checkpointFile) is for \(checkpoint.checkpoint.origin) at size \(checkpoint.checkpoint.size), not what the manifest says"
            )
        }
        proven.insert(
            "the checkpoint \(checkpointFile) (tree size \(size), root \(Base64.encode(root))) is signed by \(signer)",
            at: 0)

        // Every exhibit: canonical entry bytes, in the log at its seq, payload commitment.
        struct Exhibit {
            let item: JSONValue; let seq: UInt64; let role: String; let entry: Entry; let leafHash: Merkle.Hash
        }
        var exhibits: [Exhibit] = []
        var bySeq: [UInt64: Int] = [:]
        for item in try array(manifest, "entries") {
            let name = try string(item, "entry"), seq = try number(item, "seq"), role = try string(item, "role")
            let bytes = try file(name)
            let entry: Entry
            do { entry = try Entry(bytes: bytes) } catch {
                throw .init("\(name) is not a valid canonical entry (the entry bytes were changed): \(error)")
            }
            guard entry.seq == seq, entry.log == origin else { throw .init("\(name) is not entry \(seq) of \(origin)") }
            let leafHash = Merkle.leafHash(bytes)
            let proofFile = try string(item, "proof")
            let proofBytes = try file(proofFile)
            let head: (extra: [UInt8]?, index: UInt64, proof: [Merkle.Hash], checkpointStart: Int)
            do { head = try TlogProof.parseHead(proofBytes) } catch {
                throw .init("\(proofFile) is not a tlog-proof: \(error)")
            }
            guard head.index == seq else { throw .init("\(proofFile) is not a tlog-proof for index \(seq)") }
            guard proofBytes[head.checkpointStart...].elementsEqual(checkpointBytes) else {
                throw .init("\(proofFile) is not against the bundle's checkpoint \(checkpointFile)")
            }
            do {
                try Merkle.verifyInclusion(leafHash: leafHash, index: seq, size: size, proof: head.proof, root: root)
            } catch {
                throw .init(
                    "\(proofFile): the inclusion proof of seq \(seq) does not lead to the checkpoint's root (entry or proof changed)"
                )
            }
            if let payloadFile = item["payload"]?.stringValue {
                let payload = try file(payloadFile)
                guard let salt = Hex.decode(try string(item, "salt")), let commitment = entry.payload,
                    commitment.matches(salt: salt, payload: payload)
                else {
                    throw .init(
                        "\(payloadFile) does not match the payload commitment of seq \(seq) (the payload was changed)")
                }
            } else if entry.payload != nil, role == EvidenceBundle.Role.scope.rawValue, item["redacted_by"] == nil {
                throw .init("the payload of seq \(seq) is missing and the entry is not redacted")
            }
            try Self.checkStreamNames(entry, name)
            guard Set(entry.streams.keys) == Streams.ids(for: entry.data) else {
                throw .init("\(name) is not in exactly the streams its data implies")
            }
            if let last = exhibits.last, last.seq >= seq {
                throw .init("the manifest lists entries out of order or twice")
            }
            bySeq[seq] = exhibits.count
            exhibits.append(Exhibit(item: item, seq: seq, role: role, entry: entry, leafHash: leafHash))
        }
        proven.append("\(exhibits.count) entries are, byte for byte, in the log under that checkpoint")

        // Redactions: the redaction.applied entry is in the bundle and names the entry.
        var redacted = 0
        for exhibit in exhibits {
            guard let by = exhibit.item["redacted_by"] else { continue }
            guard let bySeqValue = by.uint64Value, let i = bySeq[bySeqValue],
                exhibits[i].entry.type == LogEventType.redactionApplied,
                exhibits[i].entry.data["target_seq"]?.uint64Value == exhibit.seq
            else {
                throw .init(
                    "seq \(exhibit.seq) is said redacted by seq \(by.uint64Value.map(String.init) ?? "?"), which is not a redaction of it in the bundle"
                )
            }
            redacted += 1
        }
        if redacted > 0 {
            proven.append(
                "\(redacted) redacted entries: their payloads were erased by redaction.applied entries, which are in the bundle"
            )
        }

        // The key chain: log.created then each key.rotated, as entries of the log, each rotation under a
        // checkpoint signed with the key it replaced — so the first key vouches for the last.
        let keysInLog = exhibits.filter { [LogEventType.logCreated, LogEventType.keyRotated].contains($0.entry.type) }
            .map { $0.entry.data["verifier_key"]?.stringValue }
        guard keysInLog == chain.map(\.description),
            bySeq[0].map({ exhibits[$0].entry.type }) == LogEventType.logCreated
        else {
            throw .init("\(Names.verifierKeys) does not match the log.created and key.rotated entries in the bundle")
        }
        let rotations = try array(keys, "rotations")
        guard rotations.count == chain.count - 1 else {
            throw .init("\(Names.manifest): one rotation checkpoint is expected per key.rotated entry")
        }
        for (i, rotation) in rotations.enumerated() {
            let seq = try number(rotation, "entry_seq")
            guard let e = bySeq[seq], exhibits[e].entry.type == LogEventType.keyRotated,
                exhibits[e].entry.data["verifier_key"]?.stringValue == chain[i + 1].description
            else {
                throw .init("the rotation entry \(seq) to \(chain[i + 1]) is not in the bundle")
            }
            let file = try string(rotation, "checkpoint")
            let covering: Checkpoint
            do { covering = try Checkpoint(text: try signedText(file, by: [chain[i]])) } catch let e
                as BundleVerificationError
            { throw e } catch {
                throw .init("\(file) is not a checkpoint: \(error)")
            }
            guard seq < covering.size else { throw .init("\(file) does not cover the rotation entry \(seq)") }
            try checkConsistency(try string(rotation, "consistency"), old: covering, newSize: size, newRoot: root)
            proven.append(
                "\(chain[i]) signed the rotation to \(chain[i + 1]) (entry \(seq), checkpoint of size \(covering.size))"
            )
        }

        // The earlier checkpoint and the consistency proof from it.
        let consistency = try object(manifest, "consistency")
        let earlierFile = try string(consistency, "checkpoint")
        let earlier: Checkpoint
        do { earlier = try Checkpoint(text: try signedText(earlierFile, by: chain)) } catch let e
            as BundleVerificationError
        { throw e } catch {
            throw .init("\(earlierFile) is not a checkpoint: \(error)")
        }
        try checkConsistency(try string(consistency, "proof"), old: earlier, newSize: size, newRoot: root)
        if exhibits.contains(where: { $0.seq >= earlier.size }) {
            throw .init("an entry of the bundle is not in the earlier checkpoint of size \(earlier.size)")
        }
        proven.append(
            "the log already held every entry at the earlier checkpoint of size \(earlier.size), and the checkpoint of size \(size) extends it"
        )

        // Dating: a TSA's token on an earlier checkpoint that the bundle's checkpoint extends.
        for stamp in try array(manifest, "timestamps") {
            let seq = try number(stamp, "entry_seq")
            guard let i = bySeq[seq], exhibits[i].entry.type == LogEventType.checkpointTimestamped,
                let payloadFile = exhibits[i].item["payload"]?.stringValue
            else {
                throw .init("the timestamp entry \(seq) and its token are not in the bundle")
            }
            let data = exhibits[i].entry.data
            guard
                let token = (try? JSONParser.parse(try file(payloadFile)))?["token"]?.stringValue.flatMap(
                    Base64.decode),
                Hex.encode(SHA256.hash(token)) == data["token_sha256"]?.stringValue
            else { throw .init("\(payloadFile) does not hold the token whose SHA-256 entry \(seq) records") }
            let stampedFile = try string(stamp, "checkpoint")
            let stamped: Checkpoint
            do { stamped = try Checkpoint(text: try signedText(stampedFile, by: chain)) } catch let e
                as BundleVerificationError
            { throw e } catch {
                throw .init("\(stampedFile) is not a checkpoint: \(error)")
            }
            guard stamped.size == data["tree_size"]?.uint64Value,
                Base64.encode(stamped.root) == data["root"]?.stringValue
            else {
                throw .init("\(stampedFile) is not the checkpoint entry \(seq) says was timestamped")
            }
            try checkConsistency(try string(stamp, "consistency"), old: stamped, newSize: size, newRoot: root)
            let stampedBytes = try file(stampedFile)
            do { try TrustedTimestamp.verify(tokenDER: token, sha256: SHA256.hash(stampedBytes), caPEM: tsaCA) } catch {
                throw .init("the RFC 3161 token of entry \(seq) does not verify for \(stampedFile): \(error.message)")
            }
            let datedCount = exhibits.filter { $0.role == EvidenceBundle.Role.scope.rawValue && $0.seq < stamped.size }
                .count
            proven.append(
                "the TSA \(data["tsa"]?.stringValue ?? "?") dated the checkpoint of size \(stamped.size) at \(data["gen_time"]?.stringValue ?? "?") (RFC 3161, "
                    + (tsaCA == nil
                        ? "signature checked with the TSA's own certificate; give --tsa-ca to check who it is"
                        : "certificate chain checked")
                    + "): the \(datedCount) entries in scope below that size existed then")
        }

        // Completeness.
        let scope = try object(manifest, "scope")
        switch try string(scope, "kind") {
        case let kind where kind == "procedure" || kind == "party":
            let wanted = kind + ":" + (try string(scope, kind))
            guard Identifier.isValidStream(wanted) else {
                throw .init("\(Names.manifest): the scope \"\(wanted)\" is not a Probity identifier")
            }
            let streams = try array(manifest, "streams")
            for stream in streams where !Identifier.isValidStream(try string(stream, "id")) {
                throw .init(
                    "\(Names.manifest): the stream \"\(try string(stream, "id"))\" is not procedure:<id> or party:<id>")
            }
            guard streams.contains(where: { $0["id"]?.stringValue == wanted }) else {
                throw .init("the bundle has no stream-head note for \(wanted), its scope")
            }
            for stream in streams {
                let id = try string(stream, "id"), noteFile = try string(stream, "note")
                let head: StreamHead
                do { head = try StreamHead(text: try signedText(noteFile, by: [signer])) } catch let e
                    as BundleVerificationError
                { throw e } catch {
                    throw .init("\(noteFile) is not a stream head: \(error)")
                }
                guard head.origin == origin, head.treeSize == size, head.stream == id else {
                    throw .init("\(noteFile) is not the head of \(id) at size \(size)")
                }
                var members: [Merkle.Hash: Exhibit] = [:]
                for exhibit in exhibits where exhibit.entry.streams[id] != nil { members[exhibit.leafHash] = exhibit }
                var cursor = Entry.zeroHash, count = 0
                if let lastSeq = head.lastSeq {
                    guard let last = members[head.lastLeafHash], last.seq == lastSeq else {
                        throw .init("the last entry of \(id) (seq \(lastSeq)) is missing from the bundle (a cut tail)")
                    }
                    cursor = head.lastLeafHash
                } else if !members.isEmpty {
                    throw .init("\(noteFile) says \(id) is empty, but the bundle has entries of it")
                }
                while cursor != Entry.zeroHash {
                    guard let member = members[cursor] else {
                        throw .init(
                            "an entry of \(id) is missing from the bundle: the chain breaks after \(count) entries")
                    }
                    count += 1
                    cursor = member.entry.streams[id]!
                }
                guard count == members.count else { throw .init("\(id) has entries off its chain") }
                proven.append(
                    "the bundle holds all \(count) entries of \(id) up to tree size \(size) (stream chain and signed stream head)"
                )
            }
        case "period":
            let range = try object(manifest, "range")
            let first = try number(range, "first"), count = try number(range, "count")
            let inside = exhibits.filter { $0.role == EvidenceBundle.Role.scope.rawValue }.map(\.seq)
            // Compared without building the range: `count` comes from the manifest.
            guard UInt64(inside.count) == count,
                inside.enumerated().allSatisfy({ $0.element == first + UInt64($0.offset) })
            else {
                throw .init(
                    "the period's entries are not the contiguous range \(count > 0 ? "\(first)..\(first + count - 1)" : "(empty) at \(first)")"
                )
            }
            let bounds = (first > 0 ? [first - 1] : []) + inside + (first + count < size ? [first + count] : [])
            for seq in bounds where bySeq[seq] == nil {
                throw .init("entry \(seq), needed to bound the period, is missing")
            }
            for (a, b) in zip(bounds, bounds.dropFirst())
            where exhibits[bySeq[b]!].entry.prev != exhibits[bySeq[a]!].leafHash {
                throw .init("entry \(b) does not follow entry \(a) (prev chain broken)")
            }
            let start = try string(scope, "from"), end = try string(scope, "to")
            let insideSet = Set(inside)
            for seq in bounds {
                let time = exhibits[bySeq[seq]!].entry.time.description
                if insideSet.contains(seq) != (start <= time && time < end) {
                    throw .init(
                        "entry \(seq) (appended \(time)) is \(insideSet.contains(seq) ? "outside" : "inside, but not in") the period"
                    )
                }
            }
            proven.append(
                "the bundle holds all \(count) entries appended from \(start) to \(end) (contiguous seqs bound by the prev chain)"
            )
        case let kind:
            throw .init("unknown scope kind \"\(kind)\"")
        }
        return proven
    }

    /// Every stream an entry is in, or that its data implies, must be named by a Probity identifier (NFC,
    /// no formatting characters: see `Identifier`). Then Swift's string comparisons, which follow canonical
    /// equivalence, give the same answers as the Python verifier's, which compare code points.
    static func checkStreamNames(_ entry: Entry, _ name: String) throws(BundleVerificationError) {
        var ids = ["procedure", "party", "from"].compactMap { entry.data[$0]?.stringValue }
        ids += (entry.data["to"]?.arrayValue ?? []).compactMap(\.stringValue)
        for id in ids where !id.isEmpty && !Identifier.isValid(id) {
            throw .init("\(name) names \"\(id)\", which is not a Probity identifier (\(Identifier.rule))")
        }
        for stream in entry.streams.keys where !Identifier.isValidStream(stream) {
            throw .init("\(name) is in a stream named \"\(stream)\", which is not procedure:<id> or party:<id>")
        }
    }

    /// Checks the consistency-proof file `name`: the tree of `old` is a prefix of the tree of `newSize`.
    func checkConsistency(
        _ name: String, old: Checkpoint, newSize: UInt64, newRoot: Merkle.Hash
    ) throws(BundleVerificationError) {
        let lines = try text(name).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 4, lines[0] == Substring(EvidenceBundle.consistencyHeader), lines[1] == "old \(old.size)",
            lines[2] == "new \(newSize)", lines.last == ""
        else {
            throw .init("\(name) is not a consistency proof from \(old.size) to \(newSize)")
        }
        let hashes = lines.dropFirst(3).dropLast().compactMap { Base64.decode(String($0)) }
        guard hashes.count == lines.count - 4 else { throw .init("\(name): a proof line is not base64") }
        do {
            try Merkle.verifyConsistency(
                oldSize: old.size, newSize: newSize, oldRoot: old.root, newRoot: newRoot, proof: hashes)
        } catch {
            throw .init("\(name): the tree of size \(old.size) is not a prefix of the tree of size \(newSize)")
        }
    }

    // MARK: Reading the manifest and files

    func file(_ name: String) throws(BundleVerificationError) -> [UInt8] { try files.read(name) }

    /// The file as UTF-8 text; with `limit`, refused unread when larger (before the manifest is trusted).
    func text(_ name: String, limit: Int? = nil) throws(BundleVerificationError) -> String {
        if let limit, let size = files.size(of: name), size > limit {
            throw .init("\(name) is larger than \(limit) bytes; it cannot be a Probity bundle's")
        }
        guard let text = String(validating: try file(name), as: UTF8.self) else {
            throw .init("\(name) is not UTF-8 text")
        }
        return text
    }

    func json(_ name: String, _ bytes: [UInt8]) throws(BundleVerificationError) -> JSONValue {
        do { return try JSONParser.parse(bytes) } catch {
            throw .init("\(name) is not valid JSON: \(error)")
        }
    }

    func json(_ name: String) throws(BundleVerificationError) -> JSONValue { try json(name, try file(name)) }

    /// The note's text, if one of `keys` signed it.
    func signedText(
        _ name: String, by keys: [NoteVerifier], limit: Int? = nil
    ) throws(BundleVerificationError) -> String {
        let note: SignedNote
        do { note = try SignedNote.parse(try text(name, limit: limit)) } catch let e as BundleVerificationError {
            throw e
        } catch {
            throw .init("\(name) is not a signed note: \(error)")
        }
        guard keys.contains(where: { $0.verifies(note) }) else {
            throw .init(
                "\(name) is not signed by \(keys.count == 1 ? keys[0].description : "a key of the log") (the signature does not verify)"
            )
        }
        return note.text
    }

    func object(_ value: JSONValue, _ key: String) throws(BundleVerificationError) -> JSONValue {
        guard let member = value[key], member.objectValue != nil else {
            throw .init("\(Names.manifest): \"\(key)\" must be an object")
        }
        return member
    }

    func array(_ value: JSONValue, _ key: String) throws(BundleVerificationError) -> [JSONValue] {
        guard let member = value[key]?.arrayValue else { throw .init("\(Names.manifest): \"\(key)\" must be an array") }
        return member
    }

    func string(_ value: JSONValue, _ key: String) throws(BundleVerificationError) -> String {
        guard let member = value[key]?.stringValue else {
            throw .init("\(Names.manifest): \"\(key)\" must be a string")
        }
        return member
    }

    func number(_ value: JSONValue, _ key: String) throws(BundleVerificationError) -> UInt64 {
        guard let member = value[key]?.uint64Value else {
            throw .init("\(Names.manifest): \"\(key)\" must be a whole number")
        }
        return member
    }
}
