import GRDB
public import ProbityDomain
import ProbityLog

/// Decides, before anything is written, what becomes of each event of a submission: a duplicate of an
/// exchange already stored (its seq), or new — after checking its references against the ledger as it
/// will be when the event's turn comes (earlier events of the batch included).
public enum ReferencePlanner {
    /// A fact the submission itself states (a party registered, a procedure opened), before it is learnt.
    private struct PendingFact: Hashable {
        let kind: ReferenceLedger.Fact.Kind
        let id: String
    }

    /// Updates `ledger` and `pendingSources` only if the whole submission passes; otherwise returns the
    /// first rejected event. `storedSeq` finds an exchange in the store; `storedFact` a fact the ledger
    /// was not loaded with.
    static func plan(
        _ events: [EventInput], ledger: inout ReferenceLedger, pendingSources: inout Set<SourceKey>,
        storedSeq: (SourceKey) throws -> UInt64?,
        storedFact: (ReferenceLedger.Fact.Kind, String) throws -> String? = { _, _ in nil }
    ) throws -> Result<[UInt64?], EventRejection> {
        // The submission's own facts and sources, kept apart until it passes whole: nothing is copied.
        var facts: [ReferenceLedger.Fact] = []
        var overlay: [PendingFact: String] = [:]  // → detail
        var sources = Set<SourceKey>()
        var stored: [UInt64?] = []
        stored.reserveCapacity(events.count)
        func known(_ source: SourceKey) -> Bool { pendingSources.contains(source) || sources.contains(source) }
        for (index, event) in events.enumerated() {
            if let source = event.source {
                if known(source) { stored.append(nil); continue }  // a duplicate within the batch
                if let seq = try storedSeq(source) { stored.append(seq); continue }
            }
            // The ledger's look-ups cannot throw; a storage error met on the way is rethrown after.
            var lookupError: (any Error)?
            do throws(EventInputError) {
                try ledger.check(
                    event,
                    sourceExists: { key in
                        if known(key) { return true }
                        do { return try storedSeq(key) != nil } catch { lookupError = error; return false }
                    }, pending: { kind, id in overlay.isEmpty ? nil : overlay[PendingFact(kind: kind, id: id)] },
                    stored: { kind, id in
                        do { return try storedFact(kind, id) } catch { lookupError = error; return nil }
                    })
            } catch {
                if let lookupError { throw lookupError }
                return .failure(EventRejection(index: index, error: error))
            }
            if let lookupError { throw lookupError }
            for fact in ReferenceLedger.facts(of: event) {
                facts.append(fact)
                overlay[PendingFact(kind: fact.kind, id: fact.id)] = fact.detail
            }
            if let source = event.source { sources.insert(source) }
            stored.append(nil)
        }
        for fact in facts { ledger.learn(fact) }
        pendingSources.formUnion(sources)
        return .success(stored)
    }
}

extension LogReader {
    /// What the log knows of a party (its role), a procedure (its kind) or a legal hold (open or released).
    public func fact(_ kind: ReferenceLedger.Fact.Kind, _ id: String) throws -> String? {
        try wrap("reading references") {
            try db.read {
                try String.fetchOne(
                    $0, sql: "SELECT detail FROM refs WHERE kind = ? AND id = ?", arguments: [kind.rawValue, id])
            }
        }
    }

    /// Checks `events` as the writer would check them if appended now (parties, procedures, holds and
    /// exchanges they refer to), appending nothing. Returns the first rejected event, or nil.
    public func checkReferences(_ events: [EventInput]) throws -> EventRejection? {
        try check(events, stopAtFirstRejection: true).rejections.first
    }

    /// What appending `events` now would do, event by event, as if rejected events were left out: which
    /// are refused (and why) and which are exchanges the log already holds. What an import reports record
    /// by record, before appending only the rest.
    public struct LogCheck: Sendable {
        public var rejections: [EventRejection] = []
        /// Indices of events whose source the log already holds (appending them would append nothing).
        public var recorded: Set<Int> = []
    }

    public func check(_ events: [EventInput], stopAtFirstRejection: Bool = false) throws -> LogCheck {
        try wrap("checking references") {
            try db.read { db in
                let findSource = try db.cachedStatement(sql: "SELECT seq FROM sources WHERE platform = ? AND id = ?")
                let findFact = try db.cachedStatement(sql: "SELECT detail FROM refs WHERE kind = ? AND id = ?")
                return try ReferencePlanner.check(
                    events, stopAtFirstRejection: stopAtFirstRejection,
                    storedSeq: { source in
                        try Int64.fetchOne(findSource, arguments: [source.platform, source.id]).map { UInt64($0) }
                    },
                    storedFact: { kind, id in try String.fetchOne(findFact, arguments: [kind.rawValue, id]) })
            }
        }
    }
}

extension ReferencePlanner {
    /// `LogReader.check` over any store: `storedSeq` finds a recorded source, `storedFact` a fact of the log
    /// (read in one snapshot by the caller).
    public static func check(
        _ events: [EventInput], stopAtFirstRejection: Bool,
        storedSeq: (SourceKey) throws -> UInt64?,
        storedFact: (ReferenceLedger.Fact.Kind, String) throws -> String?
    ) throws -> LogReader.LogCheck {
        // "kind id" → detail, memoized: imports name the same parties again and again.
        var facts: [String: String?] = [:]
        var ledger = ReferenceLedger()
        var pending = Set<SourceKey>()
        var result = LogReader.LogCheck()
        for (index, event) in events.enumerated() {
            let outcome = try plan(
                [event], ledger: &ledger, pendingSources: &pending, storedSeq: storedSeq,
                storedFact: { kind, id in
                    let key = "\(kind.rawValue) \(id)"
                    if let known = facts[key] { return known }
                    let detail = try storedFact(kind, id)
                    facts[key] = .some(detail)
                    return detail
                })
            switch outcome {
            case .failure(let rejection):
                result.rejections.append(EventRejection(index: index, error: rejection.error))
                if stopAtFirstRejection { return result }
            case .success(let stored):
                if stored.first! != nil { result.recorded.insert(index) }
            }
        }
        return result
    }
}
