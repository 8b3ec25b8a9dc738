/// A C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the note text
/// `<origin>\n<size>\n<base64 root>\n`, optionally followed by extension lines (kept, not interpreted).
public struct Checkpoint: Sendable, Equatable {
    public let origin: String
    public let size: UInt64
    public let root: Merkle.Hash
    public let extensions: [String]

    public init(origin: String, size: UInt64, root: Merkle.Hash, extensions: [String] = []) {
        self.origin = origin
        self.size = size
        self.root = root
        self.extensions = extensions
    }

    public var text: String {
        ([origin, String(size), Base64.encode(root)] + extensions).joined(separator: "\n") + "\n"
    }

    public init(text: String) throws(SignedNote.FormatError) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.last == "" else { throw .init("the checkpoint text does not end with a newline") }
        lines.removeLast()
        guard lines.count >= 3 else { throw .init("a checkpoint has at least three lines: origin, size, root") }
        guard !lines[0].isEmpty else { throw .init("the checkpoint origin is empty") }
        guard let size = UInt64(lines[1]), String(size) == lines[1] else {
            throw .init("the checkpoint size \"\(lines[1])\" is not a decimal number without leading zeros")
        }
        guard let root = Base64.digest(lines[2]) else {
            throw .init("the checkpoint root is not base64 of 32 bytes")
        }
        guard lines[3...].allSatisfy({ !$0.isEmpty }) else { throw .init("the checkpoint has an empty extension line") }
        self.init(origin: String(lines[0]), size: size, root: root, extensions: lines[3...].map(String.init))
    }
}

/// A checkpoint together with the signed note that carries it.
public struct SignedCheckpoint: Sendable, Equatable {
    public let checkpoint: Checkpoint
    public let note: SignedNote

    public init(note: SignedNote) throws(SignedNote.FormatError) {
        self.checkpoint = try Checkpoint(text: note.text)
        self.note = note
    }

    public init(parsing text: String) throws(SignedNote.FormatError) {
        try self.init(note: SignedNote.parse(text))
    }

    public static func sign(_ checkpoint: Checkpoint, with signer: NoteSigner) throws -> SignedCheckpoint {
        try SignedCheckpoint(note: signer.sign(text: checkpoint.text))
    }

    public var encoded: String { note.encoded }

    /// Whether the checkpoint is signed by `verifier`, whose name must be the checkpoint's origin.
    public func isSigned(by verifier: NoteVerifier) -> Bool {
        verifier.name == checkpoint.origin && verifier.verifies(note)
    }

    /// The checkpoint as the log signed it: its text and the log's own signature lines, without the
    /// witnesses' cosignatures added since. What a TSA stamps, so that a later cosignature cannot change the
    /// bytes its token imprinted.
    public var logSigned: SignedCheckpoint {
        let own = note.signatures.filter { $0.name == checkpoint.origin }
        guard own.count < note.signatures.count else { return self }
        return (try? SignedCheckpoint(note: SignedNote(text: note.text, signatures: own))) ?? self  // same text
    }

    /// The form of this checkpoint whose signed note has the SHA-256 `imprint` (an RFC 3161 token's): as the
    /// log signed it, or as stored (tokens taken before cosignatures were left out of what is stamped may
    /// imprint a note that already held some). Nil if neither.
    public func stamped(imprint: [UInt8]) -> SignedCheckpoint? {
        [logSigned, self].first { SHA256.hash(Array($0.encoded.utf8)) == imprint }
    }
}
