import FuzzSupport
import ProbityImport

/// The e-mail readers (.eml and mbox: headers, MIME, encodings). No invariant beyond not crashing and
/// staying linear: libFuzzer's -timeout reports a slow input.
enum Target {
    static func run(_ bytes: [UInt8]) {
        _ = try? Email.readMessage(bytes)
        _ = try? Email.readMailbox(bytes)
    }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt { Target.run(Fuzz.bytes(data, size)); return 0 }
#endif

@main struct Main {
    static func main() { Fuzz.main({ data, size in Target.run(Fuzz.bytes(data, size)); return 0 }, replay: Target.run) }
}
