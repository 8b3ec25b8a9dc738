import Foundation
public import ProbityLog
public import ProbityStore

/// A witness's state directory: its key (`witness.key.pem`, mode 0600), its verifier key (`witness.vkey`),
/// and per log the latest checkpoint it cosigned (`logs/<origin, percent-encoded>.checkpoint`, the signed
/// note as the log sent it). One witness process per directory (`witness.lock`).
///
/// Why a file per log, replaced by rename: a checkpoint file is either the old one or the new one, never
/// a mix, whatever the moment of a crash; the new one is fsynced, then renamed, then the directory is
/// fsynced, all before the cosignature is answered. So a witness never cosigns a checkpoint it would
/// forget: after a crash it holds at least every checkpoint it answered for, and refuses an older one.
public final class WitnessState: @unchecked Sendable {
    public let directory: String
    private let lock: FileLock
    /// Read at open and written only by `record`, which the caller serializes (see `Witness`).
    private var latest: [String: SignedCheckpoint]

    public static let keyFile = "witness.key.pem"
    public static let vkeyFile = "witness.vkey"

    public struct Failure: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
        init(_ message: String) { self.message = message }
    }

    /// Opens `directory` (created by `probity witness init`), taking its lock.
    public init(directory: String) throws {
        self.directory = directory
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw Failure(
                "no witness state at \(directory); create it with `probity witness init --state \(directory) --name NAME`"
            )
        }
        lock = try FileLock(path: directory + "/witness.lock") { holder in
            "the witness state \(directory) is in use by \(holder); one witness per state directory"
        }
        let logs = directory + "/logs"
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        var latest: [String: SignedCheckpoint] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: logs) where name.hasSuffix(".checkpoint") {
            let path = logs + "/" + name
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw Failure("cannot read \(path); the witness will not run without the state it cosigned")
            }
            let checkpoint: SignedCheckpoint
            do { checkpoint = try SignedCheckpoint(parsing: text) } catch {
                throw Failure("\(path) is not a signed checkpoint (\(error)); restore it from a backup")
            }
            guard Self.fileName(checkpoint.checkpoint.origin) == name else {
                throw Failure("\(path) holds the checkpoint of \(checkpoint.checkpoint.origin), not of its file name")
            }
            latest[checkpoint.checkpoint.origin] = checkpoint
        }
        self.latest = latest
    }

    /// The latest checkpoint cosigned for `origin`.
    public func latest(_ origin: String) -> SignedCheckpoint? { latest[origin] }

    /// Makes `checkpoint` the latest of its log, durably, before returning.
    public func record(_ checkpoint: SignedCheckpoint) throws {
        let origin = checkpoint.checkpoint.origin
        let logs = directory + "/logs"
        let path = logs + "/" + Self.fileName(origin)
        let temporary = path + ".new"
        let bytes = Array(checkpoint.encoded.utf8)
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw Failure("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced else {
            unlink(temporary)
            throw Failure("cannot write \(temporary): \(String(cString: strerror(errno)))")
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw Failure("cannot replace \(path): \(String(cString: strerror(errno)))")
        }
        let directoryFD = open(logs, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directoryFD >= 0, fsync(directoryFD) == 0 else {
            if directoryFD >= 0 { close(directoryFD) }
            throw Failure("cannot sync the directory \(logs): \(String(cString: strerror(errno)))")
        }
        close(directoryFD)
        latest[origin] = checkpoint
    }

    /// `example.com/log` → `example.com%2Flog.checkpoint`: every byte but letters, digits, `.`, `-` and `_`
    /// percent-encoded, so that an origin is one file name and two origins never share one.
    static func fileName(_ origin: String) -> String {
        var name = ""
        for byte in origin.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                name.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: ".") where !name.isEmpty:
                name.append(".")
            default:
                name += String(format: "%%%02X", byte)
            }
        }
        return name + ".checkpoint"
    }
}
