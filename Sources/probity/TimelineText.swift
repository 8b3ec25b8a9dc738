import Foundation
import ProbityDomain
import ProbityLog

/// The terminal rendering of a timeline: a header, then the records grouped by day, in the reader's
/// time zone and language.
struct TimelineText {
    let state: DomainState
    let time: LocalTime
    let language: FindingText.Language
    /// The decoded payload of an entry, if it is still there.
    let payload: (UInt64) -> JSONValue?

    private var fr: Bool { language == .fr }

    func header(_ p: DomainState.Procedure) -> [String] {
        var lines = [
            "\(fr ? "Procédure" : "Procedure") \(p.ref) — \(p.kind.rawValue.replacingOccurrences(of: "_", with: " ")), \(fr ? "acheteur" : "buyer") \(p.buyer)"
        ]
        let dates = [
            (fr ? "publiée" : "published", p.publishedAt),
            (fr ? "questions jusqu'au" : "questions until", p.questionsDeadline),
            (fr ? "offres jusqu'au" : "tenders until", p.tenderDeadline),
            (fr ? "fin du délai de suspension" : "standstill ends", p.standstillEnd),
        ]
        .compactMap { label, t in t.map { "\(label) \(time.dateTime($0))" } }
        if !dates.isEmpty { lines.append("  " + dates.joined(separator: " · ") + " (\(time.zone.identifier))") }
        let phase =
            p.currentPhase.map { phase in
                phase.rawValue + (p.phases.last(where: { $0.phase == phase })?.awardee.map { " (\($0))" } ?? "")
            } ?? "—"
        lines.append(
            "  \(fr ? "phase" : "phase"): \(phase) · \(fr ? "candidats" : "candidates"): \(p.candidates.isEmpty ? "—" : p.candidates.map(\.party).joined(separator: ", "))"
        )
        let coverage = QuestionCoverage.of(p, in: state)
        if !coverage.isEmpty {
            let counts = Dictionary(grouping: coverage, by: \.status).mapValues(\.count).sorted {
                $0.key.rawValue < $1.key.rawValue
            }
            lines.append(
                "  \(fr ? "questions" : "questions"): \(coverage.count) — "
                    + counts.map { "\($0.value) \($0.key.rawValue.replacingOccurrences(of: "_", with: " "))" }.joined(
                        separator: ", "))
        }
        return lines + [""]
    }

    func header(party id: String) -> [String] {
        let party = state.party(id)
        return [
            "\(fr ? "Partie" : "Party") \(id) — \(party?.role.rawValue ?? "?")" + (party?.org.map { ", \($0)" } ?? "")
                + " (\(time.zone.identifier))", "",
        ]
    }

    func days(_ records: some Collection<DomainState.Record>) -> [String] {
        var lines: [String] = []
        var currentDay = ""
        let questions = Set(state.procedures.values.flatMap { QuestionCoverage.of($0, in: state) }.map(\.question.seq))
        for record in records.sorted(by: { ($0.at, $0.seq) < ($1.at, $1.seq) }) {
            let day = time.day(record.at)
            if day != currentDay {
                if !currentDay.isEmpty { lines.append("") }
                lines.append("── \(dayTitle(record.at)) ──")
                currentDay = day
            }
            let prefix = "  \(time.clock(record.at))  #\(record.seq)  "
            lines.append(prefix + describe(record, isQuestion: questions.contains(record.seq)))
            if let text = excerpt(record) { lines.append(String(repeating: " ", count: prefix.count) + text) }
        }
        if records.isEmpty { lines.append(fr ? "(aucune entrée)" : "(no entries)") }
        return lines
    }

    private func dayTitle(_ t: Timestamp) -> String {
        let (weekday, month) = time.weekdayAndMonth(t)
        let parts = time.day(t).split(separator: "-")
        let days =
            fr
            ? ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"]
            : ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
        let months =
            fr
            ? [
                "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
                "novembre", "décembre",
            ]
            : [
                "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December",
            ]
        return "\(days[weekday - 1]) \(Int(parts[2]) ?? 0) \(months[month - 1]) \(parts[0])"
    }

    private func describe(_ r: DomainState.Record, isQuestion: Bool) -> String {
        switch r.type {
        case DomainEventType.exchangeRecorded:
            let visibility =
                r.visibility == .public
                ? (fr ? "PUBLIC" : "PUBLIC") : (fr ? "privé" : "private") + " (\(r.visibility?.rawValue ?? "?"))"
            let to = (r.to + r.mentions).isEmpty ? "" : " → " + (r.to + r.mentions).joined(separator: ", ")
            var line = "\(r.channel?.rawValue ?? "?") · \(r.kind ?? "?") · \(visibility)  \(r.from ?? "?")\(to)"
            if isQuestion { line += fr ? "  [question]" : "  [question]" }
            if let target = r.replyTo, let original = state.exchange(target) {
                line += fr ? "  [répond à #\(original.seq)]" : "  [answers #\(original.seq)]"
            }
            if r.procedure == nil { line += fr ? "  (hors procédure)" : "  (no procedure)" }
            return line
        case DomainEventType.procedureOpened:
            return (fr ? "procédure ouverte" : "procedure opened")
                + " (\(state.procedures[r.procedure ?? ""]?.kind.rawValue ?? "?"))"
        case DomainEventType.procedurePhaseChanged:
            return (fr ? "phase → " : "phase → ") + (r.phase?.rawValue ?? "?")
                + (r.parties.first.map { fr ? ", attributaire \($0)" : ", awardee \($0)" } ?? "")
        case DomainEventType.procedureCandidateJoined:
            return (fr ? "candidat : " : "candidate: ") + (r.parties.first ?? "?")
        case DomainEventType.procedureUpdated:
            return (fr ? "dates modifiées" : "dates changed") + " (\(r.reason ?? "?"))"
        case DomainEventType.disclosurePublished:
            let answered = r.answers.compactMap { state.exchange($0).map { "#\($0.seq)" } }
            return (fr ? "publication à tous les candidats" : "disclosed to all candidates")
                + " (\(r.channel?.rawValue ?? "?"))"
                + (answered.isEmpty ? "" : (fr ? ", répond à " : ", answers ") + answered.joined(separator: ", "))
        case DomainEventType.partyRegistered:
            return (fr ? "partie enregistrée : " : "party registered: ") + (r.parties.first ?? "?")
        case DomainEventType.exchangeEditedAtSource: return fr ? "modifié à la source" : "edited at source"
        case DomainEventType.exchangeDeletedAtSource: return fr ? "supprimé à la source" : "deleted at source"
        case DomainEventType.exchangeTagged:
            return (fr ? "rattaché à la procédure " : "assigned to procedure ") + (r.procedure ?? "?")
        case DomainEventType.conflictDeclared:
            return (fr ? "conflit déclaré : " : "conflict declared: ") + r.parties.joined(separator: " / ")
                + " (\(r.reason ?? "?"))"
        case LogEventType.redactionApplied: return (fr ? "caviardage" : "redaction") + " (\(r.reason ?? "?"))"
        default: return r.type
        }
    }

    /// The start of the record's text, from its payload, on one line.
    private func excerpt(_ r: DomainState.Record) -> String? {
        if let by = state.redactions[r.seq] { return fr ? "[caviardé, voir #\(by)]" : "[redacted, see #\(by)]" }
        guard r.isExchange || r.type == DomainEventType.disclosurePublished,
            let text = payload(r.seq)?["text"]?.stringValue
        else {
            return nil
        }
        let flat = DisplaySafety.terminalSafe(text.split(whereSeparator: \.isNewline).joined(separator: " "))
        return "« " + (flat.count > 110 ? String(flat.prefix(110)) + "…" : flat) + " »"
    }
}
