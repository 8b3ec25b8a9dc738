import Foundation
import GRDB
import ProbityLog

/// Store format 1 → 2: the Merkle nodes (one row each, `nodes`) become C2SP tiles (`tiles`).
///
/// Runs inside the migration's transaction, so a refusal leaves the store as it was. Before writing a tile
/// it checks what format 1 holds against the entries: every stored leaf hash is the hash of its entry
/// bytes, seqs run from 0 without a gap, every stored node equals the one the leaves give, and every
/// checkpoint's root is the root of the tree at its size. The tiles are then the same tree, so roots,
/// proofs and checkpoints are unchanged; `probity migrate` verifies the migrated store again.
enum TileMigration {
    static func run(_ db: Database) throws {
        let checkpointRoots = try checkpointRoots(db)
        var nextCheckpoint = checkpointRoots.startIndex
        let entries = try db.makeStatement(sql: "SELECT seq, bytes, leaf_hash FROM entries ORDER BY seq")
        let nodes = try db.makeStatement(sql: "SELECT id, hash FROM nodes ORDER BY id")
        let insert = try db.makeStatement(sql: "INSERT INTO tiles (level, idx, hashes) VALUES (?, ?, ?)")
        func store(_ id: Tiles.ID, _ hashes: [UInt8]) throws {
            try insert.run(db, Int64(id.level), Int64(id.index), hashes)
        }
        var range = CompactRange()
        var edge = TileEdge()
        while try entries.rawStep(db) {
            let seq = entries.rawInt64(0)
            guard seq == Int64(range.size) else {
                throw refusal("the entries jump from seq \(Int64(range.size) - 1) to \(seq)")
            }
            guard let leaf = SHA256Digest(entries.rawBytes(2)), Merkle.leafHash(entries.rawBytes(1)) == leaf else {
                throw refusal("the stored leaf hash of seq \(seq) is not the hash of its entry")
            }
            let created = range.append(leaf)
            for (node, hash) in created {
                let id = MerkleNodeID.id(level: node.level, index: node.index)
                guard try nodes.rawStep(db), nodes.rawInt64(0) == id, SHA256Digest(nodes.rawBytes(1)) == hash else {
                    throw refusal(
                        "the stored Merkle node (level \(node.level), index \(node.index)) is missing or differs")
                }
            }
            try edge.append(leaf: UInt64(seq), hash: leaf, created: created, full: store)
            while nextCheckpoint < checkpointRoots.endIndex, checkpointRoots[nextCheckpoint].size <= range.size {
                let (size, root) = checkpointRoots[nextCheckpoint]
                guard size == range.size, root == range.root else {
                    throw refusal("the checkpoint of size \(size) does not match the tree the entries give")
                }
                nextCheckpoint += 1
            }
        }
        guard try !nodes.rawStep(db) else { throw refusal("the store holds Merkle nodes beyond its entries") }
        guard nextCheckpoint == checkpointRoots.endIndex else {
            throw refusal("the checkpoint of size \(checkpointRoots[nextCheckpoint].size) is beyond the entries")
        }
        for (id, hashes) in edge.partialTiles(size: range.size) { try store(id, hashes) }
    }

    private static func checkpointRoots(_ db: Database) throws -> [(size: UInt64, root: Merkle.Hash)] {
        try Row.fetchAll(db, sql: "SELECT size, note FROM checkpoints ORDER BY size").map { row in
            let size: Int64 = row["size"]
            guard let signed = try? SignedCheckpoint(parsing: row["note"]), signed.checkpoint.size == UInt64(size)
            else { throw refusal("the stored checkpoint of size \(size) is not a valid checkpoint note") }
            return (UInt64(size), signed.checkpoint.root)
        }
    }

    private static func refusal(_ problem: String) -> StoreError {
        StoreError(
            .inconsistent,
            "cannot migrate: \(problem); nothing was changed. Run `probity verify` on the store (with the Probity version that wrote it) to see what is wrong"
        )
    }
}

/// Row ids of format 1's Merkle nodes: the order in which an append-only writer completes them.
/// The node (level L ≥ 1, index i) is completed by leaf e = (i+1)·2^L − 1; leaves before e completed
/// Σ_{l≥1} ⌊e/2^l⌋ = e − popcount(e) nodes, and leaf e itself completes levels 1…L in order.
enum MerkleNodeID {
    static func id(level: Int, index: UInt64) -> Int64 {
        precondition(level >= 1)
        let e = (index + 1) << level - 1
        return Int64(e) - Int64(e.nonzeroBitCount) + Int64(level) - 1
    }

    /// Number of nodes stored for a tree of `size` leaves.
    static func count(forSize size: UInt64) -> Int64 {
        size == 0 ? 0 : Int64(size) - Int64(size.nonzeroBitCount)
    }
}
