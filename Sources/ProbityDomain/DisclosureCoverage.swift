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
        each(procedure, in: state, after: nil) {
            all.append($0)
            return true
        }
        return all
    }

    /// At most `limit` questions asked after entry `after` (all from the first if nil), in seq order, and
    /// whether more follow: a page of a coverage too large to send at once.
    public static func page(
        _ procedure: DomainState.Procedure, in state: DomainState, after: UInt64?, limit: Int
    ) -> (coverage: [QuestionCoverage], more: Bool) {
        var page: [QuestionCoverage] = [], more = false
        each(procedure, in: state, after: after) {
            guard page.count < limit else {
                more = true
                return false
            }
            page.append($0)
            return true
        }
        return (page, more)
    }

    /// Hands each question's coverage to `body`, in seq order, without keeping them (a procedure may have
    /// hundreds of thousands).
    public static func forEach(
        _ procedure: DomainState.Procedure, in state: DomainState, _ body: (QuestionCoverage) -> Void
    ) {
        each(procedure, in: state, after: nil) {
            body($0)
            return true
        }
    }

    /// How many questions of `procedure` have each status, without keeping them (a procedure may have
    /// hundreds of thousands).
    public static func statusCounts(_ procedure: DomainState.Procedure, in state: DomainState) -> [Status: Int] {
        var counts: [Status: Int] = [:]
        each(procedure, in: state, after: nil) {
            counts[$0.status, default: 0] += 1
            return true
        }
        return counts
    }

    /// Works out the coverage of each question asked after entry `after`, in seq order, handing each to
    /// `body` until it returns false.
    static func each(
        _ procedure: DomainState.Procedure, in state: DomainState, after: UInt64?,
        _ body: (QuestionCoverage) -> Bool
    ) {
        // One pass builds each exchange and disclosure once (the others are skipped by type): the buyer's
        // answers by the exchange they reply to and by thread, so that no question scans them all; the
        // disclosures by what they disclose; and where the questions are, read again after.
        let records = state.records(of: procedure)
        var repliesTo: [DomainState.SourceRef: [DomainState.Record]] = [:]
        var inThread: [String: [DomainState.Record]] = [:]
        var disclosing: [DomainState.SourceRef: [DomainState.Record]] = [:]
        var questions: [Int] = []
        for i in records.indices {
            switch records.type(at: i) {
            case DomainEventType.exchangeRecorded:
                let a = records[i]
                guard let from = a.from else { continue }
                if state.isBuyerSide(from) {
                    if let target = a.replyTo { repliesTo[target, default: []].append(a) }
                    if let thread = a.thread { inThread[thread, default: []].append(a) }
                }
                if state.isSupplierSide(from), a.source != nil, a.replyTo == nil, after.map({ a.seq > $0 }) ?? true {
                    questions.append(i)
                }
            case DomainEventType.disclosurePublished:
                let d = records[i]
                for source in d.answers { disclosing[source, default: []].append(d) }
            default: continue
            }
        }
        for i in questions {
            let question = records[i]
            guard let asker = question.from, let source = question.source else { continue }
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
            guard body(QuestionCoverage(question: question, answers: answers, disclosures: disclosures, status: status))
            else { return }
        }
    }
}
