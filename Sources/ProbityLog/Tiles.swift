import Synchronization

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
/// tile reads. Full tiles never change, so they are also kept, fully expanded, in `shared` (if given)
/// for the readers that come after: a daemon's proofs then rarely read or hash a tile above level 0.
public struct TileHashReader {
    /// Fetches a tile's stored hashes (full or partial); nil if the store has none.
    private let fetch: (Tiles.ID) throws -> [UInt8]?
    private let shared: TileCache?
    /// Per tile read, its hashes (level 0) and the inner levels above them computed so far, each level
    /// as concatenated 32-byte hashes.
    private var expanded: [Tiles.ID: [[UInt8]]] = [:]

    public init(shared: TileCache? = nil, fetch: @escaping (Tiles.ID) throws -> [UInt8]?) {
        self.shared = shared
        self.fetch = fetch
    }

    /// The hash of the complete subtree `node`, or nil if the stored tiles do not hold it.
    public mutating func hash(_ node: Merkle.Node) throws -> Merkle.Hash? {
        let level = node.level / Tiles.height, inner = node.level % Tiles.height
        let id = Tiles.ID(level: level, index: (node.index << UInt64(inner)) / UInt64(Tiles.width))
        guard let levels = try levels(id, upTo: inner) else { return nil }
        let position = Int(node.index % UInt64(Tiles.width >> inner))
        let hashes = levels[inner]
        guard position * 32 < hashes.count else { return nil }
        return hashes.withUnsafeBytes { SHA256Digest(copying: $0.baseAddress! + position * 32) }
    }

    /// Tile `id`'s levels, at least up to inner level `inner`.
    private mutating func levels(_ id: Tiles.ID, upTo inner: Int) throws -> [[UInt8]]? {
        var levels: [[UInt8]]
        if let known = expanded[id] {
            if known.count > inner { return known }
            levels = known
        } else if let tile = shared?.tile(id) {
            return tile.levels
        } else {
            guard let bytes = try fetch(id), bytes.count % 32 == 0 else { return nil }
            if let shared, bytes.count == Tiles.width * 32 {
                return shared.add(id, ExpandedTile(bytes)).levels
            }
            levels = [bytes]
            if expanded.count >= 64 { expanded.removeAll(keepingCapacity: true) }
        }
        while levels.count <= inner { levels.append(Merkle.parentLevel(levels[levels.count - 1])) }
        expanded[id] = levels
        return levels
    }
}

/// A full tile with every inner level computed: 256 + 128 + … + 2 hashes (about 16 KiB).
public final class ExpandedTile: Sendable {
    /// Level 0 (the stored hashes) up to inner level 7, each as concatenated 32-byte hashes.
    let levels: [[UInt8]]

    init(_ bytes: [UInt8]) {
        var levels = [bytes]
        while levels.count < Tiles.height { levels.append(Merkle.parentLevel(levels[levels.count - 1])) }
        self.levels = levels
    }
}

/// Full tiles, expanded, shared by the readers of one store. Full tiles are immutable (a tile is written
/// whole once its 256 hashes exist), so a cached one is never stale. Bounded: when full, the leaf-level
/// tiles go first (a random proof seldom meets the same one twice), then everything.
public final class TileCache: Sendable {
    private let tiles = Mutex<[Tiles.ID: ExpandedTile]>([:])
    private let capacity: Int

    /// `capacity` tiles of about 16 KiB each.
    public init(capacity: Int = 512) { self.capacity = capacity }

    func tile(_ id: Tiles.ID) -> ExpandedTile? { tiles.withLock { $0[id] } }

    func add(_ id: Tiles.ID, _ tile: ExpandedTile) -> ExpandedTile {
        tiles.withLock { tiles in
            if tiles.count >= capacity {
                tiles = tiles.filter { $0.key.level > 0 }
                if tiles.count >= capacity { tiles.removeAll() }
            }
            tiles[id] = tile
        }
        return tile
    }
}
