import Foundation

/// Lowercase hex and standard base64 (RFC 4648 §4), the two text forms of hashes in Probity's formats.
public enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends the hex digits of `bytes` to `out`.
    public static func append(_ bytes: [UInt8], to out: inout [UInt8]) {
        bytes.withUnsafeBytes { append(raw: $0, to: &out) }
    }

    public static func append(_ digest: SHA256Digest, to out: inout [UInt8]) {
        digest.withUnsafeBytes { append(raw: $0, to: &out) }
    }

    private static func append(raw bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: bytes.count * 2))
        digits.withUnsafeBufferPointer { digits in
            out.withUnsafeMutableBufferPointer { buffer in
                for (i, b) in bytes.enumerated() {
                    buffer[start + 2 * i] = digits[Int(b >> 4)]
                    buffer[start + 2 * i + 1] = digits[Int(b & 0x0F)]
                }
            }
        }
    }

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        append(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public static func encode(_ digest: SHA256Digest) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        append(digest, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// A SHA-256 digest written as 64 lowercase hex digits; nil for anything else.
    public static func digest(_ text: String) -> SHA256Digest? {
        decode(text).flatMap(SHA256Digest.init)
    }

    /// 64 lowercase hex digits decoded straight into a digest (no allocation); nil for anything else.
    public static func digest(_ utf8: UnsafeBufferPointer<UInt8>) -> SHA256Digest? {
        guard utf8.count == 64 else { return nil }
        var valid = true
        let digest = SHA256Digest { out in
            for i in 0..<32 {
                let hi = values[Int(utf8[2 * i])], lo = values[Int(utf8[2 * i + 1])]
                if hi | lo > 0x0F { valid = false }
                out[i] = hi << 4 | lo
            }
        }
        return valid ? digest : nil
    }

    /// Decodes lowercase hex only: Probity's formats never use uppercase, and accepting it would
    /// give one hash two spellings.
    public static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { decode($0) }
    }

    public static func decode(_ utf8: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard utf8.count % 2 == 0 else { return nil }
        var valid = true
        let out = [UInt8](unsafeUninitializedCapacity: utf8.count / 2) { buffer, count in
            for i in 0..<(utf8.count / 2) {
                let hi = values[Int(utf8[2 * i])], lo = values[Int(utf8[2 * i + 1])]
                if hi | lo > 0x0F { valid = false; break }
                buffer[i] = hi << 4 | lo
            }
            count = valid ? utf8.count / 2 : 0
        }
        return valid ? out : nil
    }

    /// Digit values of lowercase hex characters; 0xFF for every other byte.
    private static let values: [UInt8] = (0..<256).map { c in
        switch UInt8(c) {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt8(c) - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt8(c) - UInt8(ascii: "a") + 10
        default: 0xFF
        }
    }
}

public enum Base64 {
    public static func encode(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Appends the standard, padded encoding of `bytes` (as `encode` returns it) without a String.
    public static func append(_ bytes: [UInt8], to out: inout [UInt8]) {
        bytes.withUnsafeBytes { append(raw: $0, to: &out) }
    }

    public static func append(_ digest: SHA256Digest, to out: inout [UInt8]) {
        digest.withUnsafeBytes { append(raw: $0, to: &out) }
    }

    public static func encode(_ digest: SHA256Digest) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(44)
        append(digest, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Grows `out` once, then fills it through pointers: receipts write ~20 of these per event.
    private static func append(raw bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        let start = out.count, full = bytes.count / 3, rest = bytes.count % 3
        out.append(contentsOf: repeatElement(0, count: (full + (rest > 0 ? 1 : 0)) * 4))
        alphabet.withUnsafeBufferPointer { alphabet in
            out.withUnsafeMutableBufferPointer { out in
                var o = start
                for g in 0..<full {
                    let i = g * 3
                    let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
                    out[o] = alphabet[Int(n >> 18)]
                    out[o + 1] = alphabet[Int(n >> 12 & 63)]
                    out[o + 2] = alphabet[Int(n >> 6 & 63)]
                    out[o + 3] = alphabet[Int(n & 63)]
                    o += 4
                }
                if rest > 0 {
                    let i = full * 3
                    let n = UInt32(bytes[i]) << 16 | (rest == 2 ? UInt32(bytes[i + 1]) << 8 : 0)
                    out[o] = alphabet[Int(n >> 18)]
                    out[o + 1] = alphabet[Int(n >> 12 & 63)]
                    out[o + 2] = rest == 2 ? alphabet[Int(n >> 6 & 63)] : UInt8(ascii: "=")
                    out[o + 3] = UInt8(ascii: "=")
                }
            }
        }
    }

    /// A SHA-256 digest in the strict encoding; nil for anything but 32 bytes.
    public static func digest(_ text: some StringProtocol) -> SHA256Digest? {
        decode(String(text)).flatMap(SHA256Digest.init)
    }

    /// Strict: padding required, no whitespace, and the text must be the canonical encoding of its bytes.
    public static func decode(_ text: String) -> [UInt8]? {
        guard let data = Data(base64Encoded: text) else { return nil }
        let bytes = [UInt8](data)
        guard encode(bytes) == text else { return nil }
        return bytes
    }
}

public enum UTF8Text {
    /// `bytes` as a String if they are valid UTF-8, nil otherwise. The standard library's
    /// `String(validating:as:)` is generic and looks up type metadata at run time on every call (a tenth of
    /// parsing an event); decoding a concrete buffer is specialised, and it returns the bytes unchanged
    /// exactly when they are valid: an invalid sequence comes back as U+FFFD (EF BF BD), which differs from
    /// it, since EF BF BD itself is valid.
    public static func string(validating bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var text = String(decoding: bytes, as: UTF8.self)
        let same = text.withUTF8 { decoded in
            decoded.count == bytes.count
                && (bytes.isEmpty || memcmp(decoded.baseAddress!, bytes.baseAddress!, bytes.count) == 0)
        }
        return same ? text : nil
    }
}
