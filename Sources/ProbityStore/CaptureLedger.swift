import Foundation
import GRDB
import ProbityLog

/// What live capture did with each item it saw: a Maildir message (by its unique name) or a file dropped
/// in an export folder (by the SHA-256 of its bytes), per capture. Written beside a running writer, on a
/// connection of its own, as the token table is.
///
/// The ledger is a record of work, not the guard against duplicates: an item is marked only after its
/// events are durable, so a crash in between re-reads it and the log answers "already recorded".
public final class CaptureLedger: Sendable {
    public enum State: String, Sendable, CaseIterable {
        /// Its events are in the log (new, or found there already).
        case recorded
        /// It could not be read or mapped; retried when the mapping changes.
        case failed
    }

    public struct Item: Sendable, Equatable {
        public var capture: String
        public var item: String
        public var state: State
        /// What happened, for people: the import report of a dropped file, or why a message failed.
        public var detail: String
        /// The entry of a recorded message (nil for a dropped file, or a message that failed).
        public var seq: UInt64?
        /// The procedure the exchange was assigned to, if any.
        public var procedure: String?
        /// The mapping's fingerprint when the item was last tried: a failed item is retried when it changes.
        public var fingerprint: String
        public var attempts: Int
        public var updated: String

        public init(
            capture: String, item: String, state: State, detail: String, seq: UInt64? = nil, procedure: String? = nil,
            fingerprint: String, attempts: Int = 1, updated: String
        ) {
            self.capture = capture
            self.item = item
            self.state = state
            self.detail = detail
            self.seq = seq
            self.procedure = procedure
            self.fingerprint = fingerprint
            self.attempts = attempts
            self.updated = updated
        }
    }

    private let db: DatabaseQueue

    private init(db: DatabaseQueue) { self.db = db }

    /// Opens the ledger of an existing store (upgraded by any writer's open; read-only readers need one).
    public static func open(path: String, readOnly: Bool = false) throws -> CaptureLedger {
        _ = try LogReader.open(path: path)  // a Probity store, of a known format
        var config = Configuration()
        config.label = "probity.capture"
        config.busyMode = .timeout(10)
        config.readonly = readOnly
        do {
            let queue = try DatabaseQueue(path: path, configuration: config)
            guard try queue.read({ try $0.tableExists("capture_items") }) else {
                throw StoreError(
                    .notFound, "\(path) has no capture table yet; open it for writing once (probityd or a capture run)")
            }
            if !readOnly { try queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") } }
            return CaptureLedger(db: queue)
        } catch let error as StoreError { throw error } catch {
            throw StoreError(.io, "cannot open the capture table of \(path): \(error)")
        }
    }

    /// The items of `capture` already seen, by item.
    public func items(of capture: String) throws -> [String: Item] {
        try wrap("reading the capture table") {
            try db.read { db in
                var items: [String: Item] = [:]
                for row in try Row.fetchAll(db, sql: Self.select + " WHERE capture = ?", arguments: [capture]) {
                    let item = try Self.item(row)
                    items[item.item] = item
                }
                return items
            }
        }
    }

    /// Every item, or those of one capture or state, in capture and update order.
    public func list(capture: String? = nil, state: State? = nil) throws -> [Item] {
        try wrap("reading the capture table") {
            try db.read { db in
                var conditions: [String] = [], arguments: [(any DatabaseValueConvertible)?] = []
                if let capture { conditions.append("capture = ?"); arguments.append(capture) }
                if let state { conditions.append("state = ?"); arguments.append(state.rawValue) }
                let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
                return try Row.fetchAll(
                    db, sql: Self.select + filter + " ORDER BY capture, updated, item",
                    arguments: StatementArguments(arguments)
                ).map(Self.item)
            }
        }
    }

    /// Records what became of `items`, in one transaction (fsynced: the store runs `synchronous=FULL`).
    public func record(_ items: [Item]) throws {
        guard !items.isEmpty else { return }
        try wrap("writing the capture table") {
            try db.write { db in
                for item in items {
                    try db.execute(
                        sql: """
                            INSERT INTO capture_items (capture, item, state, detail, seq, procedure, fingerprint, attempts, updated)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                            ON CONFLICT (capture, item) DO UPDATE SET state = excluded.state, detail = excluded.detail,
                                seq = excluded.seq, procedure = excluded.procedure, fingerprint = excluded.fingerprint,
                                attempts = capture_items.attempts + 1, updated = excluded.updated
                            """,
                        arguments: [
                            item.capture, item.item, item.state.rawValue, item.detail, item.seq.map(Int64.init),
                            item.procedure, item.fingerprint, item.attempts, item.updated,
                        ])
                }
            }
        }
    }

    /// Removes items of `capture` (failed messages whose file is gone).
    public func forget(capture: String, items: [String]) throws {
        guard !items.isEmpty else { return }
        try wrap("writing the capture table") {
            try db.write { db in
                for item in items {
                    try db.execute(
                        sql: "DELETE FROM capture_items WHERE capture = ? AND item = ?", arguments: [capture, item])
                }
            }
        }
    }

    private static let select =
        "SELECT capture, item, state, detail, seq, procedure, fingerprint, attempts, updated FROM capture_items"

    private static func item(_ row: Row) throws -> Item {
        guard let state = State(rawValue: row["state"]) else {
            throw StoreError(.inconsistent, "capture item \(row["item"] as String) has an unknown state")
        }
        return Item(
            capture: row["capture"], item: row["item"], state: state, detail: row["detail"],
            seq: (row["seq"] as Int64?).map(UInt64.init), procedure: row["procedure"], fingerprint: row["fingerprint"],
            attempts: row["attempts"], updated: row["updated"])
    }

    private func wrap<T>(_ doing: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as StoreError { throw error } catch {
            throw StoreError(.io, "\(doing): \(error)")
        }
    }
}
