import FuzzSupport
import ProbityLog

/// The JSON parser and the canonical (RFC 8785) checker. Invariants: whatever parses encodes canonically,
/// the encoding parses back to the same value and is recognised as canonical; the exact-number mode
/// refuses only what the nearest-double mode accepts.
enum Target {
    static func run(_ bytes: [UInt8]) {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch {
            Fuzz.check(
                (try? JSONParser.parse(bytes, numbers: .exact)) == nil,
                "exact mode accepted what nearest-double refused")
            return
        }
        let canonical = CanonicalJSON.encode(value)
        Fuzz.check(CanonicalJSON.isCanonical(canonical), "the encoding is not recognised as canonical")
        let again = try? JSONParser.parse(canonical)
        Fuzz.check(again.map(CanonicalJSON.encode) == canonical, "the canonical encoding does not round-trip")
        if CanonicalJSON.isCanonical(bytes) {
            Fuzz.check(bytes == canonical, "bytes said canonical differ from their canonical encoding")
        }
        if let exact = try? JSONParser.parse(bytes, numbers: .exact) {
            Fuzz.check(CanonicalJSON.encode(exact) == canonical, "exact mode parsed another value")
        }
    }
}

@main struct Main {
    static func main() { Fuzz.main(Target.run) }
}
