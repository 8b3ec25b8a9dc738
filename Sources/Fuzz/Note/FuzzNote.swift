import FuzzSupport
import ProbityLog

/// Signed notes, checkpoints, tlog-proofs (and the proof checks, with the index and sizes they carry),
/// stream heads. Invariants: what parses re-encodes to text that parses to the same value.
enum Target {
    static func run(_ bytes: [UInt8]) {
        _ = try? TlogProof.parseHead(bytes)
        guard let text = String(validating: bytes, as: UTF8.self) else { return }
        if let note = try? SignedNote.parse(text) {
            Fuzz.check((try? SignedNote.parse(note.encoded)) == note, "a signed note does not round-trip")
            if let checkpoint = try? Checkpoint(text: note.text) {
                Fuzz.check((try? Checkpoint(text: checkpoint.text)) == checkpoint, "a checkpoint does not round-trip")
            }
            if let head = try? StreamHead(text: note.text) {
                Fuzz.check((try? StreamHead(text: head.text)) == head, "a stream head does not round-trip")
            }
        }
        if let proof = try? TlogProof.parse(text) {
            Fuzz.check((try? TlogProof.parse(proof.encoded)) == proof, "a tlog-proof does not round-trip")
            // Proof checking takes the index and size from the note: no size may make it trap.
            let size = proof.checkpoint.checkpoint.size, root = proof.checkpoint.checkpoint.root
            _ = try? Merkle.verifyInclusion(
                leafHash: root, index: proof.index, size: size, proof: proof.proof, root: root)
            _ = try? Merkle.verifyConsistency(
                oldSize: proof.index, newSize: size, oldRoot: root, newRoot: root, proof: proof.proof)
        }
        _ = try? Checkpoint(text: text)
        _ = try? StreamHead(text: text)
        _ = try? NoteVerifier(text)
    }
}

@main struct Main {
    static func main() { Fuzz.main(Target.run) }
}
