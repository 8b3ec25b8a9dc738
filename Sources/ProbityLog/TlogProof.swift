import Foundation

/// A C2SP tlog-proof (`c2sp.org/tlog-proof@v1`, files `.tlog-proof`): an offline-verifiable proof that
/// the entry at `index` is in the tree of the enclosed signed checkpoint.
///
/// ```
/// c2sp.org/tlog-proof@v1
/// [extra <base64>]
/// index <decimal>
/// <base64 hash>        (the inclusion proof, one hash a line, leaf upwards)
///
/// <signed checkpoint note>
/// ```
public struct TlogProof: Sendable, Equatable {
    public static let header = "c2sp.org/tlog-proof@v1"

    public let extra: [UInt8]?
    public let index: UInt64
    public let proof: [Merkle.Hash]
    public let checkpoint: SignedCheckpoint

    public init(extra: [UInt8]? = nil, index: UInt64, proof: [Merkle.Hash], checkpoint: SignedCheckpoint) {
        self.extra = extra
        self.index = index
        self.proof = proof
        self.checkpoint = checkpoint
    }

    public var encoded: String {
        var out: [UInt8] = []
        write(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the encoding to `out`. A writer of many proofs against one checkpoint (a batch's receipts)
    /// passes that checkpoint's bytes once encoded, `checkpointBytes`, rather than encoding it for each.
    public func write(into out: inout [UInt8], checkpointBytes: [UInt8]? = nil) {
        out.append(contentsOf: Self.header.utf8)
        out.append(0x0A)
        if let extra {
            out.append(contentsOf: "extra ".utf8)
            Base64.append(extra, to: &out)
            out.append(0x0A)
        }
        out.append(contentsOf: "index \(index)\n".utf8)
        for hash in proof {
            Base64.append(hash, to: &out)
            out.append(0x0A)
        }
        out.append(0x0A)
        if let checkpointBytes {
            out.append(contentsOf: checkpointBytes)
        } else {
            out.append(contentsOf: checkpoint.encoded.utf8)
        }
    }

    public static func parse(_ text: String) throws(SignedNote.FormatError) -> TlogProof {
        let bytes = Array(text.utf8)
        let (extra, index, proof, checkpointStart) = try parseHead(bytes)
        let checkpoint = try SignedCheckpoint(parsing: String(decoding: bytes[checkpointStart...], as: UTF8.self))
        return TlogProof(extra: extra, index: index, proof: proof, checkpoint: checkpoint)
    }

    /// Everything before the checkpoint: the extra data, the index, the hashes, and where the checkpoint
    /// starts in `bytes`. Lets a verifier that already holds the checkpoint compare bytes instead of parsing
    /// it again for every proof (a bundle has one proof per entry, all against the same checkpoint).
    public static func parseHead(
        _ bytes: [UInt8]
    ) throws(SignedNote.FormatError) -> (extra: [UInt8]?, index: UInt64, proof: [Merkle.Hash], checkpointStart: Int) {
        let newline = UInt8(ascii: "\n")
        guard let blank = bytes.indices.dropLast().first(where: { bytes[$0] == newline && bytes[$0 + 1] == newline })
        else {
            throw .init("the proof has no blank line before its checkpoint")
        }
        var lines = bytes[..<blank].split(separator: newline, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }[...]
        guard lines.first == header else { throw .init("the proof does not start with \"\(header)\"") }
        lines.removeFirst()
        var extra: [UInt8]?
        if let line = lines.first, line.hasPrefix("extra ") {
            guard let decoded = Base64.decode(String(line.dropFirst(6))) else {
                throw .init("the extra line is not valid base64")
            }
            extra = decoded
            lines.removeFirst()
        }
        guard let indexLine = lines.first, indexLine.hasPrefix("index "),
            let index = UInt64(indexLine.dropFirst(6)), String(index) == indexLine.dropFirst(6)
        else { throw .init("expected an \"index N\" line after the header") }
        lines.removeFirst()
        var proof: [Merkle.Hash] = []
        for line in lines {
            guard let hash = Base64.digest(line) else {
                throw .init("proof line \"\(line)\" is not base64 of a 32-byte hash")
            }
            proof.append(hash)
        }
        return (extra, index, proof, blank + 2)
    }

    /// Checks the checkpoint signature and that `leafHash` is at `index` under the checkpoint's root.
    public func verify(leafHash: Merkle.Hash, verifier: NoteVerifier) throws(Merkle.ProofError) {
        guard checkpoint.isSigned(by: verifier) else {
            throw Merkle.ProofError(
                "the checkpoint is not signed by \(verifier.name)+\(String(format: "%08x", verifier.keyID))")
        }
        try Merkle.verifyInclusion(
            leafHash: leafHash, index: index, size: checkpoint.checkpoint.size, proof: proof,
            root: checkpoint.checkpoint.root)
    }
}
