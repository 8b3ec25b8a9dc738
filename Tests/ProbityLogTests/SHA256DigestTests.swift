import Testing

@testable import ProbityLog

@Suite("SHA-256 digests held inline")
struct SHA256DigestTests {
    static let bytes = (0..<32).map { UInt8($0 * 7 + 1) }

    @Test("only exactly 32 bytes make a digest")
    func lengths() {
        #expect(SHA256Digest(Self.bytes)?.bytes == Self.bytes)
        #expect(SHA256Digest(Self.bytes[...]) != nil)
        #expect(SHA256Digest(Self.bytes.dropLast()) == nil)
        #expect(SHA256Digest(Self.bytes + [0]) == nil)
        #expect(SHA256Digest([UInt8]()) == nil)
        // A collection without contiguous storage is copied byte by byte.
        let lazy = Self.bytes.lazy.map { $0 }
        #expect(lazy.withContiguousStorageIfAvailable { _ in true } == nil)
        #expect(SHA256Digest(lazy)?.bytes == Self.bytes)
        #expect(SHA256Digest(lazy.dropLast()) == nil)
    }

    @Test("equal bytes, equal digests; one differing byte anywhere, different digests")
    func equality() throws {
        let digest = try #require(SHA256Digest(Self.bytes))
        #expect(digest == SHA256Digest(Self.bytes))
        for i in Self.bytes.indices {
            var other = Self.bytes
            other[i] ^= 0x80
            let changed = try #require(SHA256Digest(other))
            #expect(changed != digest, "byte \(i)")
            #expect(Set([digest, changed]).count == 2)
        }
    }

    @Test("hex and base64 forms match those of the same bytes, and read back")
    func encodings() throws {
        let digest = try #require(SHA256Digest(Self.bytes))
        #expect(Hex.encode(digest) == Hex.encode(Self.bytes))
        #expect(digest.description == Hex.encode(Self.bytes))
        #expect(Base64.encode(digest) == Base64.encode(Self.bytes))
        #expect(Hex.digest(Hex.encode(digest)) == digest)
        #expect(Base64.digest(Base64.encode(digest)) == digest)
        #expect(Hex.digest(String(Hex.encode(digest).dropLast(2))) == nil)
        #expect(Base64.digest(Base64.encode(Array(Self.bytes.prefix(31)))) == nil)
        var out: [UInt8] = [0x2A]
        out.append(contentsOf: digest)
        #expect(out == [0x2A] + Self.bytes)
    }

    @Test("the inline hashes equal OpenSSL's one-shot SHA-256 of the same bytes")
    func hashing() {
        let entry = Array("{\"v\":1}".utf8)
        #expect(SHA256.digest(entry).bytes == SHA256.hash(entry))
        #expect(Merkle.leafHash(entry).bytes == SHA256.hash([[0x00], entry]))
        let left = Merkle.leafHash(entry), right = Merkle.leafHash(Array("x".utf8))
        #expect(Merkle.nodeHash(left, right).bytes == SHA256.hash([[0x01], left.bytes, right.bytes]))
        #expect(SHA256.digest(entry, Self.bytes).bytes == SHA256.hash([entry, Self.bytes]))
        // RFC 6962's empty tree: the SHA-256 of nothing.
        #expect(Hex.encode(Merkle.emptyRoot) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}
