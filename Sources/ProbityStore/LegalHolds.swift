import Foundation
import GRDB
import ProbityDomain
import ProbityLog

/// The open legal holds that protect an entry, read inside the writer's transaction so that no hold can
/// be placed between the check and the redaction.
///
/// A hold protects every entry of its scope's streams, whatever the entry's type: `procedure:REF` for a
/// hold on a procedure, `party:ID` for a hold on a party — and, for an organisation, the streams of the
/// people registered with it (`org`). An entry that names a recorded exchange by its `source` (its edit or
/// deletion at the source) is in the exchange's streams for this purpose. The streams come from the entries' own bytes (the chain `verify`
/// checks), the holds from the `refs` table (which `verify` checks against the entries).
enum LegalHolds {
    struct Hold: Equatable {
        let id: String
        let placedSeq: UInt64
        let reason: String
    }

    /// The open holds covering entry `seq`, oldest first.
    static func covering(seq: UInt64, _ db: Database) throws -> [Hold] {
        let openHolds = try Row.fetchAll(
            db, sql: "SELECT id, seq FROM refs WHERE kind = 'hold' AND detail = 'open' ORDER BY seq")
        guard !openHolds.isEmpty, let target = try header(seq: seq, db) else { return [] }
        var protected = Set(target.header.streams.map(\.id)).union(target.header.impliedStreams)
        // An entry about a recorded exchange (its edit or deletion at the source) belongs with the exchange.
        if let source = target.fields.source("source"),
            let recorded = try Int64.fetchOne(
                db, sql: "SELECT seq FROM sources WHERE platform = ? AND id = ?",
                arguments: [source.platform, source.id]),
            UInt64(clamping: recorded) != seq, let exchange = try header(seq: UInt64(clamping: recorded), db)
        {
            protected.formUnion(exchange.header.streams.map(\.id))
        }
        // A person's entry is also its organisation's.
        for stream in protected where stream.hasPrefix("party:") {
            let party = String(stream.dropFirst("party:".count))
            guard
                let registered = try Int64.fetchOne(
                    db, sql: "SELECT seq FROM refs WHERE kind = 'party' AND id = ?", arguments: [party]),
                let registration = try header(seq: UInt64(clamping: registered), db),
                let org = registration.fields.string("org")
            else { continue }
            protected.insert("party:" + org)
        }
        var holds: [Hold] = []
        for row in openHolds {
            let placedSeq = UInt64(clamping: row["seq"] as Int64)
            guard let placed = try header(seq: placedSeq, db) else { continue }
            let scope = [
                placed.fields.string("procedure").map { "procedure:" + $0 },
                placed.fields.string("party").map { "party:" + $0 },
            ]
            if scope.contains(where: { $0.map(protected.contains) ?? false }) {
                holds.append(Hold(id: row["id"], placedSeq: placedSeq, reason: placed.fields.string("reason") ?? ""))
            }
        }
        return holds
    }

    private static func header(seq: UInt64, _ db: Database) throws -> (header: EntryHeader, fields: EventFields)? {
        guard
            let bytes = try Data.fetchOne(
                db, sql: "SELECT bytes FROM entries WHERE seq = ?", arguments: [Int64(clamping: seq)])
        else { return nil }
        let array = [UInt8](bytes)
        guard let header = try? EntryHeader(bytes: array) else {
            throw StoreError(.inconsistent, "entry \(seq) is not a valid entry; run `probity verify`")
        }
        return (header, EventFields(header, bytes: array))
    }
}
