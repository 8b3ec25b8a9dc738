import Foundation
public import ProbityLog

/// Findings told in plain language, in English or French, with their legal references.
public enum FindingText {
    public enum Language: String, Sendable, CaseIterable { case en, fr }

    public static func title(_ rule: Finding.Rule, _ lang: Language) -> String {
        switch (rule, lang) {
        case (.privateAnswer, .en): "Private answer not disclosed to all candidates"
        case (.privateAnswer, .fr): "Réponse privée non communiquée à tous les candidats"
        case (.lateInformation, .en): "Information disclosed too close to the tender deadline"
        case (.lateInformation, .fr): "Information communiquée trop près de la date limite de remise des offres"
        case (.silencePeriodContact, .en): "Private contact with a candidate during evaluation or standstill"
        case (.silencePeriodContact, .fr):
            "Contact privé avec un candidat pendant l'analyse des offres ou le délai de suspension"
        case (.undisclosedSourcing, .en): "Sourcing exchanges not shared with the other candidates"
        case (.undisclosedSourcing, .fr): "Échanges de sourcing non partagés avec les autres candidats"
        case (.channelAsymmetry, .en): "One candidate handled through private channels"
        case (.channelAsymmetry, .fr): "Un candidat traité par des canaux privés"
        case (.publicPostAboutCandidate, .en): "Public post by the buyer's side naming a candidate"
        case (.publicPostAboutCandidate, .fr): "Publication publique de l'acheteur citant un candidat"
        }
    }

    public static func legalReference(_ rule: Finding.Rule) -> String {
        switch rule {
        case .privateAnswer: "CCP R2132-6; CE 22 janv. 2007, STIF; directive 2014/24/UE art. 18(1)"
        case .lateInformation: "CCP R2132-6, R2151-4"
        case .silencePeriodContact: "CCP R2182-1; directive 2014/24/UE art. 18(1)"
        case .undisclosedSourcing: "CCP R2111-1, R2111-2; directive 2014/24/UE art. 40–41"
        case .channelAsymmetry: "CCP L3; directive 2014/24/UE art. 18(1), 22(2)"
        case .publicPostAboutCandidate: "CCP L3; directive 2014/24/UE art. 18(1), 24"
        }
    }

    /// The explanation of one finding, times in `time`'s zone.
    public static func explanation(_ finding: Finding, _ lang: Language, time: LocalTime) -> String {
        func text(_ key: String) -> String {
            switch finding.facts[key] {
            case .text(let s)? where key == "phase" && lang == .fr: return frenchPhases[s] ?? s
            case .text(let s)?: return s
            case .time(let t)?: return time.dateTime(t)
            case .number(let n)?:
                let text = n == n.rounded() ? String(Int(n)) : String(format: "%.1f", n)
                return lang == .fr ? text.replacingOccurrences(of: ".", with: ",") : text
            case nil: return "?"
            }
        }
        let f = text
        switch (finding.rule, lang) {
        case (.privateAnswer, .en):
            return
                "\(f("asker")) (\(f("candidate"))) asked a question on \(f("question_channel")) on \(f("question_at")); \(f("answerer")) answered privately on \(f("answer_channel")) on \(f("answer_at")), during the consultation. No disclosure published before the tender deadline shares this answer with the other candidates."
        case (.privateAnswer, .fr):
            return
                "\(f("asker")) (\(f("candidate"))) a posé une question sur \(f("question_channel")) le \(f("question_at")) ; \(f("answerer")) y a répondu en privé sur \(f("answer_channel")) le \(f("answer_at")), pendant la consultation. Aucune publication antérieure à la date limite de remise des offres ne communique cette réponse aux autres candidats."
        case (.lateInformation, .en):
            return
                "Information was disclosed to all candidates on \(f("published_at")), \(f("margin_days")) days before the tender deadline (\(f("deadline"))); at least \(f("minimum_days")) days are required, and the deadline was not extended to restore them (\(f("extensions")) extension(s) recorded)."
        case (.lateInformation, .fr):
            return
                "Une information a été communiquée à tous les candidats le \(f("published_at")), \(f("margin_days")) jours avant la date limite de remise des offres (\(f("deadline"))) ; il en faut au moins \(f("minimum_days")), et la date limite n'a pas été reportée pour les rétablir (\(f("extensions")) report(s) enregistré(s))."
        case (.silencePeriodContact, .en):
            return
                "During the \(f("phase")) phase, on \(f("at")), \(f("from")) wrote privately to \(f("to")) on \(f("channel")), outside the procurement platform: a contact between the buyer and candidate \(f("candidate"))."
        case (.silencePeriodContact, .fr):
            return
                "Pendant la phase « \(f("phase")) », le \(f("at")), \(f("from")) a écrit en privé à \(f("to")) sur \(f("channel")), hors de la plateforme de dématérialisation : un contact entre l'acheteur et le candidat \(f("candidate"))."
        case (.undisclosedSourcing, .en):
            return
                "Candidate \(f("candidate")) had \(f("exchanges")) exchange(s) with the buyer while the need was being sourced (\(f("sourcing")), from \(f("first_at")), on \(f("channels"))); nothing of this sourcing was disclosed to the other candidates before the tender deadline."
        case (.undisclosedSourcing, .fr):
            return
                "Le candidat \(f("candidate")) a eu \(f("exchanges")) échange(s) avec l'acheteur pendant le sourcing (\(f("sourcing")), à partir du \(f("first_at")), sur \(f("channels"))) ; rien de ce sourcing n'a été communiqué aux autres candidats avant la date limite de remise des offres."
        case (.channelAsymmetry, .en):
            return
                "Candidate \(f("candidate")) was dealt with through \(f("private")) private message(s) (\(f("channels"))), while \(f("others")) used only the procurement platform."
        case (.channelAsymmetry, .fr):
            return
                "Le candidat \(f("candidate")) a été traité par \(f("private")) message(s) privé(s) (\(f("channels"))), alors que \(f("others")) n'a utilisé que la plateforme de dématérialisation."
        case (.publicPostAboutCandidate, .en):
            return
                "\(f("author")) (\(f("role"))) posted publicly on \(f("channel")) on \(f("at")), naming candidate \(f("candidate")) while the procedure was in its \(f("phase")) phase."
        case (.publicPostAboutCandidate, .fr):
            return
                "\(f("author")) (\(f("role"))) a publié sur \(f("channel")) le \(f("at")) un message public citant le candidat \(f("candidate")), alors que la procédure était en phase « \(f("phase")) »."
        }
    }

    static let frenchPhases = [
        "sourcing": "sourcing", "consultation": "consultation", "evaluation": "analyse des offres",
        "standstill": "délai de suspension", "awarded": "attribuée", "closed": "close",
        "cancelled": "déclarée sans suite",
    ]

    public static func severity(_ severity: Finding.Severity, _ lang: Language) -> String {
        switch (severity, lang) {
        case (.high, .en): "high"
        case (.high, .fr): "élevée"
        case (.medium, .en): "medium"
        case (.medium, .fr): "moyenne"
        }
    }

    /// The finding as `--json` prints it and `/v1/procedures/{ref}/findings` returns it.
    public static func json(_ finding: Finding, _ lang: Language, time: LocalTime) -> JSONValue {
        .object([
            "rule": .string(finding.rule.rawValue),
            "title": .string(title(finding.rule, lang)),
            "procedure": .string(finding.procedure),
            "severity": .string(finding.severity.rawValue),
            "legal_reference": .string(legalReference(finding.rule)),
            "seqs": .array(finding.seqs.map { .number(Double($0)) }),
            "explanation": .string(explanation(finding, lang, time: time)),
            "facts": .object(
                finding.facts.mapValues { fact in
                    switch fact {
                    case .text(let s): .string(s)
                    case .time(let t): .string(t.description)
                    case .number(let n): .number(n)
                    }
                }),
        ])
    }
}
