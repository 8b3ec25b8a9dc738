/// C2SP tlog-cosignature (https://c2sp.org/tlog-cosignature), the Ed25519 form: a witness's statement that,
/// at a time, the checkpoint is the largest consistent tree head it has seen of the log. It is a note
/// signature line on the checkpoint whose key ID is SHA-256(name ‖ "\n" ‖ 0x04 ‖ public key)[:4] and whose
/// bytes are `uint64 BE timestamp ‖ Ed25519 signature` of
/// `cosignature/v1\ntime <timestamp>\n` + the whole checkpoint text (extension lines included).
public enum Cosignature {
    /// The signature type byte of cosignature/v1 keys (0x01 is a plain note signature).
    public static let algorithmByte: UInt8 = 0x04

    /// A cosignature's time as UTC RFC 3339, for people.
    public static func describe(time: UInt64) -> String {
        let (days, seconds) = (Int64(clamping: time) / 86_400, Int64(clamping: time) % 86_400)
        let (year, month, day) = Timestamp.civil(fromDays: days)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return
            "\(year)-\(two(month))-\(two(day))T\(two(seconds / 3600)):\(two(seconds / 60 % 60)):\(two(seconds % 60))Z"
    }

    /// The message a cosigner signs for `checkpointText` at `time` (POSIX seconds).
    public static func message(checkpointText: String, time: UInt64) -> [UInt8] {
        Array("cosignature/v1\ntime \(time)\n".utf8) + Array(checkpointText.utf8)
    }
}

/// A witness's public key, as a vkey `<name>+<hex key ID>+<base64(0x04 ‖ public key)>`.
public struct CosignatureVerifier: Sendable, Equatable, CustomStringConvertible {
    public let name: String
    public let keyID: UInt32
    public let publicKey: Ed25519PublicKey

    public init(name: String, publicKey: Ed25519PublicKey) throws(NoteKeyError) {
        guard NoteVerifier.isValidName(name) else {
            throw NoteKeyError("invalid witness name \"\(name)\": it must be non-empty, without spaces or '+'")
        }
        self.name = name
        self.publicKey = publicKey
        let digest = SHA256.hash(Array(name.utf8) + [0x0A, Cosignature.algorithmByte] + publicKey.raw)
        keyID = digest[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    public init(_ vkey: String) throws(NoteKeyError) {
        let text = try VerifierKeyText(vkey)
        guard text.type == Cosignature.algorithmByte else {
            throw NoteKeyError(
                text.type == NoteVerifier.ed25519AlgorithmByte
                    ? "\(text.name) is a log's key (type 0x01), not a witness's cosignature key (type 0x04)"
                    : "the key's type byte is 0x\(Hex.encode([text.type])), not 0x04 (cosignature/v1)")
        }
        try self.init(name: text.name, publicKey: try text.publicKey())
        guard text.keyID == keyID else { throw NoteKeyError("the key ID does not match the name and public key") }
    }

    public var description: String {
        "\(name)+\(Hex.encode(withUnsafeBytes(of: keyID.bigEndian, Array.init)))+\(Base64.encode([Cosignature.algorithmByte] + publicKey.raw))"
    }

    /// The time of this witness's valid cosignature on `note`, or nil if it carries none. Only the first
    /// line of this key counts (a note cannot make a verifier try many forged signatures).
    public func cosignatureTime(on note: SignedNote) -> UInt64? {
        guard let line = note.signatures.first(where: { $0.keyID == keyID && $0.name.utf8.elementsEqual(name.utf8) }),
            line.bytes.count == 8 + 64
        else { return nil }
        let time = line.bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard time <= UInt64(Int64.max),
            publicKey.verify(
                signature: Array(line.bytes[8...]), message: Cosignature.message(checkpointText: note.text, time: time))
        else { return nil }
        return time
    }
}

/// A witness's signing key.
public struct CosignatureSigner: Sendable {
    public let verifier: CosignatureVerifier
    let privateKey: Ed25519PrivateKey

    public init(name: String, privateKey: Ed25519PrivateKey) throws(NoteKeyError) {
        verifier = try CosignatureVerifier(name: name, publicKey: privateKey.publicKey)
        self.privateKey = privateKey
    }

    /// The cosignature line for `checkpoint` at `time`.
    public func cosign(_ checkpoint: SignedCheckpoint, time: UInt64) throws -> SignedNote.Signature {
        let signature = try privateKey.sign(Cosignature.message(checkpointText: checkpoint.note.text, time: time))
        return SignedNote.Signature(
            name: verifier.name, keyID: verifier.keyID,
            bytes: withUnsafeBytes(of: time.bigEndian, Array.init) + signature)
    }
}

/// Which witnesses vouch for a checkpoint, against a quorum of trusted witness keys.
public struct WitnessQuorum: Sendable, Equatable {
    public let witnesses: [CosignatureVerifier]
    public let quorum: Int

    public init(witnesses: [CosignatureVerifier], quorum: Int) {
        self.witnesses = witnesses
        self.quorum = quorum
    }

    /// The trusted witnesses whose cosignature on `note` verifies, with its time.
    public func cosigners(of note: SignedNote) -> [(witness: CosignatureVerifier, time: UInt64)] {
        witnesses.compactMap { witness in witness.cosignatureTime(on: note).map { (witness, $0) } }
    }

    public func isMet(by note: SignedNote) -> Bool { cosigners(of: note).count >= quorum }
}
