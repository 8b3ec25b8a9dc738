import ProbityDomain
public import ProbityLog

/// An evidence bundle: what a court expert needs to check, offline, that the exchanges of a procedure, a
/// party or a period are authentic and complete. Pure: the collector reads the store, this type lays the
/// files out, `ZipWriter` writes them, `BundleVerifier` and the shipped Python script check them.
///
/// Layout (every name ASCII, under 80 characters, numbered — French administrative courts' filing rules):
///
///     00_README_LISEZMOI.txt        what the bundle proves and how to check it (English, French)
///     01_manifest.json              scope, checkpoint, streams, exhibits, SHA-256 of every other file
///     02_manifest_signature.txt     signed note binding the manifest's SHA-256 to the log key
///     03_checkpoint.txt             the signed checkpoint every proof is against (tree size N)
///     04_verifier_keys.txt          the log's key chain, first key first
///     05_public_key.pem             the key that signed the checkpoint, for `openssl pkeyutl`
///     06_earlier_checkpoint.txt     the first checkpoint that held every exhibit (size M ≤ N)
///     07_consistency_proof.txt      RFC 6962 consistency proof from M to N
///     08_timeline.csv, 09_timeline.html
///     10_verify_bundle.py           stand-alone verifier (Python standard library + openssl)
///     streams/S01_<stream>.txt      signed stream-head notes at size N (completeness)
///     entries/E00001_seq<seq>.json          the entry bytes, verbatim
///     entries/E00001_seq<seq>.payload.json  its payload, where not redacted (the salt is in the manifest)
///     entries/E00001_seq<seq>.tlog-proof    its inclusion proof against 03_checkpoint.txt
public struct EvidenceBundle: Sendable {
    public static let format = "probity-bundle/v1"
    public static let manifestSignatureHeader = "probity.bundle-manifest/v1"
    public static let consistencyHeader = "probity.consistency/v1"

    public enum Names {
        public static let readme = "00_README_LISEZMOI.txt"
        public static let manifest = "01_manifest.json"
        public static let manifestSignature = "02_manifest_signature.txt"
        public static let checkpoint = "03_checkpoint.txt"
        public static let verifierKeys = "04_verifier_keys.txt"
        public static let publicKey = "05_public_key.pem"
        public static let earlierCheckpoint = "06_earlier_checkpoint.txt"
        public static let consistencyProof = "07_consistency_proof.txt"
        public static let timelineCSV = "08_timeline.csv"
        public static let timelineHTML = "09_timeline.html"
        public static let script = "10_verify_bundle.py"
    }

    /// Why an entry is in the bundle.
    public enum Role: String, Sendable {
        /// In the bundle's scope: with its payload where not redacted.
        case scope
        /// A `redaction.applied` naming an entry of the scope: shows why a payload is absent.
        case redaction
        /// `log.created` or `key.rotated`: links the verifier key to the key that signed the checkpoint.
        case key
        /// For a period: the entry just before or just after the range, proving the range's ends.
        case boundary
        /// A `checkpoint.timestamped` (with its token) dating a checkpoint that holds the scope's entries.
        case timestamp
    }

    /// An earlier checkpoint holding entry `entrySeq`, and the consistency proof from it to the bundle's
    /// checkpoint. For a `checkpoint.timestamped` entry, the checkpoint its token dates (every entry below its
    /// size existed then); for a `key.rotated` entry, the checkpoint the old key signed over the rotation,
    /// which is what lets the first key vouch for the next.
    public struct LinkedCheckpoint: Sendable {
        public var entrySeq: UInt64
        public var checkpoint: SignedCheckpoint
        public var consistencyProof: [Merkle.Hash]

        public init(entrySeq: UInt64, checkpoint: SignedCheckpoint, consistencyProof: [Merkle.Hash]) {
            self.entrySeq = entrySeq; self.checkpoint = checkpoint; self.consistencyProof = consistencyProof
        }
    }

    public struct Exhibit: Sendable {
        public var seq: UInt64
        public var role: Role
        public var entryBytes: [UInt8]
        public var proof: [Merkle.Hash]
        public var payload: (salt: [UInt8], bytes: [UInt8])?
        public var redactedBy: UInt64?

        public init(
            seq: UInt64, role: Role, entryBytes: [UInt8], proof: [Merkle.Hash],
            payload: (salt: [UInt8], bytes: [UInt8])?, redactedBy: UInt64?
        ) {
            self.seq = seq; self.role = role; self.entryBytes = entryBytes; self.proof = proof; self.payload = payload;
            self.redactedBy = redactedBy
        }
    }

    public var scope: ExportScope
    public var generatedAt: Timestamp
    public var checkpoint: SignedCheckpoint
    /// The first checkpoint holding every exhibit, and the consistency proof from it to `checkpoint`.
    public var earlierCheckpoint: SignedCheckpoint
    public var consistencyProof: [Merkle.Hash]
    /// The log's verifier keys, first (log.created) first; the last one signed `checkpoint`.
    public var verifierKeys: [String]
    public var publicKeyPEM: String
    /// Signed stream-head notes at the checkpoint's size, one per stream whose completeness the bundle proves.
    public var streamHeads: [(stream: String, note: SignedNote)]
    /// For a period: the scope's seqs are `range.first ..< range.first + range.count`.
    public var range: (first: UInt64, count: UInt64)?
    /// In seq order.
    public var exhibits: [Exhibit]
    public var timestamps: [LinkedCheckpoint]
    /// One per `key.rotated` below the checkpoint's size, in order.
    public var rotations: [LinkedCheckpoint]
    public var timelineCSV: [UInt8]
    public var timelineHTML: [UInt8]

    public init(
        scope: ExportScope, generatedAt: Timestamp, checkpoint: SignedCheckpoint, earlierCheckpoint: SignedCheckpoint,
        consistencyProof: [Merkle.Hash], verifierKeys: [String], publicKeyPEM: String,
        streamHeads: [(stream: String, note: SignedNote)], range: (first: UInt64, count: UInt64)?,
        exhibits: [Exhibit], timestamps: [LinkedCheckpoint], rotations: [LinkedCheckpoint], timelineCSV: [UInt8],
        timelineHTML: [UInt8]
    ) {
        self.scope = scope; self.generatedAt = generatedAt; self.checkpoint = checkpoint
        self.earlierCheckpoint = earlierCheckpoint; self.consistencyProof = consistencyProof
        self.verifierKeys = verifierKeys; self.publicKeyPEM = publicKeyPEM; self.streamHeads = streamHeads
        self.range = range; self.exhibits = exhibits; self.timestamps = timestamps; self.rotations = rotations;
        self.timelineCSV = timelineCSV; self.timelineHTML = timelineHTML
    }

    public var origin: String { checkpoint.checkpoint.origin }

    /// The exhibit's file names: `entries/E00001_seq12` + `.json` / `.payload.json` / `.tlog-proof`.
    static func exhibitStem(number: Int, seq: UInt64) -> String {
        "entries/E" + String(number).leftPadded(to: 5) + "_seq\(seq)"
    }

    static func streamFileName(number: Int, stream: String) -> String {
        let safe = String(
            stream.unicodeScalars.map {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-"
                    ? Character($0) : "_"
            })
        return "streams/S" + String(number).leftPadded(to: 2) + "_" + safe.prefix(50) + ".txt"
    }

    /// The signed text binding a manifest to the log key.
    public static func manifestSignatureText(origin: String, treeSize: UInt64, manifestSHA256: [UInt8]) -> String {
        [manifestSignatureHeader, origin, String(treeSize), Hex.encode(manifestSHA256)].joined(separator: "\n") + "\n"
    }

    public static func consistencyText(old: UInt64, new: UInt64, proof: [Merkle.Hash]) -> String {
        ([consistencyHeader, "old \(old)", "new \(new)"] + proof.map(Base64.encode)).joined(separator: "\n") + "\n"
    }

    /// Every file of the bundle, in the order they go into the archive. `signManifest` signs the
    /// manifest-signature text with the log key.
    public func files(signManifest: (String) throws -> SignedNote) throws -> [(name: String, bytes: [UInt8])] {
        var body: [(name: String, bytes: [UInt8])] = [
            (Names.checkpoint, Array(checkpoint.encoded.utf8)),
            (Names.verifierKeys, Array((verifierKeys.joined(separator: "\n") + "\n").utf8)),
            (Names.publicKey, Array(publicKeyPEM.utf8)),
            (Names.earlierCheckpoint, Array(earlierCheckpoint.encoded.utf8)),
            (
                Names.consistencyProof,
                Array(
                    Self.consistencyText(
                        old: earlierCheckpoint.checkpoint.size, new: checkpoint.checkpoint.size, proof: consistencyProof
                    ).utf8)
            ),
            (Names.timelineCSV, timelineCSV),
            (Names.timelineHTML, timelineHTML),
            (Names.script, BundleVerifierScript.source),
        ]
        var streams: [JSONValue] = []
        for (i, head) in streamHeads.enumerated() {
            let name = Self.streamFileName(number: i + 1, stream: head.stream)
            body.append((name, Array(head.note.encoded.utf8)))
            streams.append(.object(["id": .string(head.stream), "note": .string(name)]))
        }
        func linked(_ links: [LinkedCheckpoint], prefix: String) -> [JSONValue] {
            links.enumerated().map { i, link in
                let stem =
                    prefix + String(i + 1).leftPadded(to: 2)
                    + "_seq\(link.entrySeq)_size\(link.checkpoint.checkpoint.size)"
                body.append((stem + "_checkpoint.txt", Array(link.checkpoint.encoded.utf8)))
                body.append(
                    (
                        stem + "_consistency.txt",
                        Array(
                            Self.consistencyText(
                                old: link.checkpoint.checkpoint.size, new: checkpoint.checkpoint.size,
                                proof: link.consistencyProof
                            ).utf8)
                    ))
                return .object([
                    "entry_seq": .number(Double(link.entrySeq)), "checkpoint": .string(stem + "_checkpoint.txt"),
                    "consistency": .string(stem + "_consistency.txt"),
                ])
            }
        }
        let timestampsJSON = linked(timestamps, prefix: "timestamps/T")
        let rotationsJSON = linked(rotations, prefix: "keys/R")
        var exhibitsJSON: [JSONValue] = []
        for (i, exhibit) in exhibits.enumerated() {
            let stem = Self.exhibitStem(number: i + 1, seq: exhibit.seq)
            var item: [String: JSONValue] = [
                "exhibit": .string("E" + String(i + 1).leftPadded(to: 5)), "seq": .number(Double(exhibit.seq)),
                "role": .string(exhibit.role.rawValue), "entry": .string(stem + ".json"),
                "proof": .string(stem + ".tlog-proof"),
            ]
            body.append((stem + ".json", exhibit.entryBytes))
            if let payload = exhibit.payload {
                body.append((stem + ".payload.json", payload.bytes))
                item["payload"] = .string(stem + ".payload.json")
                item["salt"] = .string(Hex.encode(payload.salt))
            }
            if let by = exhibit.redactedBy { item["redacted_by"] = .number(Double(by)) }
            body.append(
                (
                    stem + ".tlog-proof",
                    Array(TlogProof(index: exhibit.seq, proof: exhibit.proof, checkpoint: checkpoint).encoded.utf8)
                ))
            exhibitsJSON.append(.object(item))
        }
        let readme = BundleReadme.text(self)
        body.insert((Names.readme, Array(readme.utf8)), at: 0)

        var manifest: [String: JSONValue] = [
            "format": .string(Self.format),
            "origin": .string(origin),
            "generated_at": .string(generatedAt.description),
            "scope": scopeJSON,
            "checkpoint": .object([
                "file": .string(Names.checkpoint), "size": .number(Double(checkpoint.checkpoint.size)),
            ]),
            "keys": .object([
                "verifier_keys": .string(Names.verifierKeys), "public_key": .string(Names.publicKey),
                "rotations": .array(rotationsJSON),
            ]),
            "consistency": .object([
                "checkpoint": .string(Names.earlierCheckpoint), "proof": .string(Names.consistencyProof),
                "old_size": .number(Double(earlierCheckpoint.checkpoint.size)),
            ]),
            "streams": .array(streams),
            "timestamps": .array(timestampsJSON),
            "entries": .array(exhibitsJSON),
            "files": .array(
                body.map {
                    .object([
                        "name": .string($0.name), "sha256": .string(Hex.encode(SHA256.hash($0.bytes))),
                        "size": .number(Double($0.bytes.count)),
                    ])
                }),
        ]
        if let range {
            manifest["range"] = .object(["first": .number(Double(range.first)), "count": .number(Double(range.count))])
        }
        let manifestBytes = CanonicalJSON.encode(.object(manifest))
        let signature = try signManifest(
            Self.manifestSignatureText(
                origin: origin, treeSize: checkpoint.checkpoint.size, manifestSHA256: SHA256.hash(manifestBytes)))
        return [body[0], (Names.manifest, manifestBytes), (Names.manifestSignature, Array(signature.encoded.utf8))]
            + body.dropFirst()
    }

    var scopeJSON: JSONValue {
        switch scope {
        case .procedure(let ref): .object(["kind": .string("procedure"), "procedure": .string(ref)])
        case .party(let id): .object(["kind": .string("party"), "party": .string(id)])
        case .period(let from, let to):
            .object(["kind": .string("period"), "from": .string(from.description), "to": .string(to.description)])
        }
    }

    /// Writes the bundle as a ZIP archive to `sink`.
    public func write(signManifest: (String) throws -> SignedNote, to sink: @escaping ([UInt8]) throws -> Void) throws {
        var zip = ZipWriter(modified: generatedAt, sink: sink)
        for file in try files(signManifest: signManifest) { try zip.add(file.name, file.bytes) }
        try zip.finish()
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
