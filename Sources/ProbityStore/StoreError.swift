import Foundation
import GRDB
import ProbityLog

/// Errors of the store, with a code callers can switch on and a message that says what to do.
public struct StoreError: Error, CustomStringConvertible, Equatable {
    public enum Code: String, Sendable {
        case notFound, alreadyExists, locked, notAProbityStore, durability, badKey, badArgument, io, inconsistent
        /// The store cannot be written now (read-only file or filesystem, full disk); retry once fixed.
        case readOnly, diskFull
        /// An open legal hold protects what the caller asked to change (a redaction); nothing was written.
        case legalHold
        /// The store is of an older format: `probity migrate` (or probityd at start) brings it up to date.
        case needsMigration
    }
    public let code: Code
    public let message: String
    public init(_ code: Code, _ message: String) { self.code = code; self.message = message }
    public var description: String { message }
}

extension SHA256Digest {
    /// A hash the store keeps (a leaf hash, a stream head, a Merkle node), refused unless it is 32 bytes:
    /// an edited row must be reported, never trapped on.
    init(stored bytes: some Collection<UInt8>, _ what: @autoclosure () -> String) throws(StoreError) {
        guard let digest = SHA256Digest(bytes) else {
            throw StoreError(
                .inconsistent, "\(what()) is \(bytes.count) bytes, not a 32-byte hash: the store was damaged or edited")
        }
        self = digest
    }
}

extension StoreError {
    /// A failed write, classified so that callers can say what to fix. SQLite rolled the transaction
    /// back: nothing of it was written.
    static func writeFailure(_ error: any Error, path: String, doing what: String) -> StoreError {
        let code = (error as? DatabaseError)?.resultCode
        if code == .SQLITE_FULL {
            return StoreError(
                .diskFull,
                "cannot \(what): the disk holding \(path) is full; nothing was appended (free space, then retry)")
        }
        if code == .SQLITE_READONLY || code == .SQLITE_CANTOPEN || code == .SQLITE_PERM {
            return StoreError(
                .readOnly, "cannot \(what): the store \(path) cannot be written (\(error)); nothing was appended")
        }
        return StoreError(.io, "cannot \(what) on \(path): \(error); nothing was appended")
    }
}
