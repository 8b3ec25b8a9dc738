import COpenSSL
public import Foundation

/// SHA-256 through OpenSSL. One-shot and streaming forms; both are pure functions of their input.
/// Comparison whose time does not depend on where the inputs differ (for secrets such as token hashes).
public enum ConstantTime {
    public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { pa in
            b.withUnsafeBytes { pb in CRYPTO_memcmp(pa.baseAddress, pb.baseAddress, a.count) == 0 }
        }
    }
}

public enum SHA256 {
    public static let byteCount = 32

    /// One-shot SHA-256. Uses OpenSSL's low-level SHA256_* functions: OpenSSL 3's `SHA256()` and
    /// `EVP_Digest` fetch the algorithm on every call, which costs more than hashing a log entry.
    public static func hash(_ bytes: some ContiguousBytes) -> [UInt8] {
        var ctx = SHA256_CTX()
        SHA256_Init(&ctx)
        bytes.withUnsafeBytes { _ = SHA256_Update(&ctx, $0.baseAddress, $0.count) }
        return [UInt8](unsafeUninitializedCapacity: 32) { buffer, count in
            SHA256_Final(buffer.baseAddress, &ctx)
            count = 32
        }
    }

    /// One-shot SHA-256 as an inline digest (no allocation).
    public static func digest(_ bytes: some ContiguousBytes) -> SHA256Digest {
        var ctx = SHA256_CTX()
        SHA256_Init(&ctx)
        bytes.withUnsafeBytes { _ = SHA256_Update(&ctx, $0.baseAddress, $0.count) }
        return SHA256Digest { SHA256_Final($0, &ctx) }
    }

    /// SHA-256 of `first` then `second` (a payload's salt and bytes), as an inline digest.
    public static func digest(_ first: [UInt8], _ second: [UInt8]) -> SHA256Digest {
        first.withUnsafeBytes { a in second.withUnsafeBytes { digest(a, $0) } }
    }

    /// SHA-256 of `first` then `second`, read in place.
    public static func digest(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer) -> SHA256Digest {
        var ctx = SHA256_CTX()
        SHA256_Init(&ctx)
        _ = SHA256_Update(&ctx, first.baseAddress, first.count)
        _ = SHA256_Update(&ctx, second.baseAddress, second.count)
        return SHA256Digest { SHA256_Final($0, &ctx) }
    }

    /// SHA-256 of `prefix` then `bytes`, as an inline digest: RFC 6962's leaf hash (prefix 0x00).
    static func digest(prefix: UInt8, _ bytes: UnsafeRawBufferPointer) -> SHA256Digest {
        SHA256Digest { hash(prefix: prefix, bytes, into: $0) }
    }

    /// SHA-256 of `prefix`, `left` and `right`: RFC 6962's node hash (prefix 0x01), with no allocation.
    static func digest(prefix: UInt8, _ left: SHA256Digest, _ right: SHA256Digest) -> SHA256Digest {
        var ctx = SHA256_CTX()
        SHA256_Init(&ctx)
        var prefix = prefix
        _ = SHA256_Update(&ctx, &prefix, 1)
        left.withUnsafeBytes { _ = SHA256_Update(&ctx, $0.baseAddress, 32) }
        right.withUnsafeBytes { _ = SHA256_Update(&ctx, $0.baseAddress, 32) }
        return SHA256Digest { SHA256_Final($0, &ctx) }
    }

    /// Hash of `prefix` then `bytes`, written to `output` (32 bytes): no allocation, for the inner loops
    /// of Merkle hashing.
    static func hash(prefix: UInt8, _ bytes: UnsafeRawBufferPointer, into output: UnsafeMutablePointer<UInt8>) {
        var ctx = SHA256_CTX()
        SHA256_Init(&ctx)
        var prefix = prefix
        _ = SHA256_Update(&ctx, &prefix, 1)
        _ = SHA256_Update(&ctx, bytes.baseAddress, bytes.count)
        SHA256_Final(output, &ctx)
    }

    /// Hash of the concatenation of several byte sequences, without copying them together.
    public static func hash(_ parts: [[UInt8]]) -> [UInt8] {
        var ctx = SHA256_CTX()
        SHA256_Init(&ctx)
        for part in parts {
            part.withUnsafeBytes { _ = SHA256_Update(&ctx, $0.baseAddress, $0.count) }
        }
        return [UInt8](unsafeUninitializedCapacity: 32) { buffer, count in
            SHA256_Final(buffer.baseAddress, &ctx)
            count = 32
        }
    }
}

public struct CryptoError: Error, CustomStringConvertible, Equatable {
    public enum Code: String, Sendable { case randomFailure, keyGeneration, badKey, signing, badPEM }
    public let code: Code
    public let message: String
    package init(_ code: Code, _ message: String) { self.code = code; self.message = message }
    public var description: String { message }
}

package func openSSLErrorString() -> String {
    let code = ERR_get_error()
    guard code != 0 else { return "no OpenSSL error queued" }
    var buffer = [CChar](repeating: 0, count: 256)
    ERR_error_string_n(code, &buffer, buffer.count)
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}

/// An owned OpenSSL `EVP_PKEY`. Not thread-safe by itself in OpenSSL's terms, but Ed25519 keys are
/// immutable once loaded and every operation below creates its own `EVP_MD_CTX`, so sharing is safe.
final class EVPKey: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { EVP_PKEY_free(pointer) }
}

/// An Ed25519 public key (32 raw bytes).
public struct Ed25519PublicKey: Sendable, Equatable {
    public let raw: [UInt8]
    let key: EVPKey

    public static func == (a: Self, b: Self) -> Bool { a.raw == b.raw }

    public init(raw: [UInt8]) throws {
        guard raw.count == 32 else { throw CryptoError(.badKey, "an Ed25519 public key is 32 bytes, got \(raw.count)") }
        guard
            let pkey = raw.withUnsafeBufferPointer({
                EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, 32)
            })
        else { throw CryptoError(.badKey, "OpenSSL rejected the public key: \(openSSLErrorString())") }
        self.raw = raw
        self.key = EVPKey(pkey)
    }

    /// Loads a `-----BEGIN PUBLIC KEY-----` PEM (SubjectPublicKeyInfo), as `openssl pkey -pubout` writes.
    public init(pem: String) throws {
        let pkey: OpaquePointer? = withMemoryBIO(pem) { PEM_read_bio_PUBKEY($0, nil, nil, nil) }
        guard let pkey else { throw CryptoError(.badPEM, "not a PEM public key: \(openSSLErrorString())") }
        let owned = EVPKey(pkey)
        guard EVP_PKEY_get_id(pkey) == EVP_PKEY_ED25519 else {
            throw CryptoError(.badKey, "the PEM key is not Ed25519")
        }
        try self.init(raw: rawPublicKey(owned.pointer))
    }

    /// SubjectPublicKeyInfo PEM, readable by `openssl pkeyutl -verify -pubin`.
    public var pem: String {
        let bio = BIO_new(BIO_s_mem())!
        defer { BIO_free(bio) }
        PEM_write_bio_PUBKEY(bio, key.pointer)
        return readBIO(bio)
    }

    public func verify(signature: [UInt8], message: [UInt8]) -> Bool {
        guard signature.count == 64, let ctx = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestVerifyInit(ctx, nil, nil, nil, key.pointer) == 1 else { return false }
        return EVP_DigestVerify(ctx, signature, signature.count, message, message.count) == 1
    }
}

/// An Ed25519 private key held by OpenSSL.
public struct Ed25519PrivateKey: Sendable {
    let key: EVPKey
    public let publicKey: Ed25519PublicKey

    public static func generate() throws -> Ed25519PrivateKey {
        guard let ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nil) else {
            throw CryptoError(.keyGeneration, "cannot create a key context: \(openSSLErrorString())")
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        var pkey: OpaquePointer?
        guard EVP_PKEY_keygen_init(ctx) == 1, EVP_PKEY_keygen(ctx, &pkey) == 1, let pkey else {
            throw CryptoError(.keyGeneration, "key generation failed: \(openSSLErrorString())")
        }
        return try Ed25519PrivateKey(owning: EVPKey(pkey))
    }

    /// Loads a `-----BEGIN PRIVATE KEY-----` PEM (PKCS#8), as `openssl genpkey -algorithm ed25519` writes.
    public init(pem: String) throws {
        let pkey: OpaquePointer? = withMemoryBIO(pem) { PEM_read_bio_PrivateKey($0, nil, nil, nil) }
        guard let pkey else { throw CryptoError(.badPEM, "not a PEM private key: \(openSSLErrorString())") }
        try self.init(owning: EVPKey(pkey))
    }

    private init(owning key: EVPKey) throws {
        guard EVP_PKEY_get_id(key.pointer) == EVP_PKEY_ED25519 else {
            throw CryptoError(.badKey, "the key is not Ed25519")
        }
        self.key = key
        self.publicKey = try Ed25519PublicKey(raw: rawPublicKey(key.pointer))
    }

    /// Unencrypted PKCS#8 PEM. Callers store it with mode 0600.
    public var pem: String {
        let bio = BIO_new(BIO_s_mem())!
        defer { BIO_free(bio) }
        PEM_write_bio_PrivateKey(bio, key.pointer, nil, nil, 0, nil, nil)
        return readBIO(bio)
    }

    /// One-shot Ed25519 signature (Ed25519 hashes the message itself, so no digest is given).
    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        guard let ctx = EVP_MD_CTX_new() else { throw CryptoError(.signing, "cannot allocate a digest context") }
        defer { EVP_MD_CTX_free(ctx) }
        var signature = [UInt8](repeating: 0, count: 64)
        var length = 64
        guard EVP_DigestSignInit(ctx, nil, nil, nil, key.pointer) == 1,
            EVP_DigestSign(ctx, &signature, &length, message, message.count) == 1, length == 64
        else { throw CryptoError(.signing, "signing failed: \(openSSLErrorString())") }
        return signature
    }
}

private func rawPublicKey(_ pkey: OpaquePointer) throws -> [UInt8] {
    var raw = [UInt8](repeating: 0, count: 32)
    var length = 32
    guard EVP_PKEY_get_raw_public_key(pkey, &raw, &length) == 1, length == 32 else {
        throw CryptoError(.badKey, "cannot read the raw public key: \(openSSLErrorString())")
    }
    return raw
}

func withMemoryBIO<T>(_ text: String, _ body: (OpaquePointer) -> T) -> T {
    var bytes = Array(text.utf8)
    return bytes.withUnsafeMutableBytes { buffer in
        let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count))!
        defer { BIO_free(bio) }
        return body(bio)
    }
}

func readBIO(_ bio: OpaquePointer) -> String {
    var pointer: UnsafeMutablePointer<CChar>?
    let length = probity_BIO_get_mem_data(bio, &pointer)
    guard let pointer, length > 0 else { return "" }
    return String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
}
