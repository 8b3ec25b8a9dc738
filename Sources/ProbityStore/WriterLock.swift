import Foundation

/// An exclusive advisory lock (`flock`) on `<store>.lock`, held by the one process allowed to write.
/// The kernel drops it when the process dies, even by SIGKILL, so a crash never leaves a stale lock.
final class WriterLock: @unchecked Sendable {
    private let fd: Int32
    let path: String

    init(storePath: String) throws {
        path = storePath + ".lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError(.io, "cannot open the lock file \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &buffer, 32, 0)
            let holder = n > 0 ? String(decoding: buffer[..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "another process"
            close(fd)
            throw StoreError(.locked, "the store \(storePath) is being written by process \(holder); only one writer at a time is allowed (stop it, or append through probityd)")
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
