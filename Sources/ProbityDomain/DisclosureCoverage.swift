import ProbityLog

/// Disclosure coverage of a procedure: each question a supplier asked, who answered it and to whom, and
/// whether the answer was then disclosed to all candidates — before the tender deadline or after.
public struct QuestionCoverage: Sendable, Equatable {
    public enum Status: String, Sendable {
        /// No answer from the buyer's side is recorded.
        case unanswered
        /// Answered in public: every candidate could read it.
        case answeredPublicly = "answered_publicly"
        /// Answered privately, and disclosed to all by the tender deadline.
        case disclosed
        /// Answered privately, disclosed to all only after the tender deadline.
        case disclosedLate = "disclosed_after_deadline"
        /// Answered privately, never disclosed.
        case undisclosed
    }

    public let question: DomainState.Record
    /// The buyer's answers, in seq order.
    public let answers: [DomainState.Record]
    /// Disclosures naming the question or one of its answers, in seq order.
    public let disclosures: [DomainState.Record]
    public let status: Status

    /// The first private answer, if any.
    public var privateAnswer: DomainState.Record? { answers.first { $0.visibility != .public } }

    /// The coverage of every question asked in `procedure`: its exchanges from suppliers that have a source
    /// and reply to nothing (a reply answers the buyer; it asks nothing new).
    public static func of(_ procedure: DomainState.Procedure, in state: DomainState) -> [QuestionCoverage] {
        var all: [QuestionCoverage] = []
        each(procedure, in: state) { all.append($0) }
        return all
    }

    /// How many questions of `procedure` have each status, without keeping them (a procedure may have
    /// hundreds of thousands).
    public static func statusCounts(_ procedure: DomainState.Procedure, in state: DomainState) -> [Status: Int] {
        var counts: [Status: Int] = [:]
        each(procedure, in: state) { counts[$0.status, default: 0] += 1 }
        return counts
    }

    /// Works out each question's coverage in seq order, handing each to `body`.
    static func each(
        _ procedure: DomainState.Procedure, in state: DomainState, _ body: (QuestionCoverage) -> Void
    ) {
        let exchanges = state.records(of: procedure).lazy.filter(\.isExchange)
        // The buyer's answers by the exchange they reply to and by thread, so that no question scans them all.
        var repliesTo: [DomainState.SourceRef: [DomainState.Record]] = [:]
        var inThread: [String: [DomainState.Record]] = [:]
        for a in exchanges where a.from.map(state.isBuyerSide) == true {
            if let target = a.replyTo { repliesTo[target, default: []].append(a) }
            if let thread = a.thread { inThread[thread, default: []].append(a) }
        }
        var disclosing: [DomainState.SourceRef: [DomainState.Record]] = [:]
        for d in state.records(of: procedure) where d.type == DomainEventType.disclosurePublished {
            for source in d.answers { disclosing[source, default: []].append(d) }
        }
        for question in exchanges {
            guard let asker = question.from, state.isSupplierSide(asker), let source = question.source,
                question.replyTo == nil
            else { continue }
            let threadReplies =
                question.thread.flatMap { inThread[$0] }?.filter { $0.to.contains(asker) && $0.replyTo == nil } ?? []
            let answers = ((repliesTo[source] ?? []) + threadReplies)
                .filter { $0.seq != question.seq && $0.at >= question.at }
                .sorted { $0.seq < $1.seq }
            let covering = ([source] + answers.compactMap(\.source)).flatMap { disclosing[$0] ?? [] }
            let disclosures = Dictionary(covering.map { ($0.seq, $0) }, uniquingKeysWith: { a, _ in a }).values.sorted {
                $0.seq < $1.seq
            }
            let status: Status
            if answers.isEmpty {
                status = .unanswered
            } else if answers.allSatisfy({ $0.visibility == .public }) {
                status = .answeredPublicly
            } else if disclosures.contains(where: { procedure.isByTenderDeadline($0.at) }) {
                status = .disclosed
            } else {
                status = disclosures.isEmpty ? .undisclosed : .disclosedLate
            }
            body(QuestionCoverage(question: question, answers: answers, disclosures: disclosures, status: status))
        }
    }
}
