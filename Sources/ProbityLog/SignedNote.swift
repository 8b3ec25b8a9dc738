import Foundation

/// C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 signatures, compatible with
/// `golang.org/x/mod/sumdb/note`.
///
/// A note is UTF-8 text ending in a newline, a blank line, then signature lines
/// `— <name> <base64(keyID ‖ signature)>`. The signature covers the text, final newline included.
public struct SignedNote: Sendable, Equatable {
    public struct Signature: Sendable, Equatable {
        public let name: String
        public let keyID: UInt32
        /// The signature bytes after the 4-byte key ID.
        public let bytes: [UInt8]

        public init(name: String, keyID: UInt32, bytes: [UInt8]) {
            self.name = name
            self.keyID = keyID
            self.bytes = bytes
        }
    }

    /// The signed text, ending in "\n".
    public let text: String
    public let signatures: [Signature]

    public struct FormatError: Error, CustomStringConvertible, Equatable {
        public let message: String
        public var description: String { message }
        init(_ message: String) { self.message = message }
    }

    public init(text: String, signatures: [Signature]) {
        self.text = text
        self.signatures = signatures
    }

    /// The serialized note: text, blank line, one line per signature.
    public var encoded: String {
        var out = text + "\n"
        for s in signatures {
            out += "— \(s.name) \(Base64.encode(withUnsafeBytes(of: s.keyID.bigEndian, Array.init) + s.bytes))\n"
        }
        return out
    }

    /// Most signature lines a note may carry (as Go's golang.org/x/mod/sumdb/note accepts).
    public static let maxSignatures = 100

    public static func parse(_ note: String) throws(FormatError) -> SignedNote {
        guard note.utf8.count <= 1 << 20 else { throw FormatError("the note is larger than 1 MiB") }
        guard !note.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" }) else {
            throw FormatError("the note contains a control character other than newline")
        }
        guard let split = note.range(of: "\n\n", options: .backwards) else {
            throw FormatError("the note has no blank line before its signatures")
        }
        let text = String(note[..<split.lowerBound]) + "\n"
        let signatureBlock = note[split.upperBound...]
        guard signatureBlock.hasSuffix("\n") else { throw FormatError("the note does not end with a newline") }
        var signatures: [Signature] = []
        for line in signatureBlock.dropLast().split(separator: "\n", omittingEmptySubsequences: false) {
            guard line.hasPrefix("— ") else { throw FormatError("signature line does not start with \"— \": \(line)") }
            let fields = line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 2, !fields[0].isEmpty else { throw FormatError("malformed signature line: \(line)") }
            guard let blob = Base64.decode(String(fields[1])), blob.count > 4 else {
                throw FormatError("signature of \(fields[0]) is not valid base64 of a key ID and a signature")
            }
            let keyID = blob[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            signatures.append(Signature(name: String(fields[0]), keyID: keyID, bytes: Array(blob[4...])))
        }
        guard !signatures.isEmpty else { throw FormatError("the note has no signature") }
        guard signatures.count <= maxSignatures else {
            throw FormatError("the note has \(signatures.count) signature lines; at most \(maxSignatures) are accepted")
        }
        return SignedNote(text: text, signatures: signatures)
    }
}

/// An Ed25519 note verifier key: `<name>+<hex key ID>+<base64(0x01 ‖ public key)>`.
public struct NoteVerifier: Sendable, Equatable, CustomStringConvertible {
    public static let ed25519AlgorithmByte: UInt8 = 0x01

    public let name: String
    public let keyID: UInt32
    public let publicKey: Ed25519PublicKey

    public init(name: String, publicKey: Ed25519PublicKey) throws(NoteKeyError) {
        guard Self.isValidName(name) else {
            throw NoteKeyError("invalid key name \"\(name)\": it must be non-empty, without spaces or '+'")
        }
        self.name = name
        self.publicKey = publicKey
        self.keyID = Self.keyID(name: name, publicKey: publicKey.raw)
    }

    /// Parses a verifier key string as `note.NewVerifier` does.
    public init(_ vkey: String) throws(NoteKeyError) {
        let text = try VerifierKeyText(vkey)
        guard text.type == Self.ed25519AlgorithmByte else {
            throw NoteKeyError("the key is not base64 of 0x01 followed by a 32-byte Ed25519 public key")
        }
        try self.init(name: text.name, publicKey: try text.publicKey())
        guard text.keyID == keyID else { throw NoteKeyError("the key ID does not match the name and public key") }
    }

    public var description: String {
        "\(name)+\(Hex.encode(withUnsafeBytes(of: keyID.bigEndian, Array.init)))+\(Base64.encode([Self.ed25519AlgorithmByte] + publicKey.raw))"
    }

    static func keyID(name: String, publicKey: [UInt8]) -> UInt32 {
        let digest = SHA256.hash(Array(name.utf8) + [0x0A, Self.ed25519AlgorithmByte] + publicKey)
        return digest[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && !name.unicodeScalars.contains { $0.properties.isWhitespace || $0 == "+" || $0.value < 0x20 }
    }

    /// Whether `note` carries a valid signature by this key.
    public func verifies(_ note: SignedNote) -> Bool {
        let message = Array(note.text.utf8)
        // Names compare as bytes (as every other tool compares them), and only the first signature line of
        // this key counts: a note cannot make a verifier try a thousand forged signatures.
        guard let s = note.signatures.first(where: { $0.keyID == keyID && $0.name.utf8.elementsEqual(name.utf8) })
        else { return false }
        return publicKey.verify(signature: s.bytes, message: message)
    }
}

/// The fields of a verifier key as C2SP signed-note writes one, `<name>+<hex key ID>+<base64(type ‖ key)>`,
/// for the two kinds Probity reads: log keys (type 0x01) and witness keys (type 0x04).
struct VerifierKeyText {
    let name: String
    let keyID: UInt32
    let type: UInt8
    let key: [UInt8]

    init(_ vkey: String) throws(NoteKeyError) {
        // Base64 may contain "+".
        let parts = vkey.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw NoteKeyError("a verifier key has the form name+keyid+base64key") }
        guard parts[1].count == 8, let idBytes = Hex.decode(String(parts[1])) else {
            throw NoteKeyError("the key ID \"\(parts[1])\" is not 8 lowercase hex digits")
        }
        guard let keyBytes = Base64.decode(String(parts[2])), keyBytes.count == 33 else {
            throw NoteKeyError("the key is not base64 of a type byte and a 32-byte Ed25519 public key")
        }
        name = String(parts[0])
        keyID = idBytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        type = keyBytes[0]
        key = Array(keyBytes[1...])
    }

    func publicKey() throws(NoteKeyError) -> Ed25519PublicKey {
        do { return try Ed25519PublicKey(raw: key) } catch { throw NoteKeyError("\(error)") }
    }
}

public struct NoteKeyError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { message }
    init(_ message: String) { self.message = message }
}

/// A note signer: an Ed25519 private key and the key name (for Probity, the log's origin).
public struct NoteSigner: Sendable {
    public let verifier: NoteVerifier
    let privateKey: Ed25519PrivateKey

    public init(name: String, privateKey: Ed25519PrivateKey) throws(NoteKeyError) {
        self.verifier = try NoteVerifier(name: name, publicKey: privateKey.publicKey)
        self.privateKey = privateKey
    }

    /// Signs `text` (which must end in a newline) and returns the signed note.
    public func sign(text: String) throws -> SignedNote {
        precondition(text.hasSuffix("\n"), "note text must end with a newline")
        let signature = try privateKey.sign(Array(text.utf8))
        return SignedNote(text: text, signatures: [.init(name: verifier.name, keyID: verifier.keyID, bytes: signature)])
    }
}
