import COpenSSL
import Foundation
public import ProbityLog

/// The clock and the randomness a store's writes use: entry times, payload salts, token secrets. They are
/// the two things a write takes from outside, so they come in one value, given when the writer or the
/// token store is opened: the system's in production, fixed ones where a test needs a known time or salt.
/// (ProbityLog reads neither: its entries, trees and notes are functions of their inputs.)
public struct WriteSources: Sendable {
    /// The current time (UTC, microseconds).
    public var now: @Sendable () -> Timestamp
    /// `count` unpredictable bytes; throws when the source fails (a write must not go on without them).
    public var randomBytes: @Sendable (_ count: Int) throws -> [UInt8]

    public init(now: @escaping @Sendable () -> Timestamp, randomBytes: @escaping @Sendable (Int) throws -> [UInt8]) {
        self.now = now
        self.randomBytes = randomBytes
    }

    /// The system's realtime clock and OpenSSL's RNG.
    public static let system = WriteSources(now: { Timestamp.now() }, randomBytes: { try SecureRandom.bytes($0) })
}

extension Timestamp {
    /// The system's realtime clock (`CLOCK_REALTIME`), to the microsecond.
    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(microsecondsSinceEpoch: Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000)
    }
}

/// Cryptographically secure random bytes from OpenSSL's RNG.
public enum SecureRandom {
    public static func bytes(_ count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        guard RAND_bytes(&out, Int32(count)) == 1 else {
            throw CryptoError(.randomFailure, "OpenSSL's RNG failed: \(openSSLErrorString())")
        }
        return out
    }
}
