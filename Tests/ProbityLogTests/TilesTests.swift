import Testing

@testable import ProbityLog

@Suite("C2SP tlog-tiles: the tree as tiles of 256 hashes")
struct TilesTests {
    static func leaf(_ i: UInt64) -> Merkle.Hash { Merkle.leafHash(withUnsafeBytes(of: i.bigEndian) { Array($0) }) }

    /// Grows a tree to `size` leaves, keeping its tiles as a writer stores them (full ones as they fill,
    /// the partial ones at the end).
    static func tiles(size: UInt64) -> (range: CompactRange, tiles: [Tiles.ID: [UInt8]]) {
        var range = CompactRange()
        var edge = TileEdge()
        var tiles: [Tiles.ID: [UInt8]] = [:]
        for i in 0..<size {
            edge.append(leaf: i, hash: leaf(i), created: range.append(leaf(i))) { tiles[$0] = $1 }
        }
        for (id, hashes) in edge.partialTiles(size: size) { tiles[id] = hashes }
        return (range, tiles)
    }

    @Test("a tile holds 256 hashes of tree level 8·L; level 1 hashes are the roots of 256 leaves")
    func contents() throws {
        let (_, tiles) = Self.tiles(size: 256 * 256 + 300)
        let leaves = (0..<UInt64(256 * 256 + 300)).map(Self.leaf)
        #expect(tiles[Tiles.ID(level: 0, index: 0)] == Array(leaves[0..<256].joined()))
        #expect(tiles[Tiles.ID(level: 0, index: 256)] == Array(leaves[65536..<65792].joined()))
        #expect(tiles[Tiles.ID(level: 0, index: 257)]?.count == 44 * 32)
        let level1 = try #require(tiles[Tiles.ID(level: 1, index: 0)])
        #expect(level1.count == 256 * 32)
        #expect(SHA256Digest(level1[32..<64]) == Merkle.root(leafHashes: Array(leaves[256..<512])))
        #expect(tiles[Tiles.ID(level: 1, index: 1)] == Merkle.root(leafHashes: Array(leaves[65536..<65792])).bytes)
        #expect(tiles[Tiles.ID(level: 2, index: 0)] == Merkle.root(leafHashes: Array(leaves[0..<65536])).bytes)
        #expect(tiles.count == 257 + 1 + 2 + 1)
    }

    @Test("layout: full tiles and partial widths per level, as the tree size gives them")
    func layout() {
        #expect(Tiles.layout(size: 0).isEmpty)
        #expect(Tiles.layout(size: 1).map { [$0.level, Int($0.fullTiles), $0.partialWidth] } == [[0, 0, 1]])
        #expect(
            Tiles.layout(size: 256 * 256 + 257).map { [$0.level, Int($0.fullTiles), $0.partialWidth] }
                == [[0, 257, 1], [1, 1, 1], [2, 0, 1]])
        #expect(Tiles.completed(level: 0, from: 255, to: 513) == 0..<2)
        #expect(Tiles.completed(level: 1, from: 65535, to: 65536) == 0..<1)
        #expect(Tiles.completed(level: 1, from: 0, to: 65535).isEmpty)
    }

    @Test(
        "every node of the tree reads from its tiles, for sizes around tile edges",
        arguments: [1, 2, 255, 256, 257, 600, 65_536, 65_537])
    func nodes(size: UInt64) throws {
        let (range, tiles) = Self.tiles(size: size)
        var reader = TileHashReader { tiles[$0] }
        func hash(_ node: Merkle.Node) throws -> Merkle.Hash { try #require(try reader.hash(node)) }
        let leaves = (0..<size).map(Self.leaf)
        let root = try Merkle.foldRange(Merkle.rangeNodes(start: 0, end: size).map(hash))
        #expect(root == range.root)
        for index in Array(stride(from: UInt64(0), to: size, by: 97)) + [size - 1] {
            let ranges = Merkle.inclusionProofRanges(index: index, size: size)
            let proof = try ranges.map { r in
                try Merkle.foldRange(Merkle.rangeNodes(start: r.start, end: r.end).map(hash))
            }
            try Merkle.verifyInclusion(leafHash: leaves[Int(index)], index: index, size: size, proof: proof, root: root)
        }
        // A node beyond the tree is not in the tiles.
        #expect(try reader.hash(Merkle.Node(level: 0, index: size)) == nil)
    }

    @Test("readers sharing a tile cache read each full tile once, give the same hashes, and re-read partial ones")
    func sharedCache() throws {
        let size: UInt64 = 65_536 + 600
        let (_, tiles) = Self.tiles(size: size)
        let cache = TileCache(capacity: 8)
        var fetched: [Tiles.ID] = []
        func proofs(_ reader: inout TileHashReader) throws -> [[Merkle.Hash]] {
            try [0, 255, 256, 40_000, 65_535, 65_536, size - 1].map { index in
                try Merkle.inclusionProofRanges(index: index, size: size).map { r in
                    try Merkle.foldRange(
                        Merkle.rangeNodes(start: r.start, end: r.end).map { try #require(try reader.hash($0)) })
                }
            }
        }
        var plain = TileHashReader { tiles[$0] }
        let expected = try proofs(&plain)
        var first = TileHashReader(shared: cache) {
            fetched.append($0); return tiles[$0]
        }
        #expect(try proofs(&first) == expected)
        let firstFetches = fetched
        fetched = []
        var second = TileHashReader(shared: cache) {
            fetched.append($0); return tiles[$0]
        }
        #expect(try proofs(&second) == expected)
        // Only the partial tiles (the right edge, which grows) are read again.
        #expect(Set(fetched) == Set(firstFetches.filter { (tiles[$0]?.count ?? 0) < Tiles.width * 32 }))
        #expect(!fetched.isEmpty && fetched.count < firstFetches.count)
        // Past its capacity, the cache drops leaf-level tiles first and still answers correctly.
        var many = TileHashReader(shared: cache) { tiles[$0] }
        for index in stride(from: UInt64(0), to: 65_536, by: 4_096) {
            #expect(try many.hash(Merkle.Node(level: 0, index: index)) == Self.leaf(index))
        }
        var after = TileHashReader(shared: cache) { tiles[$0] }
        #expect(try proofs(&after) == expected)
    }
}
