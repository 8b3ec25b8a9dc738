import ProbityLog

// The entries, and what they prove: redactions, the key chain, the earlier checkpoint, trusted dates.
extension BundleVerifier {
    /// Every exhibit: canonical entry bytes, in the log at its seq, payload commitment.
    func checkEntries(_ bundle: Authenticated, _ head: TreeHead) throws(BundleVerificationError) -> Exhibits {
        let (manifest, origin, size, root) = (bundle.manifest, bundle.origin, bundle.size, head.root)
        let (checkpointFile, checkpointBytes) = (head.file, head.bytes)
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
        return Exhibits(list: exhibits, bySeq: bySeq)
    }

    /// Redactions: the redaction.applied entry is in the bundle and names the entry.
    func checkRedactions(_ exhibits: Exhibits) throws(BundleVerificationError) -> [String] {
        let bySeq = exhibits.bySeq
        var redacted = 0
        for exhibit in exhibits.list {
            guard let by = exhibit.item["redacted_by"] else { continue }
            guard let bySeqValue = by.uint64Value, let i = bySeq[bySeqValue],
                exhibits.list[i].entry.type == LogEventType.redactionApplied,
                exhibits.list[i].entry.data["target_seq"]?.uint64Value == exhibit.seq
            else {
                throw .init(
                    "seq \(exhibit.seq) is said redacted by seq \(by.uint64Value.map(String.init) ?? "?"), which is not a redaction of it in the bundle"
                )
            }
            redacted += 1
        }
        guard redacted > 0 else { return [] }
        return [
            "\(redacted) redacted entries: their payloads were erased by redaction.applied entries, which are in the bundle"
        ]
    }

    /// The key chain: log.created then each key.rotated, as entries of the log, each rotation under a
    /// checkpoint signed with the key it replaced — so the first key vouches for the last.
    func checkKeyChain(
        _ bundle: Authenticated, _ head: TreeHead, _ entries: Exhibits
    ) throws(BundleVerificationError) -> [String] {
        let (keys, chain, size, root) = (bundle.keys, bundle.chain, bundle.size, head.root)
        let (exhibits, bySeq) = (entries.list, entries.bySeq)
        var proven: [String] = []
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
            let covering = try checkpoint(file, signedBy: [chain[i]])
            guard seq < covering.size else { throw .init("\(file) does not cover the rotation entry \(seq)") }
            try checkConsistency(try string(rotation, "consistency"), old: covering, newSize: size, newRoot: root)
            proven.append(
                "\(chain[i]) signed the rotation to \(chain[i + 1]) (entry \(seq), checkpoint of size \(covering.size))"
            )
        }
        return proven
    }

    /// The earlier checkpoint and the consistency proof from it.
    func checkEarlierCheckpoint(
        _ bundle: Authenticated, _ head: TreeHead, _ entries: Exhibits
    ) throws(BundleVerificationError) -> String {
        let (manifest, chain, size, root, exhibits) = (
            bundle.manifest, bundle.chain, bundle.size, head.root, entries.list
        )
        let consistency = try object(manifest, "consistency")
        let earlierFile = try string(consistency, "checkpoint")
        let earlier = try checkpoint(earlierFile, signedBy: chain)
        try checkConsistency(try string(consistency, "proof"), old: earlier, newSize: size, newRoot: root)
        if exhibits.contains(where: { $0.seq >= earlier.size }) {
            throw .init("an entry of the bundle is not in the earlier checkpoint of size \(earlier.size)")
        }
        return
            ("the log already held every entry at the earlier checkpoint of size \(earlier.size), and the checkpoint of size \(size) extends it")
    }

    /// Dating: a TSA's token on an earlier checkpoint that the bundle's checkpoint extends.
    func checkTimestamps(
        _ bundle: Authenticated, _ head: TreeHead, _ entries: Exhibits
    ) throws(BundleVerificationError) -> [String] {
        let (manifest, chain, size, root) = (bundle.manifest, bundle.chain, bundle.size, head.root)
        let (exhibits, bySeq) = (entries.list, entries.bySeq)
        var proven: [String] = []
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
            let stamped = try checkpoint(stampedFile, signedBy: chain)
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
        return proven
    }
}
