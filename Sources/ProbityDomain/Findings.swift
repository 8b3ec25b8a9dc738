public import ProbityLog

/// A possible breach of equal treatment or transparency (docs/EVENTS.md, "Projections and findings"), with the entries that support it.
/// Findings are signals for a person to examine, not verdicts: each names its rule, its legal basis and
/// the seqs to read.
public struct Finding: Sendable, Equatable {
    public enum Rule: String, Sendable, CaseIterable, Comparable {
        case privateAnswer = "R1"
        case lateInformation = "R2"
        case silencePeriodContact = "R3"
        case undisclosedSourcing = "R4"
        case channelAsymmetry = "R5"
        case publicPostAboutCandidate = "R6"

        public static func < (a: Rule, b: Rule) -> Bool { a.rawValue < b.rawValue }
    }

    public enum Severity: String, Sendable { case high, medium }

    public let rule: Rule
    public let procedure: String
    public let severity: Severity
    /// The entries that support the finding, ascending.
    public let seqs: [UInt64]
    /// What the explanation is made of (party ids, times, channels, counts), by name.
    public let facts: [String: Fact]

    public enum Fact: Sendable, Equatable {
        case text(String)
        case time(Timestamp)
        case number(Double)
    }

    init(_ rule: Rule, procedure: String, severity: Severity, seqs: [UInt64], facts: [String: Fact]) {
        self.rule = rule
        self.procedure = procedure
        self.severity = severity
        self.seqs = Array(Set(seqs)).sorted()
        self.facts = facts
    }
}

/// Rules 1–6 (docs/EVENTS.md, "Projections and findings") over the projections. Pure: the same state gives the same findings.
public enum FindingRules {
    static let day: Int64 = 86_400_000_000

    /// Findings for every procedure, or for `procedure` only, ordered by procedure, rule and first seq.
    public static func evaluate(_ state: DomainState, procedure: String? = nil) -> [Finding] {
        let procedures = state.procedures.values.filter { procedure == nil || $0.ref == procedure }.sorted {
            $0.ref < $1.ref
        }
        // Exchanges tagged with no procedure may still concern one (a direct message to a candidate).
        let untagged = state.records.filter { $0.isExchange && $0.procedure == nil }
        var findings: [Finding] = []
        for p in procedures {
            let context = Context(state: state, procedure: p, untagged: untagged)
            findings +=
                privateAnswers(context) + lateInformation(context) + silencePeriodContacts(context)
                + undisclosedSourcing(context) + channelAsymmetry(context) + publicPosts(context)
        }
        return findings.sorted {
            ($0.procedure, $0.rule, $0.seqs.first ?? 0) < ($1.procedure, $1.rule, $1.seqs.first ?? 0)
        }
    }

    /// What every rule asks of one procedure.
    struct Context {
        let state: DomainState
        let procedure: DomainState.Procedure
        let records: [DomainState.Record]
        let disclosures: [DomainState.Record]
        /// The procedure's exchanges and the exchanges tagged with no procedure, in seq order.
        let exchangesConcerned: [DomainState.Record]
        let candidates: Set<String>

        init(state: DomainState, procedure: DomainState.Procedure, untagged: [DomainState.Record]) {
            self.state = state
            self.procedure = procedure
            records = Array(state.records(of: procedure))
            disclosures = records.filter { $0.type == DomainEventType.disclosurePublished }
            exchangesConcerned = (records.filter(\.isExchange) + untagged).sorted { $0.seq < $1.seq }
            candidates = Set(procedure.candidates.map(\.party))
        }

        var ref: String { procedure.ref }

        /// The candidate (organisation) `party` acts for, if it acts for one.
        func candidate(_ party: String) -> String? {
            let organisation = state.organisation(of: party)
            return candidates.contains(organisation) ? organisation : nil
        }

        /// The buyer-side party and the candidate of an exchange between the two, if it is one.
        func buyerAndCandidate(_ record: DomainState.Record) -> (buyer: String, candidate: String)? {
            guard let from = record.from else { return nil }
            if state.isBuyerSide(from), let candidate = record.to.lazy.compactMap(self.candidate).first {
                return (from, candidate)
            }
            if let candidate = candidate(from), let buyer = record.to.first(where: state.isBuyerSide) {
                return (buyer, candidate)
            }
            return nil
        }

        /// Consultation: the phase says so, or, for a procedure without phase changes, between
        /// publication and the tender deadline.
        func inConsultation(_ time: Timestamp) -> Bool {
            if !procedure.phases.isEmpty { return procedure.phase(at: time) == .consultation }
            guard let published = procedure.publishedAt, let deadline = procedure.tenderDeadline else { return false }
            return published <= time && time < deadline
        }

        /// A disclosure of this procedure published in time for tenders (by the deadline in force).
        func disclosedBeforeDeadline(_ disclosure: DomainState.Record) -> Bool {
            procedure.isByTenderDeadline(disclosure.at)
        }

        static func isPrivate(_ record: DomainState.Record) -> Bool { record.visibility != .public }
    }

    /// R1: a candidate's question answered privately during the consultation, and the answer never
    /// shared with all candidates before the tender deadline.
    static func privateAnswers(_ c: Context) -> [Finding] {
        QuestionCoverage.of(c.procedure, in: c.state).compactMap { coverage in
            guard coverage.status == .undisclosed || coverage.status == .disclosedLate,
                let answer = coverage.privateAnswer, c.inConsultation(answer.at), let asker = coverage.question.from
            else { return nil }
            let question = coverage.question
            return Finding(
                .privateAnswer, procedure: c.ref, severity: .high,
                seqs: [question.seq, answer.seq] + coverage.disclosures.map(\.seq),
                facts: [
                    "candidate": .text(c.candidate(asker) ?? c.state.organisation(of: asker)), "asker": .text(asker),
                    "question_at": .time(question.at),
                    "question_channel": .text(question.channel?.rawValue ?? "other"), "answer_at": .time(answer.at),
                    "answer_channel": .text(answer.channel?.rawValue ?? "other"), "answerer": .text(answer.from ?? ""),
                ])
        }
    }

    /// R2: information disclosed to all later than 6 days (4 if urgent) before the tender deadline in force,
    /// which was not extended to restore that margin.
    static func lateInformation(_ c: Context) -> [Finding] {
        guard let deadline = c.procedure.tenderDeadline else { return [] }
        let minimumDays: Int64 = c.procedure.urgency ? 4 : 6
        return c.disclosures.compactMap { d in
            let margin = deadline.microseconds - d.at.microseconds
            guard margin < minimumDays * day else { return nil }
            let answered = d.answers.compactMap { c.state.exchange($0)?.seq }
            return Finding(
                .lateInformation, procedure: c.ref, severity: .high,
                seqs: [d.seq, c.procedure.openedSeq] + c.procedure.dateChanges.map(\.seq) + answered,
                facts: [
                    "published_at": .time(d.at), "deadline": .time(deadline),
                    "margin_days": .number(Double(margin) / Double(day)),
                    "minimum_days": .number(Double(minimumDays)),
                    "extensions": .number(
                        Double(c.procedure.dateChanges.filter { $0.field == "tender_deadline" }.count)),
                ])
        }
    }

    /// R3: private exchanges between the buyer and a candidate while tenders are evaluated or during the
    /// standstill period, outside the procurement platform.
    static func silencePeriodContacts(_ c: Context) -> [Finding] {
        c.exchangesConcerned.compactMap { e in
            guard Context.isPrivate(e), e.channel != .platform,
                let phase = c.procedure.phase(at: e.at), phase == .evaluation || phase == .standstill,
                let (buyer, candidate) = c.buyerAndCandidate(e)
            else { return nil }
            return Finding(
                .silencePeriodContact, procedure: c.ref, severity: .high, seqs: [e.seq],
                facts: [
                    "phase": .text(phase.rawValue), "at": .time(e.at), "channel": .text(e.channel?.rawValue ?? "other"),
                    "buyer": .text(buyer), "candidate": .text(candidate), "from": .text(e.from ?? ""),
                    "to": .text(e.to.joined(separator: ", ")),
                ])
        }
    }

    /// R4: a candidate had exchanges with the buyer while the need was being sourced, and nothing of that
    /// sourcing was disclosed to the other candidates before the tender deadline.
    static func undisclosedSourcing(_ c: Context) -> [Finding] {
        guard c.candidates.count >= 2 else { return [] }
        let sourcingReport = c.disclosures.contains {
            $0.disclosureKind == .sourcingReport && c.disclosedBeforeDeadline($0)
        }
        if sourcingReport { return [] }
        let linked =
            c.procedure.sourcing.flatMap { c.state.procedures[$0] }.map { c.state.records(of: $0).filter(\.isExchange) }
            ?? []
        let sourcing = linked + c.records.filter { $0.isExchange && c.procedure.phase(at: $0.at) == .sourcing }
        var byCandidate: [String: [DomainState.Record]] = [:]
        for e in sourcing {
            if let (_, candidate) = c.buyerAndCandidate(e) { byCandidate[candidate, default: []].append(e) }
        }
        return byCandidate.sorted { $0.key < $1.key }.compactMap { candidate, exchanges in
            let disclosed = c.disclosures.contains { d in
                c.disclosedBeforeDeadline(d) && exchanges.contains { e in e.source.map(d.answers.contains) == true }
            }
            if disclosed { return nil }
            return Finding(
                .undisclosedSourcing, procedure: c.ref, severity: .medium, seqs: exchanges.map(\.seq),
                facts: [
                    "candidate": .text(candidate), "exchanges": .number(Double(exchanges.count)),
                    "sourcing": .text(c.procedure.sourcing ?? c.ref), "first_at": .time(exchanges[0].at),
                    "channels": .text(
                        Set(exchanges.compactMap { $0.channel?.rawValue }).sorted().joined(separator: ", ")),
                ])
        }
    }

    /// R5: one candidate dealt with through private messages (at least two) while another used only the
    /// procurement platform.
    static func channelAsymmetry(_ c: Context) -> [Finding] {
        var privateExchanges: [String: [DomainState.Record]] = [:]
        var platformOnly: [String: Bool] = [:]
        for e in c.records where e.isExchange {
            guard let (_, candidate) = c.buyerAndCandidate(e) else { continue }
            let isPrivateChannel = Context.isPrivate(e) && e.channel != .platform
            if isPrivateChannel { privateExchanges[candidate, default: []].append(e) }
            platformOnly[candidate] = (platformOnly[candidate] ?? true) && e.channel == .platform
        }
        let platformCandidates = platformOnly.filter(\.value).keys.sorted()
        return privateExchanges.sorted { $0.key < $1.key }.compactMap { candidate, exchanges in
            let others = platformCandidates.filter { $0 != candidate }
            guard exchanges.count >= 2, !others.isEmpty else { return nil }
            return Finding(
                .channelAsymmetry, procedure: c.ref, severity: .medium, seqs: exchanges.map(\.seq),
                facts: [
                    "candidate": .text(candidate), "private": .number(Double(exchanges.count)),
                    "channels": .text(
                        Set(exchanges.compactMap { $0.channel?.rawValue }).sorted().joined(separator: ", ")),
                    "others": .text(others.joined(separator: ", ")),
                ])
        }
    }

    /// R6: a public post by the buyer's staff or an official naming a candidate while the procedure runs.
    static func publicPosts(_ c: Context) -> [Finding] {
        let start = c.procedure.publishedAt ?? c.procedure.phases.map(\.at).min()
        return c.exchangesConcerned.compactMap { e in
            guard e.visibility == .public, let author = e.from, let role = c.state.party(author)?.role,
                role == .buyerAgent || role == .buyerOrg || role == .official,
                let start, e.at >= start, !isOver(c.procedure.phase(at: e.at)),
                let candidate = (e.to + e.mentions).lazy.compactMap(c.candidate).first
            else { return nil }
            return Finding(
                .publicPostAboutCandidate, procedure: c.ref, severity: .medium, seqs: [e.seq],
                facts: [
                    "author": .text(author), "role": .text(role.rawValue), "candidate": .text(candidate),
                    "at": .time(e.at),
                    "channel": .text(e.channel?.rawValue ?? "other"),
                    "phase": .text(c.procedure.phase(at: e.at)?.rawValue ?? "consultation"),
                ])
        }
    }

    static func isOver(_ phase: EventCatalogue.Phase?) -> Bool {
        phase == .awarded || phase == .closed || phase == .cancelled
    }
}
