/// The Merkle tree as C2SP tlog-tiles (https://c2sp.org/tlog-tiles): tiles of height 8, so a tile of tile
/// level L holds up to 256 consecutive hashes of tree level 8·L (level 0: the leaf hashes). A full tile
/// has 256 hashes; the tile at the right edge of a level is partial (its first W hashes). The hashes of
/// the tree levels between (8·L+1 … 8·L+7) are not stored: they are computed from the tile below them.
public enum Tiles {
    public static let height = 8
    public static let width = 256

    /// A tile's place: tile level and index within that level.
    public struct ID: Hashable, Sendable, CustomStringConvertible {
        public let level: Int
        public let index: UInt64
        public init(level: Int, index: UInt64) { self.level = level; self.index = index }
        public var description: String { "tile \(level)/\(index)" }
        /// The first leaf under this tile.
        public var firstLeaf: UInt64 { index << (UInt64(height) * UInt64(level + 1)) }
    }

    /// How many hashes tile level `level` holds in a tree of `size` leaves.
    public static func hashCount(level: Int, size: UInt64) -> UInt64 {
        let shift = height * level
        return shift >= 64 ? 0 : size >> UInt64(shift)
    }

    /// The tiles a tree of `size` leaves has, level by level: full tiles, and the width of each level's
    /// partial tile (0 when the level ends on a full tile). Levels end where no hash is left.
    public static func layout(size: UInt64) -> [(level: Int, fullTiles: UInt64, partialWidth: Int)] {
        var levels: [(Int, UInt64, Int)] = []
        var level = 0
        while case let count = hashCount(level: level, size: size), count > 0 {
            levels.append((level, count / UInt64(width), Int(count % UInt64(width))))
            level += 1
        }
        return levels
    }

    /// The full tiles completed while the tree grew from `from` to `to` leaves, at tile level `level`:
    /// indices [start, end).
    public static func completed(level: Int, from: UInt64, to: UInt64) -> Range<UInt64> {
        (hashCount(level: level, size: from) / UInt64(width))..<(hashCount(level: level, size: to) / UInt64(width))
    }
}

/// The right edge of a growing tree's tiles: per tile level, the hashes of the tile not yet full. A writer
/// feeds it each new leaf with the nodes that leaf completed (`CompactRange.append`) and stores the tiles it
/// hands back full, then the partial ones once per batch.
public struct TileEdge: Sendable, Equatable {
    /// Per tile level, the rightmost tile's hashes (fewer than 256), concatenated.
    public private(set) var partial: [[UInt8]]

    public init(partial: [[UInt8]] = []) { self.partial = partial }

    /// Adds leaf `index`'s hash and the nodes it completed; calls `full` for every tile this fills.
    public mutating func append(
        leaf index: UInt64, hash: Merkle.Hash, created: [(node: Merkle.Node, hash: Merkle.Hash)],
        full: (Tiles.ID, [UInt8]) throws -> Void
    ) rethrows {
        try add(level: 0, index: index, hash, full)
        for (node, hash) in created where node.level % Tiles.height == 0 {
            try add(level: node.level / Tiles.height, index: node.index, hash, full)
        }
    }

    private mutating func add(
        level: Int, index: UInt64, _ hash: Merkle.Hash, _ full: (Tiles.ID, [UInt8]) throws -> Void
    ) rethrows {
        if partial.count <= level { partial.append(contentsOf: repeatElement([], count: level + 1 - partial.count)) }
        precondition(
            UInt64(partial[level].count / 32) == index % UInt64(Tiles.width), "tile hashes must arrive in order")
        partial[level].append(contentsOf: hash)
        if partial[level].count == Tiles.width * 32 {
            try full(Tiles.ID(level: level, index: index / UInt64(Tiles.width)), partial[level])
            partial[level].removeAll(keepingCapacity: true)
        }
    }

    /// The partial tiles of a tree of `size` leaves (non-empty ones only).
    public func partialTiles(size: UInt64) -> [(id: Tiles.ID, hashes: [UInt8])] {
        partial.enumerated().compactMap { level, hashes in
            hashes.isEmpty
                ? nil
                : (
                    Tiles.ID(level: level, index: Tiles.hashCount(level: level, size: size) / UInt64(Tiles.width)),
                    hashes
                )
        }
    }
}

/// Reads Merkle node hashes from stored tiles: a node of tree level 8·L + s is the root of 2^s consecutive
/// hashes of one tile of level L. Keeps the tiles it read, with the inner levels computed so far (only as
/// high as a node asked for: a leaf hash costs no hashing), so the O(log n) nodes of a proof cost a few
/// tile reads.
public struct TileHashReader {
    /// Fetches a tile's stored hashes (full or partial); nil if the store has none.
    private let fetch: (Tiles.ID) throws -> [UInt8]?
    /// Per tile read, its hashes (level 0) and the inner levels above them computed so far.
    private var expanded: [Tiles.ID: [[Merkle.Hash]]] = [:]

    public init(fetch: @escaping (Tiles.ID) throws -> [UInt8]?) { self.fetch = fetch }

    /// The hash of the complete subtree `node`, or nil if the stored tiles do not hold it.
    public mutating func hash(_ node: Merkle.Node) throws -> Merkle.Hash? {
        let level = node.level / Tiles.height, inner = node.level % Tiles.height
        let id = Tiles.ID(level: level, index: (node.index << UInt64(inner)) / UInt64(Tiles.width))
        var levels: [[Merkle.Hash]]
        if let known = expanded[id], known.count > inner {
            levels = known
        } else {
            if let known = expanded[id] {
                levels = known
            } else {
                guard let bytes = try fetch(id), bytes.count % 32 == 0 else { return nil }
                levels = [stride(from: 0, to: bytes.count, by: 32).map { Array(bytes[$0..<($0 + 32)]) }]
                if expanded.count >= 64 { expanded.removeAll(keepingCapacity: true) }
            }
            while levels.count <= inner {
                let below = levels[levels.count - 1]
                levels.append(
                    stride(from: 0, to: below.count - 1, by: 2).map { Merkle.nodeHash(below[$0], below[$0 + 1]) })
            }
            expanded[id] = levels
        }
        let position = Int(node.index % UInt64(Tiles.width >> inner))
        return position < levels[inner].count ? levels[inner][position] : nil
    }
}
