/// Per-procedure and per-party streams (docs/FORMATS.md): hash chains inside the global chain that let an
/// export of one procedure or one party prove it is complete.
public enum Streams {
    /// The streams an entry with this `data` belongs to: `procedure:<ref>` from `procedure`, and
    /// `party:<id>` from `party`, `from` and each element of `to`. `EntryHeader` applies the same rule
    /// to entry bytes without building `data`; the store tests check that the two agree.
    public static func ids(for data: [String: JSONValue]) -> Set<String> {
        var ids = Set<String>()
        if let procedure = data["procedure"]?.stringValue, !procedure.isEmpty { ids.insert("procedure:" + procedure) }
        for key in ["party", "from"] {
            if let party = data[key]?.stringValue, !party.isEmpty { ids.insert("party:" + party) }
        }
        for party in data["to"]?.arrayValue ?? [] {
            if let id = party.stringValue, !id.isEmpty { ids.insert("party:" + id) }
        }
        return ids
    }
}

/// A signed statement of a stream's last entry at a given tree size. The note text is
///
/// ```
/// probity.stream-head/v1
/// <origin>
/// <tree size>
/// <stream id>
/// <seq of the stream's last entry, or "none">
/// <base64 leaf hash of that entry, or of 32 zero bytes>
/// ```
///
/// signed with the log key like a checkpoint. Its first line keeps it from ever parsing as a checkpoint.
public struct StreamHead: Sendable, Equatable {
    public static let header = "probity.stream-head/v1"

    public let origin: String
    public let treeSize: UInt64
    public let stream: String
    /// nil when the stream has no entry below `treeSize`.
    public let lastSeq: UInt64?
    public let lastLeafHash: Merkle.Hash

    public init(origin: String, treeSize: UInt64, stream: String, lastSeq: UInt64?, lastLeafHash: Merkle.Hash) {
        self.origin = origin; self.treeSize = treeSize; self.stream = stream; self.lastSeq = lastSeq;
        self.lastLeafHash = lastLeafHash
    }

    public var text: String {
        [
            Self.header, origin, String(treeSize), stream, lastSeq.map(String.init) ?? "none",
            Base64.encode(lastLeafHash),
        ]
        .joined(separator: "\n") + "\n"
    }

    public init(text: String) throws(SignedNote.FormatError) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count == 7, lines[6] == "", lines[0] == Substring(Self.header) else {
            throw .init("not a \(Self.header) note (six lines expected)")
        }
        guard let size = UInt64(lines[2]), String(size) == lines[2] else {
            throw .init("stream head: bad tree size \"\(lines[2])\"")
        }
        var seq: UInt64?
        if lines[4] != "none" {
            guard let s = UInt64(lines[4]), String(s) == lines[4], s < size else {
                throw .init("stream head: bad seq \"\(lines[4])\"")
            }
            seq = s
        }
        guard let hash = Base64.digest(lines[5]) else {
            throw .init("stream head: the leaf hash is not base64 of 32 bytes")
        }
        self.init(origin: String(lines[1]), treeSize: size, stream: String(lines[3]), lastSeq: seq, lastLeafHash: hash)
    }

    /// Signs the note; refuses a stream name that is not `procedure:<id>` or `party:<id>` (see `Identifier`),
    /// so that nothing but a well-formed six-line note is ever signed with the log key.
    public func sign(with signer: NoteSigner) throws -> SignedNote {
        guard Identifier.isValidStream(stream), !origin.contains("\n") else {
            throw SignedNote.FormatError(
                "stream head: \"\(stream)\" is not a stream name (procedure:<id> or party:<id>, ids \(Identifier.rule))"
            )
        }
        return try signer.sign(text: text)
    }
}
