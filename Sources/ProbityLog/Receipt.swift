/// What one appended event got: its entry's seq and leaf hash, and a `.tlog-proof` against the checkpoint
/// that first covered it. For a duplicate (an exchange whose source the log already holds) that is the
/// original entry's receipt, and nothing was appended.
public struct Receipt: Sendable {
    public let seq: UInt64
    public let leafHash: Merkle.Hash
    public let proof: TlogProof
    public let duplicate: Bool

    public init(seq: UInt64, leafHash: Merkle.Hash, proof: TlogProof, duplicate: Bool) {
        self.seq = seq
        self.leafHash = leafHash
        self.proof = proof
        self.duplicate = duplicate
    }

    /// The same receipt, given again for a duplicate submission.
    public var asDuplicate: Receipt { Receipt(seq: seq, leafHash: leafHash, proof: proof, duplicate: true) }
}
