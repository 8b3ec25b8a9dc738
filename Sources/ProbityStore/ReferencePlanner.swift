import GRDB
import ProbityCore

/// Decides, before anything is written, what becomes of each event of a submission: a duplicate of an
/// exchange already stored (its seq), or new — after checking its references against the ledger as it
/// will be when the event's turn comes (earlier events of the batch included).
enum ReferencePlanner {
    /// Updates `ledger` and `pendingSources` only if the whole submission passes; otherwise returns the
    /// first rejected event. `storedSeq` finds an exchange in the store; `storedFact` a fact the ledger
    /// was not loaded with.
    static func plan(_ events: [EventInput], ledger: inout ReferenceLedger, pendingSources: inout Set<SourceKey>,
                     storedSeq: (SourceKey) throws -> UInt64?,
                     storedFact: (ReferenceLedger.Fact.Kind, String) throws -> String? = { _, _ in nil }) throws -> Result<[UInt64?], EventRejection> {
        var draft = ledger
        var sources = pendingSources
        var stored: [UInt64?] = []
        stored.reserveCapacity(events.count)
        for (index, event) in events.enumerated() {
            if let source = event.source {
                if sources.contains(source) { stored.append(nil); continue } // a duplicate within the batch
                if let seq = try storedSeq(source) { stored.append(seq); continue }
            }
            // The ledger's look-ups cannot throw; a storage error met on the way is rethrown after.
            var lookupError: Error?
            do throws(EventInputError) {
                try draft.check(event, sourceExists: { key in
                    if sources.contains(key) { return true }
                    do { return try storedSeq(key) != nil } catch { lookupError = error; return false }
                }, stored: { kind, id in
                    do { return try storedFact(kind, id) } catch { lookupError = error; return nil }
                })
            } catch {
                if let lookupError { throw lookupError }
                return .failure(EventRejection(index: index, error: error))
            }
            if let lookupError { throw lookupError }
            draft.record(event)
            if let source = event.source { sources.insert(source) }
            stored.append(nil)
        }
        ledger = draft
        pendingSources = sources
        return .success(stored)
    }
}

extension LogReader {
    /// What the log knows of a party (its role), a procedure (its kind) or a legal hold (open or released).
    public func fact(_ kind: ReferenceLedger.Fact.Kind, _ id: String) throws -> String? {
        try wrap("reading references") {
            try db.read { try String.fetchOne($0, sql: "SELECT detail FROM refs WHERE kind = ? AND id = ?", arguments: [kind.rawValue, id]) }
        }
    }

    /// Checks `events` as the writer would check them if appended now (parties, procedures, holds and
    /// exchanges they refer to), appending nothing. Returns the first rejected event, or nil.
    public func checkReferences(_ events: [EventInput]) throws -> EventRejection? {
        try referenceRejections(events, all: false).first
    }

    /// Like `checkReferences`, but goes on past a rejected event (as if it were left out) and returns
    /// every rejection: what an import reports record by record.
    public func referenceRejections(_ events: [EventInput], all: Bool = true) throws -> [EventRejection] {
        try wrap("checking references") {
            try db.read { db in
                let findSource = try db.cachedStatement(sql: "SELECT seq FROM sources WHERE platform = ? AND id = ?")
                let findFact = try db.cachedStatement(sql: "SELECT detail FROM refs WHERE kind = ? AND id = ?")
                var ledger = ReferenceLedger()
                var pending = Set<SourceKey>()
                var rejections: [EventRejection] = []
                for (index, event) in events.enumerated() {
                    let outcome = try ReferencePlanner.plan([event], ledger: &ledger, pendingSources: &pending, storedSeq: { source in
                        try Int64.fetchOne(findSource, arguments: [source.platform, source.id]).map { UInt64($0) }
                    }, storedFact: { kind, id in
                        try String.fetchOne(findFact, arguments: [kind.rawValue, id])
                    })
                    if case .failure(let rejection) = outcome {
                        rejections.append(EventRejection(index: index, error: rejection.error))
                        if !all { break }
                    }
                }
                return rejections
            }
        }
    }
}
