import FuzzSupport
import ProbityImport

/// The RFC 4180 CSV parser and the LinkedIn messages reader on top of it.
enum Target {
    static func run(_ bytes: [UInt8]) {
        _ = try? CSV.parse(bytes)
        _ = try? LinkedInMessages.read(bytes)
    }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt { Target.run(Fuzz.bytes(data, size)); return 0 }
#endif

@main struct Main {
    static func main() { Fuzz.main({ data, size in Target.run(Fuzz.bytes(data, size)); return 0 }, replay: Target.run) }
}
