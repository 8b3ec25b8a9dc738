import Foundation
import ProbityStore
import Synchronization

/// The daemon's read connections to the store (entries and proofs; tokens), opened on first use.
///
/// They are closed while the writer is opened: SQLite shares one WAL index per file among a process's
/// connections, and an index first opened while the file was read-only stays read-only for all of them,
/// so a writer opened beside such readers could never write, even once the file is writable again.
final class StoreReaders: Sendable {
    private struct Connections {
        var log: LogReader?
        var tokens: TokenStore?
        var closedForWriter = false
    }
    private let path: String
    private let connections = Mutex(Connections())

    init(path: String) { self.path = path }

    private func open<T: Sendable>(_ slot: WritableKeyPath<Connections, T?>, _ make: () throws -> T) throws -> T {
        try connections.withLock { connections in
            guard !connections.closedForWriter else {
                throw StoreError(.readOnly, "the store is being re-opened for writing; retry in a moment")
            }
            if let open = connections[keyPath: slot] { return open }
            let made = try make()
            connections[keyPath: slot] = made
            return made
        }
    }

    func reader() throws -> LogReader { try open(\.log) { try LogReader.open(path: path) } }

    /// The daemon only reads tokens: `probity tokens` writes them.
    func tokenStore() throws -> TokenStore { try open(\.tokens) { try TokenStore.open(path: path, readOnly: true) } }

    /// Runs `body` (opening the writer) with every read connection closed; they re-open on next use.
    func closed<T>(_ body: () throws -> T) rethrows -> T {
        connections.withLock { $0 = Connections(closedForWriter: true) }
        defer { connections.withLock { $0.closedForWriter = false } }
        return try body()
    }
}
