import Foundation
import GRDB
public import ProbityDomain
import ProbityLog

/// The open legal holds that protect an entry, read inside the writer's transaction so that no hold can
/// be placed between the check and the redaction.
///
/// A hold protects every entry of its scope's streams, whatever the entry's type: `procedure:REF` for a
/// hold on a procedure, `party:ID` for a hold on a party — and, for an organisation, the streams of the
/// people registered with it (`org`). An entry that names a recorded exchange by its `source` (its edit or
/// deletion at the source) is in the exchange's streams for this purpose. The streams come from the entries' own bytes (the chain `verify`
/// checks), the holds from the `refs` table (which `verify` checks against the entries).
public enum LegalHolds {
    public struct Hold: Equatable, Sendable {
        public let id: String
        public let placedSeq: UInt64
        public let reason: String
    }

    /// What the check reads from a store, inside the writer's transaction.
    public struct Lookups {
        /// The open holds (`refs` kind `hold`, detail `open`): id and the seq that placed each, oldest first.
        public var openHolds: () throws -> [(id: String, seq: UInt64)]
        public var entryBytes: (UInt64) throws -> [UInt8]?
        /// The seq of the exchange recorded from `source`.
        public var sourceSeq: (SourceKey) throws -> UInt64?
        /// The seq that registered party `id`.
        public var partySeq: (String) throws -> UInt64?

        public init(
            openHolds: @escaping () throws -> [(id: String, seq: UInt64)],
            entryBytes: @escaping (UInt64) throws -> [UInt8]?, sourceSeq: @escaping (SourceKey) throws -> UInt64?,
            partySeq: @escaping (String) throws -> UInt64?
        ) {
            self.openHolds = openHolds
            self.entryBytes = entryBytes
            self.sourceSeq = sourceSeq
            self.partySeq = partySeq
        }
    }

    /// Why entry `seq` may not be redacted while `hold` is open.
    public static func refusal(seq: UInt64, _ hold: Hold) -> StoreError {
        StoreError(
            .legalHold,
            "entry \(seq) is under legal hold \"\(hold.id)\" (placed at seq \(hold.placedSeq): \(hold.reason)); "
                + "it cannot be redacted until the hold is released (legal_hold.released)")
    }

    /// The open holds covering entry `seq`, oldest first.
    public static func covering(seq: UInt64, _ store: Lookups) throws -> [Hold] {
        let openHolds = try store.openHolds()
        guard !openHolds.isEmpty, let target = try header(seq: seq, store) else { return [] }
        var protected = Set(target.header.streams.map(\.id)).union(target.header.impliedStreams)
        // An entry about a recorded exchange (its edit or deletion at the source) belongs with the exchange.
        if let source = target.fields.source("source"),
            let recorded = try store.sourceSeq(SourceKey(platform: source.platform, id: source.id)), recorded != seq,
            let exchange = try header(seq: recorded, store)
        {
            protected.formUnion(exchange.header.streams.map(\.id))
        }
        // A person's entry is also its organisation's.
        for stream in protected where stream.hasPrefix("party:") {
            let party = String(stream.dropFirst("party:".count))
            guard let registered = try store.partySeq(party), let registration = try header(seq: registered, store),
                let org = registration.fields.string("org")
            else { continue }
            protected.insert("party:" + org)
        }
        var holds: [Hold] = []
        for (id, placedSeq) in openHolds {
            guard let placed = try header(seq: placedSeq, store) else { continue }
            let scope = [
                placed.fields.string("procedure").map { "procedure:" + $0 },
                placed.fields.string("party").map { "party:" + $0 },
            ]
            if scope.contains(where: { $0.map(protected.contains) ?? false }) {
                holds.append(Hold(id: id, placedSeq: placedSeq, reason: placed.fields.string("reason") ?? ""))
            }
        }
        return holds
    }

    /// The open holds covering entry `seq`, read in the SQLite transaction `db`.
    static func covering(seq: UInt64, _ db: Database) throws -> [Hold] {
        try covering(
            seq: seq,
            Lookups(
                openHolds: {
                    try Row.fetchAll(
                        db, sql: "SELECT id, seq FROM refs WHERE kind = 'hold' AND detail = 'open' ORDER BY seq"
                    ).map { ($0["id"], UInt64(clamping: $0["seq"] as Int64)) }
                },
                entryBytes: { seq in
                    try Data.fetchOne(
                        db, sql: "SELECT bytes FROM entries WHERE seq = ?", arguments: [Int64(clamping: seq)]
                    ).map { [UInt8]($0) }
                },
                sourceSeq: { source in
                    try Int64.fetchOne(
                        db, sql: "SELECT seq FROM sources WHERE platform = ? AND id = ?",
                        arguments: [source.platform, source.id]
                    ).map { UInt64(clamping: $0) }
                },
                partySeq: { party in
                    try Int64.fetchOne(
                        db, sql: "SELECT seq FROM refs WHERE kind = 'party' AND id = ?", arguments: [party]
                    )
                    .map { UInt64(clamping: $0) }
                }))
    }

    private static func header(seq: UInt64, _ store: Lookups) throws -> (header: EntryHeader, fields: EventFields)? {
        guard let bytes = try store.entryBytes(seq) else { return nil }
        guard let header = try? EntryHeader(bytes: bytes) else {
            throw StoreError(.inconsistent, "entry \(seq) is not a valid entry; run `probity verify`")
        }
        return (header, EventFields(header, bytes: bytes))
    }
}
