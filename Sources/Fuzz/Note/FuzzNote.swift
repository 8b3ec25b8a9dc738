import FuzzSupport
import ProbityCore

/// Signed notes, checkpoints, tlog-proofs, stream heads. Invariants: what parses re-encodes to text that
/// parses to the same value.
enum Target {
    static func run(_ bytes: [UInt8]) {
        _ = try? TlogProof.parseHead(bytes)
        guard let text = String(validating: bytes, as: UTF8.self) else { return }
        if let note = try? SignedNote.parse(text) {
            Fuzz.check((try? SignedNote.parse(note.encoded)) == note, "a signed note does not round-trip")
            if let checkpoint = try? Checkpoint(text: note.text) {
                Fuzz.check((try? Checkpoint(text: checkpoint.text)) == checkpoint, "a checkpoint does not round-trip")
            }
            if let head = try? StreamHead(text: note.text) { Fuzz.check((try? StreamHead(text: head.text)) == head, "a stream head does not round-trip") }
        }
        if let proof = try? TlogProof.parse(text) { Fuzz.check((try? TlogProof.parse(proof.encoded)) == proof, "a tlog-proof does not round-trip") }
        _ = try? Checkpoint(text: text)
        _ = try? StreamHead(text: text)
        _ = try? NoteVerifier(text)
    }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt { Target.run(Fuzz.bytes(data, size)); return 0 }
#endif

@main struct Main {
    static func main() { Fuzz.main({ data, size in Target.run(Fuzz.bytes(data, size)); return 0 }, replay: Target.run) }
}
