import FuzzSupport
import ProbityLog

/// What query parameters, path segments and CLI arguments go through: log numbers, identifiers and stream
/// names, RFC 3339 and entry times. Invariants: a log number is at most 2^63 − 1 and prints back to its
/// digits; a valid identifier is NFC and has no whitespace or formatting character.
enum Target {
    static func run(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        if let n = LogNumber.parse(text) {
            Fuzz.check(n <= LogNumber.max, "a log number past 2^63 - 1")
            Fuzz.check(
                UInt64(text.drop { $0 == "0" }.isEmpty ? "0" : String(text.drop { $0 == "0" })) == n,
                "a log number misread")
        }
        if Identifier.isValid(text) {
            Fuzz.check(
                Identifier.isNFC(text) && !text.unicodeScalars.contains { $0.properties.isWhitespace || $0 == "@" },
                "an invalid identifier accepted")
        }
        _ = Identifier.isValidStream(text)
        _ = DisplaySafety.terminalSafe(text)
        if let t = Timestamp(rfc3339: text) { _ = t.description }
        _ = Timestamp(entryTime: text)
    }
}

@main struct Main {
    static func main() { Fuzz.main(Target.run) }
}
