/// Inclusion proofs for the leaves a batch has just appended, computed in memory from the tree's right
/// edge before the batch and the batch's own leaf hashes, so that a writer hands out receipts without
/// reading a stored node.
///
/// Why that suffices: every hash in the inclusion proof of a leaf at index ≥ `before.size` (= a) covers
/// either new leaves only, or old leaves only — then it is a complete subtree [lo, lo+k) with
/// a ∈ [lo+k, lo+2k), which is exactly the edge subtree of level log₂k — or both, and then it splits
/// (RFC 6962) into parts of the first two kinds.
public struct BatchInclusionProver {
    private let start: UInt64
    private let leaves: [Merkle.Hash]
    public let size: UInt64
    private var known: [Span: Merkle.Hash] = [:]

    private struct Span: Hashable { let lo: UInt64, hi: UInt64 }

    /// `before` is the right edge before the batch; `leaves` the batch's leaf hashes, in order.
    public init(before: CompactRange, leaves: [Merkle.Hash]) {
        start = before.size
        self.leaves = leaves
        size = before.size + UInt64(leaves.count)
        for (node, hash) in zip(Merkle.rangeNodes(start: 0, end: before.size), before.hashes) {
            known[Span(lo: node.index << node.level, hi: (node.index + 1) << node.level)] = hash
        }
    }

    /// The inclusion proof of leaf `index` (one of the batch's) in the tree of `size` leaves.
    public mutating func proof(index: UInt64) -> [Merkle.Hash] {
        precondition(index >= start && index < size, "leaf \(index) is not in the batch [\(start), \(size))")
        return Merkle.inclusionProofRanges(index: index, size: size).map { hash($0.start, $0.end) }
    }

    private mutating func hash(_ lo: UInt64, _ hi: UInt64) -> Merkle.Hash {
        if hi - lo == 1, lo >= start { return leaves[Int(lo - start)] }
        if let hash = known[Span(lo: lo, hi: hi)] { return hash }
        precondition(hi > start, "the old subtree [\(lo), \(hi)) is not on the tree's edge")
        let k = Merkle.split(hi - lo)
        let hash = Merkle.nodeHash(hash(lo, lo + k), hash(lo + k, hi))
        known[Span(lo: lo, hi: hi)] = hash
        return hash
    }
}
