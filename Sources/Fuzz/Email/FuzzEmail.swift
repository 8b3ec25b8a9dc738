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

@main struct Main {
    static func main() { Fuzz.main(Target.run) }
}
