import FuzzSupport
import ProbityImport

/// The RFC 4180 CSV parser and the LinkedIn messages reader on top of it.
enum Target {
    static func run(_ bytes: [UInt8]) {
        _ = try? CSV.parse(bytes)
        _ = try? LinkedInMessages.read(bytes)
    }
}

@main struct Main {
    static func main() { Fuzz.main(Target.run) }
}
