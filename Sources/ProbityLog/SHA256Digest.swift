/// A SHA-256 digest: 32 bytes held inline, so that the tree's hashes, leaf hashes and stream heads cost no
/// heap allocation, copy as four words and compare as four words. It reads as a collection of its 32 bytes,
/// so it appends to a byte buffer or prints as hex like the `[UInt8]` it replaces.
public struct SHA256Digest: Hashable, Sendable, RandomAccessCollection, CustomStringConvertible {
    public static let byteCount = 32

    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    /// Fills the 32 bytes through `body` (a hash function writing its output).
    init(writing body: (UnsafeMutablePointer<UInt8>) -> Void) {
        Swift.withUnsafeMutableBytes(of: &words) { body($0.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
    }

    /// The digest in `bytes`; nil unless they are exactly 32 bytes.
    public init?(_ bytes: some Collection<UInt8>) {
        guard bytes.count == Self.byteCount else { return nil }
        Swift.withUnsafeMutableBytes(of: &words) { output in
            if bytes.withContiguousStorageIfAvailable({ output.copyMemory(from: UnsafeRawBufferPointer($0)) }) == nil {
                for (i, byte) in bytes.enumerated() { output[i] = byte }
            }
        }
    }

    /// The 32 bytes at `pointer` (which must hold that many).
    init(copying pointer: UnsafeRawPointer) {
        Swift.withUnsafeMutableBytes(of: &words) {
            $0.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: 32))
        }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { Self.byteCount }

    public subscript(position: Int) -> UInt8 {
        precondition(position >= 0 && position < Self.byteCount, "a SHA-256 digest has 32 bytes")
        return Swift.withUnsafeBytes(of: words) { $0[position] }
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: words, body)
    }

    public func withContiguousStorageIfAvailable<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R? {
        try Swift.withUnsafeBytes(of: words) { try body($0.bindMemory(to: UInt8.self)) }
    }

    /// The digest as a byte array, for APIs that take one.
    public var bytes: [UInt8] { Array(self) }

    public static func == (a: SHA256Digest, b: SHA256Digest) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }

    /// Lowercase hex, as the log's JSON and text forms write hashes.
    public var description: String { Hex.encode(self) }
}
