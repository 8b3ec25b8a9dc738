import Foundation

/// An exclusive advisory lock (`flock`) on a file that records the holder's pid. The kernel drops it when
/// the process dies, even by SIGKILL, so a crash never leaves a stale lock.
public final class FileLock: @unchecked Sendable {
    private let fd: Int32
    public let path: String

    /// Takes the lock or throws `.locked` with `busy(holder)` as the message (holder: "process N").
    public init(path: String, busy: (String) -> String) throws {
        self.path = path
        // O_NOFOLLOW and the regular-file check: a symlink (or FIFO, device…) planted where the lock goes would
        // otherwise make a privileged caller truncate whatever it points at.
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0o600)
        guard fd >= 0 else {
            let reason = errno == ELOOP ? "it is a symbolic link; remove it" : String(cString: strerror(errno))
            throw StoreError(.io, "cannot open the lock file \(path): \(reason)")
        }
        var status = stat()
        guard fstat(fd, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw StoreError(.io, "the lock file \(path) is not a regular file; remove it")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &buffer, 32, 0)
            let pid =
                n > 0
                ? String(decoding: buffer[..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
            close(fd)
            throw StoreError(.locked, busy(pid.isEmpty ? "another process" : "process \(pid)"))
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
    }

    deinit {
        _ = flock(fd, LOCK_UN)
        close(fd)
    }
}

/// The lock on `<store>.lock`, held by the one process allowed to write the store.
enum WriterLock {
    static func take(storePath: String) throws -> FileLock {
        try FileLock(path: storePath + ".lock") { holder in
            "the store \(storePath) is being written by \(holder); only one writer at a time is allowed (stop it, or append through probityd)"
        }
    }
}

/// Creates the empty file `path` with `mode` (exclusively, never through a symlink) whatever the caller's
/// umask, so that SQLite opens a file that was never readable by others.
func createPrivateFile(_ path: String, mode: mode_t) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
    guard fd >= 0 else { throw StoreError(.io, "cannot create \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    guard fchmod(fd, mode) == 0 else {
        throw StoreError(.io, "cannot set the mode of \(path): \(String(cString: strerror(errno)))")
    }
}
