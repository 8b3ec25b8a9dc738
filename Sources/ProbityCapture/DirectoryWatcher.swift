import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Wakes capture when files arrive in watched directories (Linux inotify): a message delivered into a
/// Maildir's `new/` (created in `tmp/`, then renamed: `IN_MOVED_TO`), moved to `cur/`, or a file
/// written into a drop folder (`IN_CLOSE_WRITE`). A safety net, not the source of truth: capture rescans
/// the directory after every wake and on a timer, so an event inotify drops (queue overflow, a directory
/// replaced) delays a message, never loses it.
public final class DirectoryWatcher: @unchecked Sendable {
    private let descriptor: Int32

    /// Watches `directories`; throws if inotify is unavailable or a directory cannot be watched.
    public init(_ directories: [String]) throws(CaptureError) {
        descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { throw CaptureError("inotify_init1: \(String(cString: strerror(errno)))") }
        let mask = UInt32(IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE)
        for directory in directories where inotify_add_watch(descriptor, directory, mask) < 0 {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw CaptureError("cannot watch \(directory): \(reason)")
        }
    }

    deinit { close(descriptor) }

    /// Waits until something arrives or `timeout` passes; true if something arrived. Drains the queue:
    /// what arrived is found by the rescan that follows, not from the events.
    public func wait(timeout: Duration) -> Bool {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(
            clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        guard poll(&poller, 1, milliseconds) > 0 else { return false }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while buffer.withUnsafeMutableBytes({ read(descriptor, $0.baseAddress, $0.count) }) > 0 {}
        return true
    }
}
