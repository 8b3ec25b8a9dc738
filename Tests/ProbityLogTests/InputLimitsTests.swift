import ProbityLog
import Testing

@testable import ProbityFixtures

/// What outside input may be: log numbers, identifiers, numbers in appended JSON, signed notes.
@Suite("input limits")
struct InputLimitsTests {
    @Test(
        "log numbers: digits only, at most 2^63 - 1",
        arguments: [
            ("0", 0), ("42", 42), ("9223372036854775807", 9_223_372_036_854_775_807), ("007", 7),
            ("9223372036854775808", nil), ("18446744073709551615", nil), ("99999999999999999999", nil), ("-1", nil),
            ("+1", nil),
            ("", nil), (" 1", nil), ("1e3", nil), ("0x10", nil), ("١", nil),
        ] as [(String, UInt64?)])
    func logNumbers(_ text: String, _ expected: UInt64?) {
        #expect(LogNumber.parse(text) == expected, "\(text)")
    }

    @Test(
        "identifiers: NFC, no whitespace, control, formatting (bidi) characters or @",
        arguments: [
            ("2026-057", true), ("sup-voltaire", true), ("caf\u{E9}", true), ("東京-01", true),
            (String(repeating: "a", count: 100), true),
            ("cafe\u{301}", false), ("a b", false), ("a\u{A0}b", false), ("a\u{202E}b", false), ("a\u{200B}b", false),
            ("a\nb", false),
            ("jean@exemple.fr", false), ("", false), (String(repeating: "a", count: 101), false), ("a\u{E000}", false),
        ] as [(String, Bool)])
    func identifiers(_ text: String, _ valid: Bool) {
        #expect(Identifier.isValid(text) == valid, "\(text.unicodeScalars.map { String($0.value, radix: 16) })")
        #expect(Identifier.isValidStream("party:" + text) == valid)
    }

    @Test("stream names are procedure:<id> or party:<id>")
    func streams() {
        #expect(Identifier.isValidStream("procedure:2026-057"))
        for bad in ["procedure:", "party:", "stream:x", "procedure:x\nprobity.stream-head/v1", "Party:x"] {
            #expect(!Identifier.isValidStream(bad), "\(bad)")
        }
    }

    @Test(
        "appended numbers must be recorded as written (RFC 8785 form); read numbers take the nearest double",
        arguments: [
            ("1", true), ("4.50", true), ("1e30", true), ("1E-7", true), ("0.00001", true), ("-0", true),
            ("9007199254740991", true),
            ("0.1", true), ("123456789012345.6", true), ("-2.5e-300", true),
            ("9007199254740993", false), ("1152921504606846976", false), ("0.30000000000000000001", false),
            ("333333333.33333329", false),
            ("1e-400", false), ("12345678901234567890", false),
        ] as [(String, Bool)])
    func exactNumbers(_ text: String, _ exact: Bool) throws {
        let accepted = (try? JSONParser.parse("[\(text)]", numbers: .exact)) != nil
        #expect(accepted == exact, "\(text)")
        if text != "1e-400" { #expect(try JSONParser.parse("[\(text)]") != .null) }
    }

    @Test("a refused number says what it would become")
    func exactNumberMessage() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(#"{"n":9007199254740993}"#, numbers: .exact) }
        do { _ = try JSONParser.parse(#"{"n":9007199254740993}"#, numbers: .exact) } catch {
            #expect(error.message.contains("would be recorded as 9007199254740992") && error.column == 6, "\(error)")
        }
    }

    @Test("a signed note carries at most 100 signature lines, and only the first line of a key is tried")
    func signatureLines() throws {
        let signer = try NoteSigner(name: "test.example/log", privateKey: Ed25519PrivateKey.generate())
        let note = try signer.sign(text: "hello\n")
        let line = note.encoded.split(separator: "\n").last!
        let flooded = note.encoded + String(repeating: line + "\n", count: 100)
        #expect(throws: SignedNote.FormatError.self) { try SignedNote.parse(flooded) }
        // A forged line of the key before the genuine one: the note does not verify.
        let forged = String(line.dropLast(8)) + "AAAAAAA="
        let parsed = try SignedNote.parse("hello\n\n" + forged + "\n" + line + "\n")
        #expect(!signer.verifier.verifies(parsed))
        #expect(signer.verifier.verifies(try SignedNote.parse(note.encoded)))
    }

    @Test("bidirectional controls and terminal controls become visible marks")
    func displaySafety() {
        #expect(DisplaySafety.bidiNeutralised("facture\u{202E}fdp.exe") == "facture[U+202E]fdp.exe")
        #expect(DisplaySafety.terminalSafe("a\u{1B}[31mb\u{7}") == "a[U+001B][31mb[U+0007]")
        #expect(DisplaySafety.terminalSafe("élan ✓") == "élan ✓")
    }
}
