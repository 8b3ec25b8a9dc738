/// What a monitor checks when a tiled log (C2SP tlog-tiles) grows from a checkpoint it kept to a new one:
/// that the tiles hash to the new root, that the tree of the kept size inside them is the kept one (else
/// the log has forked, or rewritten its past), that every tile completed since hashes to its place in the
/// level above, and that every new entry of the bundles hashes to its leaf. Pure: tiles and bundles come
/// from `fetch`, which returns nil for a resource the log does not serve.
public struct TileFollower {
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public enum Kind: String, Sendable { case rollback, fork, rewritten, missing, malformed }
        public let kind: Kind
        public let message: String
        public var description: String { message }
        public init(_ kind: Kind, _ message: String) {
            self.kind = kind
            self.message = message
        }
    }

    public struct Outcome: Sendable, Equatable {
        /// The new entries: seqs `from` ..< `from + count`.
        public let from: UInt64
        public let count: UInt64
    }

    private let fetch: (TilePath) throws -> [UInt8]?

    public init(fetch: @escaping (TilePath) throws -> [UInt8]?) { self.fetch = fetch }

    /// Checks the tree of `new` against `kept` (nil on the first run: everything is new); `each` sees every
    /// new entry, once it hashed to its leaf, in seq order (it may check more, and throw).
    public func follow(
        from kept: Checkpoint?, to new: Checkpoint, each: (UInt64, ArraySlice<UInt8>) throws -> Void = { _, _ in }
    ) throws -> Outcome {
        let size = new.size, old = kept?.size ?? 0
        guard old <= size else {
            throw Failure(
                .rollback, "the log's checkpoint has size \(size), smaller than the \(old) kept: it went back in time")
        }
        var fetched: [Tiles.ID: [UInt8]] = [:]
        func tile(_ id: Tiles.ID) throws -> [UInt8] {
            if let known = fetched[id] { return known }
            let full = UInt64(id.index) < Tiles.hashCount(level: id.level, size: size) / UInt64(Tiles.width)
            let width = full ? Tiles.width : Int(Tiles.hashCount(level: id.level, size: size) % UInt64(Tiles.width))
            let path = TilePath.hashes(level: id.level, index: id.index, width: full ? nil : width)
            guard width > 0, let bytes = try fetch(path) else {
                throw Failure(.missing, "the log does not serve \(path), which its checkpoint of size \(size) needs")
            }
            guard bytes.count == width * 32 else {
                throw Failure(.malformed, "\(path) has \(bytes.count) bytes, not \(width * 32)")
            }
            fetched[id] = bytes
            return bytes
        }
        var hashes = TileHashReader { try tile($0) }
        func root(_ size: UInt64) throws -> Merkle.Hash {
            guard size > 0 else { return Merkle.emptyRoot }
            return Merkle.foldRange(
                try Merkle.rangeNodes(start: 0, end: size).map { node in
                    guard let hash = try hashes.hash(node) else {
                        throw Failure(.missing, "the tiles lack the node (level \(node.level), index \(node.index))")
                    }
                    return hash
                })
        }
        guard try root(size) == new.root else {
            throw Failure(
                .rewritten, "the tiles do not hash to the root of the checkpoint of size \(size): a tile was rewritten")
        }
        if let kept, kept.size > 0, try root(kept.size) != kept.root {
            throw Failure(
                .fork,
                "the log's tree at size \(kept.size) is not the one kept (root \(Base64.encode(try root(kept.size))), kept \(Base64.encode(kept.root))): the log has forked or rewritten its past"
            )
        }
        // Every tile completed since `old` is the subtree its parent tile names.
        for (level, _, _) in Tiles.layout(size: size) {
            for index in Tiles.completed(level: level, from: old, to: size) {
                var levels = try tile(Tiles.ID(level: level, index: index))
                for _ in 0..<Tiles.height { levels = Merkle.parentLevel(levels) }
                let parent = Merkle.Node(level: Tiles.height * (level + 1), index: index)
                guard let named = try hashes.hash(parent), levels.elementsEqual(named.bytes) else {
                    throw Failure(
                        .rewritten, "tile \(level)/\(index) does not hash to its place in tile level \(level + 1)")
                }
                if level == 0 { fetched[Tiles.ID(level: 0, index: index)] = nil }  // memory flat: read again below
            }
        }
        // Every new entry hashes to its leaf.
        var leafTile = old / UInt64(Tiles.width)
        while leafTile * UInt64(Tiles.width) < size {
            let start = leafTile * UInt64(Tiles.width)
            let width = Int(min(UInt64(Tiles.width), size - start))
            let path = TilePath.entries(index: leafTile, width: width == Tiles.width ? nil : width)
            guard let bundle = try fetch(path) else {
                throw Failure(.missing, "the log does not serve \(path), which its checkpoint of size \(size) needs")
            }
            guard let bundled = EntryBundle.entries(bundle), bundled.count == width else {
                throw Failure(.malformed, "\(path) is not a bundle of \(width) entries")
            }
            let leaves = try tile(Tiles.ID(level: 0, index: leafTile))
            for (offset, entry) in bundled.enumerated() where start + UInt64(offset) >= old {
                let seq = start + UInt64(offset)
                guard Merkle.leafHash(Array(entry)).bytes.elementsEqual(leaves[offset * 32..<offset * 32 + 32]) else {
                    throw Failure(.rewritten, "entry \(seq) in \(path) does not hash to its leaf in tile 0/\(leafTile)")
                }
                try each(seq, entry)
            }
            fetched[Tiles.ID(level: 0, index: leafTile)] = nil  // leaf tiles are read once: keep memory flat
            leafTile += 1
        }
        return Outcome(from: old, count: size - old)
    }
}
