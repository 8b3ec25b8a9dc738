import Foundation

/// Party and procedure identifiers (and so stream names): what the log accepts, compares and signs.
///
/// An identifier is 1–100 Unicode scalars in Normalization Form C, with no whitespace, no control or
/// format character (which includes the bidirectional overrides such as U+202E), no unassigned or
/// private-use code point, and no `@` (an e-mail address is personal data). Requiring NFC makes byte
/// equality — what SQLite, the Python verifier and any other tool compare — agree with Swift's `==`, which
/// compares by canonical equivalence: two identifiers that look the same are the same bytes.
public enum Identifier {
    public static let maxScalars = 100

    /// The documented rule, for error messages.
    public static let rule =
        "1–100 characters in Unicode NFC; no spaces, control or bidirectional formatting characters, no \"@\""

    public static func isValid(_ s: String) -> Bool {
        // Printable ASCII is the common case: no whitespace, control, format or unassigned character there.
        if s.utf8.allSatisfy({ $0 < 0x80 }) {
            return (1...maxScalars).contains(s.utf8.count) && s.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != 0x40 }
        }
        let scalars = s.unicodeScalars
        guard !scalars.isEmpty, scalars.count <= maxScalars else { return false }
        for scalar in scalars {
            if scalar == "@" || scalar.properties.isWhitespace { return false }
            switch scalar.properties.generalCategory {
            case .control, .format, .unassigned, .privateUse, .surrogate, .lineSeparator, .paragraphSeparator,
                .spaceSeparator:
                return false
            default: continue
            }
        }
        return isNFC(s)
    }

    /// Whether `s` is already in Normalization Form C (byte for byte).
    public static func isNFC(_ s: String) -> Bool {
        // ASCII is always NFC; most identifiers are, so the normaliser is rarely called.
        if s.utf8.allSatisfy({ $0 < 0x80 }) { return true }
        return s.precomposedStringWithCanonicalMapping.utf8.elementsEqual(s.utf8)
    }

    /// Whether `stream` is `procedure:<identifier>` or `party:<identifier>`.
    public static func isValidStream(_ stream: String) -> Bool {
        for prefix in ["procedure:", "party:"] where stream.hasPrefix(prefix) {
            return isValid(String(stream.dropFirst(prefix.count)))
        }
        return false
    }
}

/// Characters that make text show other than it is stored. Bidirectional formatting characters
/// (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C) reorder it: "invoice\u{202E}fdp.exe" shows as
/// "invoiceexe.pdf"; control characters (C0, C1, DEL) drive terminals (an ESC sequence can rewrite the
/// screen). Exports and terminal views show them as visible `[U+202E]` marks instead, so that what a reader
/// sees is what the log holds.
public enum DisplaySafety {
    public static func isBidiControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C: return true
        default: return false
        }
    }

    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    /// `text` with each bidirectional formatting character replaced by `[U+XXXX]` (for HTML and CSV, where
    /// other control characters are inert or quoted).
    public static func bidiNeutralised(_ text: String) -> String { marked(text, where: isBidiControl) }

    /// `text` with bidirectional formatting and control characters replaced by `[U+XXXX]` (for a terminal).
    public static func terminalSafe(_ text: String) -> String { marked(text) { isBidiControl($0) || isControl($0) } }

    public static func mark(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "[U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "]"
    }

    private static func marked(_ text: String, where shown: (Unicode.Scalar) -> Bool) -> String {
        guard text.unicodeScalars.contains(where: shown) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if shown(scalar) { out += mark(scalar) } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }
}
