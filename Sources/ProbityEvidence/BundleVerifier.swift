import Foundation
import ProbityDomain
public import ProbityLog

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
    /// Witnesses that must have cosigned the bundle's checkpoint, and how many (nil: not asked).
    public var witnesses: WitnessQuorum?

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
        let bundle = try authenticateManifest()
        try checkListedFiles(bundle)
        var proven = ["the manifest, and through it every file's SHA-256, is signed by the log key"]
        let head = try checkCheckpoint(bundle)
        proven.insert(
            "the checkpoint \(head.file) (tree size \(bundle.size), root \(Base64.encode(head.root))) is signed by \(bundle.signer)",
            at: 0)
        if let witnesses { proven.insert(try checkCosignatures(head, witnesses), at: 1) }
        let exhibits = try checkEntries(bundle, head)
        proven.append("\(exhibits.list.count) entries are, byte for byte, in the log under that checkpoint")
        proven += try checkRedactions(exhibits)
        proven += try checkKeyChain(bundle, head, exhibits)
        proven.append(try checkEarlierCheckpoint(bundle, head, exhibits))
        proven += try checkTimestamps(bundle, head, exhibits)
        proven += try checkCompleteness(bundle, exhibits)
        return proven
    }

    /// The statement that `witnesses` vouch for the bundle's checkpoint, or why they do not.
    func checkCosignatures(_ head: TreeHead, _ witnesses: WitnessQuorum) throws(BundleVerificationError) -> String {
        guard let note = try? SignedNote.parse(String(decoding: head.bytes, as: UTF8.self)) else {
            throw .init("\(head.file) is not a signed note")
        }
        let cosigners = witnesses.cosigners(of: note)
        guard cosigners.count >= witnesses.quorum else {
            throw .init(
                "\(head.file) is cosigned by \(cosigners.count) of the witnesses given, fewer than the \(witnesses.quorum) required\(cosigners.isEmpty ? "" : " (\(cosigners.map(\.witness.name).joined(separator: ", ")))")"
            )
        }
        return
            "the checkpoint is cosigned by \(cosigners.count) of the \(witnesses.witnesses.count) witnesses given (quorum \(witnesses.quorum)): "
            + cosigners.map { "\($0.witness.name) at \(Cosignature.describe(time: $0.time))" }.joined(separator: ", ")
    }

    /// What the manifest's signature authenticates; every later stage checks the archive against it.
    struct Authenticated {
        let manifest: JSONValue
        let origin: String
        /// The manifest's `keys` object, and the key list file it names.
        let keys: JSONValue
        let keysFile: String
        /// The log's keys, oldest first; the last one signed the manifest.
        let chain: [NoteVerifier]
        let size: UInt64
        var signer: NoteVerifier { chain[chain.count - 1] }
    }

    /// The bundle's checkpoint: its file, its bytes (every .tlog-proof ends with them) and its root.
    struct TreeHead {
        let file: String
        let bytes: [UInt8]
        let root: Merkle.Hash
    }

    /// An entry of the bundle, checked: canonical, in the log under the checkpoint, payload committed.
    struct Exhibit {
        let item: JSONValue
        let seq: UInt64
        let role: String
        let entry: Entry
        let leafHash: Merkle.Hash
    }

    /// The bundle's entries in seq order, and where each seq is among them.
    struct Exhibits {
        var list: [Exhibit] = []
        var bySeq: [UInt64: Int] = [:]
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
        let hashes = lines.dropFirst(3).dropLast().compactMap { Base64.digest($0) }
        guard hashes.count == lines.count - 4 else {
            throw .init("\(name): a proof line is not base64 of a 32-byte hash")
        }
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

    /// The checkpoint in the signed note `name`, if one of `keys` signed it.
    func checkpoint(_ name: String, signedBy keys: [NoteVerifier]) throws(BundleVerificationError) -> Checkpoint {
        let text = try signedText(name, by: keys)
        do { return try Checkpoint(text: text) } catch { throw .init("\(name) is not a checkpoint: \(error)") }
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
