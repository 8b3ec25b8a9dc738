import Foundation
import ProbityStore

/// The daemon's read connections to the store (entries and proofs; tokens), opened on first use.
///
/// They are closed while the writer is opened: SQLite shares one WAL index per file among a process's
/// connections, and an index first opened while the file was read-only stays read-only for all of them,
/// so a writer opened beside such readers could never write, even once the file is writable again.
final class StoreReaders: @unchecked Sendable {
    private let path: String
    private let lock = NSLock()
    private var log: LogReader?
    private var tokens: TokenStore?
    private var closedForWriter = false

    init(path: String) { self.path = path }

    private func open<T>(_ slot: ReferenceWritableKeyPath<StoreReaders, T?>, _ make: () throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        guard !closedForWriter else {
            throw StoreError(.readOnly, "the store is being re-opened for writing; retry in a moment")
        }
        if let open = self[keyPath: slot] { return open }
        let made = try make()
        self[keyPath: slot] = made
        return made
    }

    func reader() throws -> LogReader { try open(\.log) { try LogReader.open(path: path) } }

    /// The daemon only reads tokens: `probity tokens` writes them.
    func tokenStore() throws -> TokenStore { try open(\.tokens) { try TokenStore.open(path: path, readOnly: true) } }

    /// Runs `body` (opening the writer) with every read connection closed; they re-open on next use.
    func closed<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        closedForWriter = true
        log = nil
        tokens = nil
        lock.unlock()
        defer {
            lock.lock()
            closedForWriter = false
            lock.unlock()
        }
        return try body()
    }
}
