import FuzzSupport
import ProbityImport

/// The readers of platform exports: the X archive's direct messages, a Mastodon/ActivityStreams outbox,
/// and the party mapping file.
enum Target {
    static func run(_ bytes: [UInt8]) {
        _ = try? XDirectMessages.read(bytes)
        _ = try? ActivityStreamsOutbox.read(bytes)
        _ = try? PartyMapping(json: bytes, file: "fuzz.json")
    }
}

@main struct Main {
    static func main() { Fuzz.main(Target.run) }
}
