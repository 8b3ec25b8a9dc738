import Foundation
public import ProbityDomain
public import ProbityImport
import ProbityLog

/// How a captured exchange is assigned to a procedure, tried in this order:
/// 1. `procedure`: every exchange of this capture belongs to one procedure (a mailbox per procedure);
/// 2. `reference`: a pattern whose first match in the subject is an opened procedure's reference
///    ("RE: Questions 2026-057 lot 2");
/// 3. `thread`: a reply joins the procedure of the exchange it answers (the thread's first message, or
///    the message its `In-Reply-To`/`References` names);
/// 4. `candidacy`: the supplier side's organisation is a candidate in exactly one procedure still open.
/// An exchange none of these assigns is recorded without a procedure and listed by
/// `probity capture status --untagged`, for a person to assign with an `exchange.tagged` event.
public struct TaggingRules: Sendable, Equatable {
    public var procedure: String? = nil
    /// A regular expression (Swift `Regex` syntax); nil turns the rule off.
    public var reference: String? = TaggingRules.referencePattern
    public var byThread = true
    public var byCandidacy = true

    /// Procedure references as buyers write them: the year, a dash and a number ("2026-057").
    public static let referencePattern = #"\b(19|20)[0-9]{2}-[0-9]{2,5}\b"#

    public init() {}

    /// Checks the reference pattern, so that a bad one is refused when the configuration is read.
    public func check() throws(CaptureError) {
        guard let reference else { return }
        do { _ = try Regex(reference) } catch {
            throw CaptureError("the reference pattern \"\(reference)\" is not a regular expression: \(error)")
        }
    }
}

/// The part of the log tagging reads: which procedures exist, which threads they hold, who is a candidate.
public struct TaggingIndex: Sendable {
    private var procedures: [String: Bool] = [:]  // ref → still open
    private var threads: [String: String] = [:]  // thread or source id → procedure
    private var candidacies: [String: Set<String>] = [:]  // organisation → open procedures
    private var organisations: [String: String] = [:]

    /// How many of the state's records `threads` has read.
    private var recordsRead = 0

    public init() {}

    /// Brings the index up to `state`: procedures and parties are read again (they are few), records
    /// only past those read before (the log only grows).
    public mutating func update(_ state: DomainState) {
        procedures = [:]
        candidacies = [:]
        for (ref, procedure) in state.procedures {
            let open = ![.awarded, .closed, .cancelled].contains(procedure.currentPhase)
            procedures[ref] = open
            if open { for candidate in procedure.candidates { candidacies[candidate.party, default: []].insert(ref) } }
        }
        organisations = state.parties.mapValues(\.organisation)
        for index in recordsRead..<state.records.count {
            let record = state.records[index]
            guard record.isExchange || record.type == DomainEventType.exchangeTagged,
                let procedure = record.procedure
            else { continue }
            if let thread = record.thread { threads[thread] = threads[thread] ?? procedure }
            if let source = record.source { threads[source.id] = procedure }
        }
        recordsRead = state.records.count
    }

    /// Remembers an exchange assigned now, so that its replies in the same scan follow it.
    public mutating func note(thread: String?, source: String, procedure: String) {
        if let thread { threads[thread] = threads[thread] ?? procedure }
        threads[source] = procedure
    }

    /// The procedure `message` belongs to, and the rule that says so; nil if none does.
    /// `reference` is `rules.reference` compiled (once per capture: compiling is costly).
    public func procedure(
        for message: ImportedMessage, parties: [String], rules: TaggingRules, reference: Regex<AnyRegexOutput>?
    ) -> (procedure: String, rule: String)? {
        if let fixed = rules.procedure { return (fixed, "capture procedure") }
        if let regex = reference, let subject = message.subject {
            for match in subject.matches(of: regex) {
                let ref = String(subject[match.range])
                if procedures[ref] != nil { return (ref, "reference in the subject") }
            }
        }
        if rules.byThread {
            let replyTo = message.raw["in-reply-to"]?.stringValue?.trimmingCharacters(in: .whitespaces)
            for key in [message.conversation, replyTo].compactMap({ $0 }) {
                if let procedure = threads[key] { return (procedure, "thread") }
            }
        }
        if rules.byCandidacy {
            let open = Set(parties.flatMap { candidacies[organisations[$0] ?? $0] ?? [] })
            if open.count == 1 { return (open.first!, "candidacy") }
        }
        return nil
    }
}
