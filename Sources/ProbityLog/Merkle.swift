/// RFC 6962 §2.1 Merkle tree hashing, and the inclusion and consistency proof algorithms of
/// RFC 9162 §2.1.3–2.1.4 (the same proofs as RFC 6962, described more precisely).
public enum Merkle {
    /// A 32-byte SHA-256 hash held inline (no allocation per node).
    public typealias Hash = SHA256Digest

    public static let emptyRoot: Hash = SHA256.digest([UInt8]())

    public static func leafHash(_ entry: [UInt8]) -> Hash {
        entry.withUnsafeBytes { SHA256.digest(prefix: 0x00, $0) }
    }

    public static func nodeHash(_ left: Hash, _ right: Hash) -> Hash { SHA256.digest(prefix: 0x01, left, right) }

    /// The level above `hashes` (32-byte hashes, concatenated): the node hash of each pair, concatenated
    /// (an odd last hash has no parent here). Hashes in place, without one allocation per node.
    public static func parentLevel(_ hashes: [UInt8]) -> [UInt8] {
        let pairs = hashes.count / 64
        return [UInt8](unsafeUninitializedCapacity: pairs * 32) { output, count in
            hashes.withUnsafeBytes { input in
                for i in 0..<pairs {
                    SHA256.hash(
                        prefix: 0x01, UnsafeRawBufferPointer(rebasing: input[(i * 64)..<(i * 64 + 64)]),
                        into: output.baseAddress! + i * 32)
                }
            }
            count = pairs * 32
        }
    }

    /// MTH(D[n]) of a list of leaf hashes, computed with a compact range (O(log n) memory).
    public static func root(leafHashes: [Hash]) -> Hash {
        var range = CompactRange()
        for leaf in leafHashes { _ = range.append(leaf) }
        return range.root
    }

    /// Largest power of two strictly smaller than n (n ≥ 2): RFC 6962's split point k.
    static func split(_ n: UInt64) -> UInt64 {
        precondition(n >= 2)
        return 1 << (63 - (n - 1).leadingZeroBitCount)
    }

    // MARK: Proof generation

    /// A complete subtree of the tree: 2^level leaves starting at leaf index × 2^level.
    public struct Node: Hashable, Sendable {
        public let level: Int
        public let index: UInt64
        public init(level: Int, index: UInt64) { self.level = level; self.index = index }
    }

    /// The hash of leaves [start, end) as RFC 6962 defines MTH for that range, as a recipe of complete
    /// subtrees: the range splits into O(log n) stored nodes, combined right to left.
    public static func rangeNodes(start: UInt64, end: UInt64) -> [Node] {
        var nodes: [Node] = []
        var begin = start
        while begin < end {
            let size = end - begin
            // Largest power of two ≤ size, aligned at begin (begin is always aligned here by construction).
            var level = 63 - size.leadingZeroBitCount
            if begin != 0 { level = min(level, begin.trailingZeroBitCount) }
            nodes.append(Node(level: level, index: begin >> level))
            begin += 1 << level
        }
        return nodes
    }

    /// Folds the hashes of `rangeNodes` (left to right order) into the range's MTH.
    public static func foldRange(_ hashes: [Hash]) -> Hash {
        var acc = hashes.last!
        for h in hashes.dropLast().reversed() { acc = nodeHash(h, acc) }
        return acc
    }

    /// The subtree ranges whose hashes make up the inclusion proof of leaf m in a tree of size n
    /// (RFC 6962 §2.1.1 PATH), from the leaf upwards.
    public static func inclusionProofRanges(index m: UInt64, size n: UInt64) -> [(start: UInt64, end: UInt64)] {
        precondition(m < n)
        var ranges: [(UInt64, UInt64)] = []
        var (lo, hi, m) = (UInt64(0), n, m)
        while hi - lo > 1 {
            let k = split(hi - lo)
            if m < k {
                ranges.append((lo + k, hi))
                hi = lo + k
            } else {
                ranges.append((lo, lo + k))
                lo += k
                m -= k
            }
        }
        return ranges.reversed()
    }

    /// The subtree ranges of the consistency proof from size m to size n (RFC 6962 §2.1.2 SUBPROOF).
    public static func consistencyProofRanges(from m: UInt64, to n: UInt64) -> [(start: UInt64, end: UInt64)] {
        precondition(0 < m && m < n)
        var ranges: [(UInt64, UInt64)] = []
        func subproof(_ m: UInt64, _ lo: UInt64, _ hi: UInt64, _ whole: Bool) {
            let n = hi - lo
            if m == n {
                if !whole { ranges.append((lo, hi)) }
                return
            }
            let k = split(n)
            if m <= k {
                subproof(m, lo, lo + k, whole)
                ranges.append((lo + k, hi))
            } else {
                subproof(m - k, lo + k, hi, false)
                ranges.append((lo, lo + k))
            }
        }
        subproof(m, 0, n, true)
        return ranges
    }

    // MARK: Proof verification

    public struct ProofError: Error, CustomStringConvertible, Equatable {
        public let message: String
        public var description: String { message }
        init(_ message: String) { self.message = message }
    }

    /// RFC 9162 §2.1.3.2. Returns normally only if `proof` proves `leafHash` is leaf `index` of the tree
    /// of `size` leaves with root `root`.
    public static func verifyInclusion(
        leafHash: Hash, index: UInt64, size: UInt64, proof: [Hash], root: Hash
    ) throws(ProofError) {
        guard index < size else { throw ProofError("leaf index \(index) is not below the tree size \(size)") }
        let computed = try rootFromInclusionProof(leafHash: leafHash, index: index, size: size, proof: proof)
        guard computed == root else { throw ProofError("the inclusion proof does not lead to the expected root") }
    }

    public static func rootFromInclusionProof(
        leafHash: Hash, index: UInt64, size: UInt64, proof: [Hash]
    ) throws(ProofError) -> Hash {
        guard index < size else { throw ProofError("leaf index \(index) is not below the tree size \(size)") }
        var fn = index, sn = size - 1
        var r = leafHash
        for p in proof {
            guard sn != 0 else {
                throw ProofError("the inclusion proof has \(proof.count) hashes, more than the tree needs")
            }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 }
                }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1; sn >>= 1
        }
        guard sn == 0 else {
            throw ProofError("the inclusion proof has \(proof.count) hashes, fewer than the tree needs")
        }
        return r
    }

    /// RFC 9162 §2.1.4.2, plus rules for the edge cases (as the shared vectors fix them): equal sizes need
    /// an empty proof and equal roots; a proof from the empty tree proves nothing and is refused.
    public static func verifyConsistency(
        oldSize: UInt64, newSize: UInt64, oldRoot: Hash, newRoot: Hash, proof: [Hash]
    ) throws(ProofError) {
        guard oldSize <= newSize else {
            throw ProofError("the old size \(oldSize) is larger than the new size \(newSize)")
        }
        guard oldSize > 0 else { throw ProofError("a consistency proof from the empty tree proves nothing") }
        if oldSize == newSize {
            guard proof.isEmpty else { throw ProofError("the sizes are equal but the proof is not empty") }
            guard oldRoot == newRoot else { throw ProofError("the sizes are equal but the roots differ") }
            return
        }
        guard !proof.isEmpty else { throw ProofError("the consistency proof is empty") }

        var path = proof[...]
        if oldSize & (oldSize - 1) == 0 { path.insert(oldRoot, at: path.startIndex) }  // old size is a power of 2
        var fn = oldSize - 1, sn = newSize - 1
        while fn & 1 == 1 { fn >>= 1; sn >>= 1 }
        var fr = path.first!, sr = path.first!
        for c in path.dropFirst() {
            guard sn != 0 else { throw ProofError("the consistency proof is longer than the trees need") }
            if fn & 1 == 1 || fn == sn {
                fr = nodeHash(c, fr)
                sr = nodeHash(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 }
                }
            } else {
                sr = nodeHash(sr, c)
            }
            fn >>= 1; sn >>= 1
        }
        guard sn == 0 else { throw ProofError("the consistency proof is shorter than the trees need") }
        guard fr == oldRoot else { throw ProofError("the consistency proof does not lead to the old root") }
        guard sr == newRoot else { throw ProofError("the consistency proof does not lead to the new root") }
    }
}

/// The right edge of a growing Merkle tree: the complete subtrees (at most one per level, largest first)
/// whose sizes add up to the tree size. Appending a leaf merges equal-sized subtrees; each merge is a
/// new stored node. This is all the state an append-only writer needs to compute roots in O(log n).
public struct CompactRange: Sendable, Equatable {
    public private(set) var size: UInt64 = 0
    /// Hashes of the complete subtrees, largest (leftmost) first. Their levels are the set bits of `size`.
    public private(set) var hashes: [Merkle.Hash] = []

    public init() {}

    /// Rebuilds a range from its subtree hashes (as read from storage). `hashes.count` must equal the
    /// number of set bits in `size`.
    public init(size: UInt64, hashes: [Merkle.Hash]) {
        precondition(hashes.count == size.nonzeroBitCount)
        self.size = size
        self.hashes = hashes
    }

    /// Appends a leaf and returns the complete nodes it created (level ≥ 1), lowest first.
    @discardableResult
    public mutating func append(_ leafHash: Merkle.Hash) -> [(node: Merkle.Node, hash: Merkle.Hash)] {
        var created: [(Merkle.Node, Merkle.Hash)] = []
        var hash = leafHash
        var level = 0
        let index = size
        while (index >> level) & 1 == 1 {
            hash = Merkle.nodeHash(hashes.removeLast(), hash)
            level += 1
            created.append((Merkle.Node(level: level, index: index >> level), hash))
        }
        hashes.append(hash)
        size += 1
        return created
    }

    public var root: Merkle.Hash {
        guard var acc = hashes.last else { return Merkle.emptyRoot }
        for h in hashes.dropLast().reversed() { acc = Merkle.nodeHash(h, acc) }
        return acc
    }
}
