import Foundation
public import Mustache
public import ProbityDomain
public import ProbityLog

/// Who is signed in, as the pages show it; `csrf` goes in every form that changes state.
public struct ConsoleViewer: Sendable {
    public let user: String
    public let role: String
    public let csrf: String
    public init(user: String, role: String, csrf: String) {
        self.user = user
        self.role = role
        self.csrf = csrf
    }

    /// Whether the viewer's token may download exports (the roles that have `export`).
    var mayExport: Bool { role == "export" || role == "admin" }
}

/// What the dashboard shows of the store, read by the server.
public struct DashboardFacts: Sendable {
    public struct Key: Sendable {
        public let seq: UInt64
        public let type: String
        public let time: Timestamp?
        public let verifierKey: String
        public init(seq: UInt64, type: String, time: Timestamp?, verifierKey: String) {
            self.seq = seq
            self.type = type
            self.time = time
            self.verifierKey = verifierKey
        }
    }
    public var origin = ""
    public var checkpoint: SignedCheckpoint?
    public var checkpointTime: Timestamp?
    public var keys: [Key] = []
    public var timestamps = 0
    /// The last `probity verify` recorded in the store: when, the size it covered, intact, failures, the key trusted.
    public var lastVerify: (time: Timestamp?, size: UInt64, intact: Bool, failures: Int, trust: String)?
    /// nil when the store accepts appends; else why not.
    public var failure: String?
    public init() {}
}

/// The console's pages: view models built from the projections, rendered with the embedded Mustache
/// templates (every value HTML-escaped by `{{ }}`; the one unescaped `{{{body}}}` is a page rendered here).
/// Pure: no I/O, no clock.
public struct ConsolePages: Sendable {
    private let library: MustacheLibrary

    public init() throws {
        var library = MustacheLibrary()
        for (name, bytes) in [
            ("layout", PackageResources.layout_mustache), ("signin", PackageResources.signin_mustache),
            ("dashboard", PackageResources.dashboard_mustache), ("procedures", PackageResources.procedures_mustache),
            ("procedure", PackageResources.procedure_mustache), ("error", PackageResources.error_mustache),
            ("entry", PackageResources.entry_mustache), ("party", PackageResources.party_mustache),
        ] {
            try library.register(String(decoding: bytes, as: UTF8.self), named: name)
        }
        self.library = library
    }

    /// The stylesheet, served at /ui/static/console.css.
    public static var stylesheet: [UInt8] { PackageResources.console_css }
    /// The entry page's verifier (WebCrypto), served at /ui/static/verify.js.
    public static var verifierScript: [UInt8] { PackageResources.verify_js }
    /// Downloads with progress, served at /ui/static/download.js.
    public static var downloadScript: [UInt8] { PackageResources.download_js }

    /// What every page shares: the header, the navigation, the sign-out form.
    struct Chrome {
        let lang: String
        let otherLang: String
        let otherLanguageURL: String
        let title: String
        let t: [String: String]
        let signedIn: Bool
        let user: String
        let role: String
        let csrf: String
        let origin: String
        let onDashboard: Bool
        let onProcedures: Bool
        let body: String
    }

    /// `path` is the page's path and query without `lang`, so that the language link keeps the page.
    private func render(
        _ template: String, _ model: Any, title: String, lang: ConsoleLanguage, viewer: ConsoleViewer?,
        origin: String, path: String
    ) -> String {
        let body = library.render(model, withTemplate: template) ?? ""
        let separator = path.contains("?") ? "&" : "?"
        let chrome = Chrome(
            lang: lang.rawValue, otherLang: lang.other.rawValue,
            otherLanguageURL: path + separator + "lang=" + lang.other.rawValue, title: title,
            t: ConsoleText.labels(lang), signedIn: viewer != nil, user: viewer?.user ?? "", role: viewer?.role ?? "",
            csrf: viewer?.csrf ?? "", origin: origin, onDashboard: template == "dashboard",
            onProcedures: template.hasPrefix("procedure"), body: body)
        return library.render(chrome, withTemplate: "layout") ?? ""
    }

    // MARK: Sign-in and errors

    struct SignIn {
        let lang: String
        let t: [String: String]
        let csrf: String
        let error: String?
    }

    public func signIn(lang: ConsoleLanguage, csrf: String, error: String?, origin: String) -> String {
        let t = ConsoleText.labels(lang)
        return render(
            "signin", SignIn(lang: lang.rawValue, t: t, csrf: csrf, error: error), title: t["signInTitle"]!, lang: lang,
            viewer: nil, origin: origin, path: "/ui/sign-in")
    }

    struct ErrorPage {
        let lang: String
        let t: [String: String]
        let heading: String
        let message: String
    }

    public func error(
        heading: String, message: String, lang: ConsoleLanguage, viewer: ConsoleViewer?, origin: String
    ) -> String {
        render(
            "error", ErrorPage(lang: lang.rawValue, t: ConsoleText.labels(lang), heading: heading, message: message),
            title: heading, lang: lang, viewer: viewer, origin: origin, path: "/ui/")
    }

    // MARK: Dashboard

    struct Dashboard {
        struct Checkpoint {
            let size: UInt64
            let iso: String
            let local: String
            let root: String
            let cosigners: [String]
            let note: String
        }
        struct Key {
            let seq: UInt64
            let event: String
            let iso: String
            let local: String
            let vkey: String
        }
        let lang: String
        let t: [String: String]
        let origin: String
        let size: UInt64
        let healthClass: String
        let healthText: String
        let checkpoint: Checkpoint?
        let keys: [Key]
        let timestampsText: String?
        let verifyClass: String
        let verifyText: String
        struct Choice {
            let value: String
            let label: String
        }
        let mayExport: Bool
        let periodChoices: [Choice]
    }

    public func dashboard(
        _ facts: DashboardFacts, zone: LocalTime, lang: ConsoleLanguage, viewer: ConsoleViewer
    ) -> String {
        let t = ConsoleText.labels(lang)
        let fr = lang == .fr
        let checkpoint = facts.checkpoint.map { signed in
            Dashboard.Checkpoint(
                size: signed.checkpoint.size, iso: facts.checkpointTime?.description ?? "",
                local: facts.checkpointTime.map { Self.local($0, zone) } ?? "—",
                root: Hex.encode(signed.checkpoint.root),
                cosigners: signed.note.signatures.map(\.name).filter { $0 != facts.origin },
                note: signed.encoded)
        }
        let health =
            facts.failure.map {
                ("bad", (fr ? "✖ dégradé : les ajouts échouent (" : "✖ degraded: appends fail (") + $0 + ")")
            } ?? ("ok", fr ? "✔ en service" : "✔ serving")
        let verify: (String, String) =
            facts.lastVerify.map { v in
                let when = v.time.map { Self.local($0, zone) } ?? "?"
                let trust =
                    fr
                    ? [
                        "vkey given": "clé de vérification donnée", "public key given": "clé publique donnée",
                        "key in log.created": "clé inscrite dans log.created",
                    ][v.trust] ?? v.trust : v.trust
                return v.intact
                    ? (
                        "ok",
                        fr
                            ? "✔ intact le \(when), \(v.size) entrées (\(trust))"
                            : "✔ intact on \(when), \(v.size) entries (\(trust))"
                    )
                    : (
                        "bad",
                        fr
                            ? "✖ \(v.failures) défaut(s) le \(when), \(v.size) entrées (\(trust))"
                            : "✖ \(v.failures) failure(s) on \(when), \(v.size) entries (\(trust))"
                    )
            } ?? (
                "none",
                fr
                    ? "aucune vérification enregistrée (lancez probity verify)"
                    : "no verification recorded (run probity verify)"
            )
        let model = Dashboard(
            lang: lang.rawValue, t: t, origin: facts.origin, size: facts.checkpoint?.checkpoint.size ?? 0,
            healthClass: health.0, healthText: health.1, checkpoint: checkpoint,
            keys: facts.keys.map {
                Dashboard.Key(
                    seq: $0.seq,
                    event: $0.type == LogEventType.logCreated
                        ? (fr ? "création du journal" : "log created") : (fr ? "rotation de clé" : "key rotated"),
                    iso: $0.time?.description ?? "", local: $0.time.map { Self.local($0, zone) } ?? "—",
                    vkey: $0.verifierKey)
            },
            timestampsText: facts.timestamps == 0
                ? nil
                : fr
                    ? "\(facts.timestamps) point(s) de contrôle horodaté(s) par une autorité d'horodatage."
                    : "\(facts.timestamps) checkpoint(s) timestamped by a timestamp authority.",
            verifyClass: verify.0, verifyText: verify.1, mayExport: viewer.mayExport,
            periodChoices: [
                .init(value: "csv", label: fr ? "chronologie (CSV)" : "timeline (CSV)"),
                .init(value: "html", label: fr ? "chronologie (HTML)" : "timeline (HTML)"),
                .init(value: "jsonl", label: fr ? "chronologie (JSONL)" : "timeline (JSONL)"),
                .init(value: "bundle", label: fr ? "dossier de preuve (ZIP)" : "evidence bundle (ZIP)"),
            ])
        return render(
            "dashboard", model, title: t["dashboard"]!, lang: lang, viewer: viewer, origin: facts.origin, path: "/ui/")
    }

    // MARK: Procedures

    /// The procedures list's filters, as the query gives them.
    public struct ProcedureFilter: Sendable {
        public var query = ""
        public var kind: EventCatalogue.ProcedureKind?
        public var phase: EventCatalogue.Phase?
        public var onlyWithFindings = false
        public init() {}

        public var queryString: String {
            var parts: [String] = []
            if !query.isEmpty { parts.append("q=" + Self.escape(query)) }
            if let kind { parts.append("kind=" + kind.rawValue) }
            if let phase { parts.append("phase=" + phase.rawValue) }
            if onlyWithFindings { parts.append("findings=1") }
            return parts.joined(separator: "&")
        }

        /// Percent-encodes all but RFC 3986's unreserved characters: safe in a path segment and a query value.
        static func escape(_ text: String) -> String {
            text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
        }
        static let unreserved = CharacterSet(
            charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    }

    struct Procedures {
        struct Option {
            let value: String
            let label: String
            let selected: Bool
        }
        struct Row {
            let ref: String
            let refPath: String
            let kind: String
            let phase: String
            let buyer: String
            let candidates: Int
            let findings: Int
            let hasFindings: Bool
        }
        let lang: String
        let t: [String: String]
        let query: String
        let kinds: [Option]
        let phases: [Option]
        let onlyWithFindings: Bool
        let countText: String
        let rows: [Row]
    }

    /// `findings`: `FindingRules.evaluate(state)`, which the caller keeps per log size (it reads every record).
    public func procedures(
        _ state: DomainState, findings all: [Finding], filter: ProcedureFilter, lang: ConsoleLanguage,
        viewer: ConsoleViewer, origin: String
    ) -> String {
        let t = ConsoleText.labels(lang)
        let findings = Dictionary(grouping: all, by: \.procedure).mapValues(\.count)
        let needle = filter.query.lowercased()
        let rows = state.procedures.values.sorted { $0.ref < $1.ref }.filter { p in
            (needle.isEmpty || p.ref.lowercased().contains(needle) || p.buyer.lowercased().contains(needle))
                && (filter.kind == nil || p.kind == filter.kind)
                && (filter.phase == nil || p.currentPhase == filter.phase)
                && (!filter.onlyWithFindings || (findings[p.ref] ?? 0) > 0)
        }.map { p in
            Procedures.Row(
                ref: p.ref, refPath: ProcedureFilter.escape(p.ref), kind: Self.kindLabel(p.kind, lang),
                phase: p.currentPhase.map { Self.phaseLabel($0, lang) } ?? "—", buyer: p.buyer,
                candidates: p.candidates.count, findings: findings[p.ref] ?? 0, hasFindings: (findings[p.ref] ?? 0) > 0)
        }
        let model = Procedures(
            lang: lang.rawValue, t: t, query: filter.query,
            kinds: EventCatalogue.ProcedureKind.allCases.map {
                .init(value: $0.rawValue, label: Self.kindLabel($0, lang), selected: $0 == filter.kind)
            },
            phases: EventCatalogue.Phase.allCases.map {
                .init(value: $0.rawValue, label: Self.phaseLabel($0, lang), selected: $0 == filter.phase)
            },
            onlyWithFindings: filter.onlyWithFindings,
            countText: lang == .fr
                ? "\(rows.count) procédure(s) sur \(state.procedures.count)"
                : "\(rows.count) of \(state.procedures.count) procedure(s)",
            rows: rows)
        let query = filter.queryString
        return render(
            "procedures", model, title: t["procedures"]!, lang: lang, viewer: viewer, origin: origin,
            path: "/ui/procedures" + (query.isEmpty ? "" : "?" + query))
    }

    // MARK: One procedure

    struct ProcedurePage {
        struct Dated {
            let label: String
            let iso: String
            let local: String
        }
        struct Phase {
            let phase: String
            let iso: String
            let local: String
            let awardee: String?
        }
        struct Candidate {
            let party: String
            let path: String
            let iso: String
            let local: String
        }
        struct FindingView {
            let title: String
            let severity: String
            let severityClass: String
            let explanation: String
            let legal: String
            let seqs: [UInt64]
        }
        struct Line {
            let seq: UInt64
            let procedure: String
            let iso: String
            let local: String
            let event: String
            /// nil when the record names no sender (an empty string would still open a Mustache section).
            let from: String?
            let fromPath: String
            let to: String
            let visibility: String?
            let visibilityMark: String
            let visibilityClass: String
        }
        let lang: String
        let t: [String: String]
        let ref: String
        let kind: String
        let buyer: String
        let phase: String
        let dates: [Dated]
        let timeZone: String
        let phaseList: [Phase]
        let candidates: [Candidate]
        let findingCount: Int
        /// Past the first `findingsShown`: how many more of each rule.
        let moreFindings: [String]
        let findings: [FindingView]
        let chronology: [Line]
        let coverage: Coverage
        struct Download {
            let label: String
            let url: String
        }
        let downloads: [Download]
        let mayExport: Bool
        let paging: Paging
    }

    /// The disclosure coverage as a matrix: each question (a row) × each candidate (a column): did that
    /// candidate get the answer, and when.
    struct Coverage {
        struct Cell {
            let text: String
            let symbol: String
            let cls: String
        }
        struct Row {
            let seq: UInt64
            let asker: String
            let iso: String
            let local: String
            let status: String
            let cells: [Cell]
        }
        let candidates: [String]
        let rows: [Row]
        let hasRows: Bool
        let summary: String
    }

    /// Questions the matrix shows at most (the API pages through the rest).
    public static let coverageRows = 50

    static func coverage(
        _ p: DomainState.Procedure, in state: DomainState, zone: LocalTime, lang: ConsoleLanguage
    ) -> Coverage {
        let fr = lang == .fr
        let (questions, more) = QuestionCoverage.page(p, in: state, after: nil, limit: coverageRows)
        let candidates = p.candidates.map(\.party)
        let deadline = p.tenderDeadline
        let rows = questions.map { q -> Coverage.Row in
            let askerOrg = q.question.from.map { state.organisation(of: $0) }
            let cells = candidates.map { candidate -> Coverage.Cell in
                if askerOrg == candidate {
                    return .init(text: fr ? "a posé la question" : "asked", symbol: "?", cls: "asker")
                }
                if q.answers.contains(where: { $0.visibility == .public }) {
                    return .init(text: fr ? "réponse publique" : "public answer", symbol: "✔", cls: "ok")
                }
                let reachedCandidate = q.answers.contains { answer in
                    answer.to.contains { state.organisation(of: $0) == candidate }
                }
                if reachedCandidate {
                    return .init(text: fr ? "réponse reçue en privé" : "answered privately", symbol: "✔", cls: "ok")
                }
                if let disclosure = q.disclosures.first {
                    let when = local(disclosure.at, zone)
                    if let deadline, disclosure.at > deadline {
                        return .init(
                            text: (fr ? "communiquée le " : "disclosed ") + when
                                + (fr ? ", après la date limite" : ", after the deadline"),
                            symbol: "✖", cls: "bad")
                    }
                    return .init(text: (fr ? "communiquée le " : "disclosed ") + when, symbol: "✔", cls: "ok")
                }
                if q.answers.isEmpty {
                    return .init(text: fr ? "sans réponse" : "unanswered", symbol: "—", cls: "none")
                }
                return .init(text: fr ? "non communiquée" : "not disclosed", symbol: "✖", cls: "bad")
            }
            return .init(
                seq: q.question.seq, asker: q.question.from ?? "?", iso: q.question.at.description,
                local: local(q.question.at, zone), status: statusLabel(q.status, lang), cells: cells)
        }
        let summary =
            questions.isEmpty
            ? (fr ? "Aucune question de candidat n'est enregistrée." : "No question from a candidate is recorded.")
            : more
                ? (fr
                    ? "Les \(coverageRows) premières questions ; l'API en donne la suite."
                    : "The first \(coverageRows) questions; the API pages through the rest.")
                : (fr ? "\(questions.count) question(s)." : "\(questions.count) question(s).")
        return Coverage(candidates: candidates, rows: rows, hasRows: !rows.isEmpty, summary: summary)
    }

    static func statusLabel(_ status: QuestionCoverage.Status, _ lang: ConsoleLanguage) -> String {
        let fr = lang == .fr
        switch status {
        case .unanswered: return fr ? "sans réponse" : "unanswered"
        case .answeredPublicly: return fr ? "répondue publiquement" : "answered publicly"
        case .disclosed: return fr ? "réponse privée, communiquée à temps" : "private answer, disclosed in time"
        case .disclosedLate: return fr ? "réponse privée, communiquée trop tard" : "private answer, disclosed late"
        case .undisclosed: return fr ? "réponse privée, jamais communiquée" : "private answer, never disclosed"
        }
    }

    /// The exports of a scope (`procedure=REF` or `party=ID`): its timeline in each format and its evidence bundle.
    static func downloads(_ scope: String, _ lang: ConsoleLanguage) -> [ProcedurePage.Download] {
        let fr = lang == .fr
        let query = "\(scope)&lang=\(lang.rawValue)"
        let timeline = fr ? "Chronologie" : "Timeline"
        return ["csv", "html", "jsonl"].map {
            .init(label: "\(timeline) (\($0.uppercased()))", url: "/ui/export/timeline?\(query)&format=\($0)")
        } + [
            .init(
                label: fr
                    ? "Dossier de preuve (ZIP, vérifiable hors ligne)" : "Evidence bundle (ZIP, verifiable offline)",
                url: "/ui/export/bundle?\(query)")
        ]
    }

    /// A chronology's pages of `pageSize`: the page shown (`requested`, clamped) and its links.
    struct Paging {
        let current: Int
        let previousURL: String?
        let nextURL: String?
        let text: String

        /// `base` is the page's URL up to `page=`.
        init(count: Int, requested: Int, base: String, lang: ConsoleLanguage) {
            let pages = max(1, (count + ConsolePages.pageSize - 1) / ConsolePages.pageSize)
            current = min(max(0, requested), pages - 1)
            previousURL = current > 0 ? base + "\(current - 1)" : nil
            nextURL = current + 1 < pages ? base + "\(current + 1)" : nil
            text =
                lang == .fr
                ? "page \(current + 1) sur \(pages) (\(count) entrées)"
                : "page \(current + 1) of \(pages) (\(count) entries)"
        }

        func slice(_ records: RecordList) -> RecordList.SubSequence {
            records.dropFirst(current * ConsolePages.pageSize).prefix(ConsolePages.pageSize)
        }
    }

    /// One row of a chronology: public, restricted and direct exchanges marked in words and symbols.
    static func line(_ r: DomainState.Record, zone: LocalTime, lang: ConsoleLanguage) -> ProcedurePage.Line {
        let t = ConsoleText.labels(lang)
        let visibility: (String?, String, String) =
            switch r.visibility {
            case .public?: (t["public"], "◉", "public")
            case .restricted?: (t["restricted"], "◐", "private")
            case .direct?: (t["private"], "○", "private")
            case nil: (nil, "", "none")
            }
        let from = r.from ?? (r.isExchange ? nil : r.parties.first)
        return .init(
            seq: r.seq, procedure: r.procedure ?? "—", iso: r.at.description, local: local(r.at, zone),
            event: eventLabel(r, lang), from: from, fromPath: ProcedureFilter.escape(from ?? ""),
            to: (r.to + r.mentions).joined(separator: ", "), visibility: visibility.0, visibilityMark: visibility.1,
            visibilityClass: visibility.2)
    }

    // MARK: One party

    struct PartyPage {
        struct Candidacy {
            let ref: String
            let path: String
        }
        let lang: String
        let t: [String: String]
        let id: String
        let role: String
        let org: String?
        let orgPath: String
        let seq: UInt64
        let candidacies: [Candidacy]
        let hasCandidacies: Bool
        let downloads: [ProcedurePage.Download]
        let mayExport: Bool
        let chronology: [ProcedurePage.Line]
        let paging: Paging
    }

    /// A party's page: who it is, where it is a candidate, and every record naming it (or, for an
    /// organisation, its people), `pageSize` a page.
    public func party(
        _ party: DomainState.Party, in state: DomainState, page: Int, lang: ConsoleLanguage, viewer: ConsoleViewer,
        origin: String
    ) -> String {
        let t = ConsoleText.labels(lang)
        let fr = lang == .fr
        let candidacies = state.procedures.values.filter { $0.isCandidate(party.organisation) }.map(\.ref).sorted()
        // The party's own zone, else that of the buyer it deals with (its first candidacy, else the log's
        // first procedure): the buyer's time, as on the procedure pages.
        let own = (party.timeZone ?? party.org.flatMap { state.party($0)?.timeZone }).flatMap(
            LocalTime.init(identifier:))
        let dealtWith =
            candidacies.first.flatMap { state.procedures[$0] }
            ?? state.procedures.values.min { $0.ref < $1.ref }
        let zone = own ?? dealtWith.map { LocalTime.buyers($0, in: state) } ?? .utc
        let records = state.records(involving: party.id)
        let path = "/ui/parties/\(ProcedureFilter.escape(party.id))"
        let paging = Paging(
            count: records.count, requested: page, base: path + "?lang=\(lang.rawValue)&page=", lang: lang)
        let model = PartyPage(
            lang: lang.rawValue, t: t, id: party.id, role: Self.roleLabel(party.role, lang), org: party.org,
            orgPath: ProcedureFilter.escape(party.org ?? ""), seq: party.seq,
            candidacies: candidacies.map { .init(ref: $0, path: ProcedureFilter.escape($0)) },
            hasCandidacies: !candidacies.isEmpty,
            downloads: Self.downloads("party=\(ProcedureFilter.escape(party.id))", lang),
            mayExport: viewer.mayExport,
            chronology: paging.slice(records).map { Self.line($0, zone: zone, lang: lang) }, paging: paging)
        return render(
            "party", model, title: "\(t["party"]!) \(party.id)", lang: lang, viewer: viewer, origin: origin,
            path: path + "?page=\(paging.current)")
    }

    static func roleLabel(_ role: EventCatalogue.Role, _ lang: ConsoleLanguage) -> String {
        guard lang == .fr else { return role.rawValue.replacingOccurrences(of: "_", with: " ") }
        switch role {
        case .buyerOrg: return "acheteur (organisation)"
        case .buyerAgent: return "agent de l'acheteur"
        case .supplierOrg: return "fournisseur (organisation)"
        case .supplierContact: return "contact d'un fournisseur"
        case .official: return "élu ou responsable"
        }
    }

    /// Entries per chronology page.
    public static let pageSize = 100

    /// Findings the procedure page shows in full; the rest are counted by rule (the API lists them all).
    public static let findingsShown = 20

    /// `page` counts from 0; out of range shows the last page. `findings`: the procedure's, in order.
    public func procedure(
        _ p: DomainState.Procedure, in state: DomainState, findings: [Finding], page: Int, lang: ConsoleLanguage,
        viewer: ConsoleViewer, origin: String
    ) -> String {
        let t = ConsoleText.labels(lang)
        let zone = LocalTime.buyers(p, in: state)
        let fr = lang == .fr
        func dated(_ label: String, _ time: Timestamp?) -> ProcedurePage.Dated? {
            time.map { .init(label: label, iso: $0.description, local: Self.local($0, zone)) }
        }
        let records = state.records(of: p)
        let path = "/ui/procedures/\(ProcedureFilter.escape(p.ref))"
        let paging = Paging(
            count: records.count, requested: page, base: path + "?lang=\(lang.rawValue)&page=", lang: lang)
        let language: FindingText.Language = fr ? .fr : .en
        let byRule = Dictionary(grouping: findings.dropFirst(Self.findingsShown), by: \.rule)
        let moreFindings = byRule.keys.sorted().map { rule in
            (fr ? "et \(byRule[rule]!.count) autre(s) : " : "and \(byRule[rule]!.count) more: ")
                + FindingText.title(rule, language)
        }
        let model = ProcedurePage(
            lang: lang.rawValue, t: t, ref: p.ref, kind: Self.kindLabel(p.kind, lang), buyer: p.buyer,
            phase: p.currentPhase.map { Self.phaseLabel($0, lang) } ?? "—",
            dates: [
                dated(fr ? "Publication" : "Published", p.publishedAt),
                dated(fr ? "Date limite des questions" : "Questions deadline", p.questionsDeadline),
                dated(fr ? "Date limite de remise des offres" : "Tender deadline", p.tenderDeadline),
                dated(fr ? "Fin du délai de suspension" : "Standstill end", p.standstillEnd),
            ].compactMap { $0 },
            timeZone: zone.zone.identifier,
            phaseList: p.phases.map {
                .init(
                    phase: Self.phaseLabel($0.phase, lang), iso: $0.at.description, local: Self.local($0.at, zone),
                    awardee: $0.awardee)
            },
            candidates: p.candidates.map {
                .init(
                    party: $0.party, path: ProcedureFilter.escape($0.party), iso: $0.at.description,
                    local: Self.local($0.at, zone))
            },
            findingCount: findings.count, moreFindings: moreFindings,
            findings: findings.prefix(Self.findingsShown).map { f in
                .init(
                    title: FindingText.title(f.rule, language), severity: FindingText.severity(f.severity, language),
                    severityClass: f.severity.rawValue,
                    explanation: FindingText.explanation(f, language, time: zone),
                    legal: FindingText.legalReference(f.rule), seqs: f.seqs)
            },
            chronology: paging.slice(records).map { Self.line($0, zone: zone, lang: lang) },
            coverage: Self.coverage(p, in: state, zone: zone, lang: lang),
            downloads: Self.downloads("procedure=\(ProcedureFilter.escape(p.ref))", lang), mayExport: viewer.mayExport,
            paging: paging)
        return render(
            "procedure", model, title: "\(t["procedure"]!) \(p.ref)", lang: lang, viewer: viewer, origin: origin,
            path: path + "?page=\(paging.current)")
    }

    // MARK: One entry

    /// What the entry page shows of a stored entry, read by the server.
    public struct EntryFacts: Sendable {
        public let seq: UInt64
        public let bytes: [UInt8]
        public let leafHash: [UInt8]
        /// The payload's bytes when the viewer may read payloads and it is not erased.
        public let payload: [UInt8]?
        public let mayReadPayloads: Bool
        public let proof: TlogProof
        public init(
            seq: UInt64, bytes: [UInt8], leafHash: [UInt8], payload: [UInt8]?, mayReadPayloads: Bool, proof: TlogProof
        ) {
            self.seq = seq
            self.bytes = bytes
            self.leafHash = leafHash
            self.payload = payload
            self.mayReadPayloads = mayReadPayloads
            self.proof = proof
        }
    }

    struct EntryPage {
        let lang: String
        let t: [String: String]
        let seq: UInt64
        let type: String
        let iso: String
        let local: String
        let procedure: String?
        let procedurePath: String
        let leafHash: String
        let entryText: String
        let entryBase64: String
        let redaction: String?
        let payloadText: String?
        let payloadNote: String?
        let proofText: String
        let hashes: String
        let checkpointText: String
    }

    public func entry(
        _ facts: EntryFacts, in state: DomainState, lang: ConsoleLanguage, viewer: ConsoleViewer, origin: String
    ) -> String {
        let t = ConsoleText.labels(lang)
        let fr = lang == .fr
        let parsed = try? JSONParser.parse(facts.bytes)
        let type = parsed?["type"]?.stringValue ?? "?"
        let time = parsed?["time"]?.stringValue.flatMap { Timestamp(rfc3339: $0) }
        let record = state.record(seq: facts.seq)
        let zone =
            record?.procedure.flatMap { state.procedures[$0] }.map { LocalTime.buyers($0, in: state) } ?? .utc
        let redaction = state.redactions[facts.seq].map { redactionSeq in
            let basis = state.record(seq: redactionSeq)?.reason ?? "?"
            return fr
                ? "Contenu effacé par l'entrée \(redactionSeq) (fondement : \(basis)) ; l'entrée garde son engagement SHA-256."
                : "Payload erased by entry \(redactionSeq) (legal basis: \(basis)); the entry keeps its SHA-256 commitment."
        }
        let hasPayload = parsed?["payload"] != nil
        let payloadNote: String? =
            if !hasPayload {
                fr ? "Cette entrée n'a pas de contenu à part." : "This entry has no separate payload."
            } else if redaction != nil { nil } else if !facts.mayReadPayloads {
                fr
                    ? "Contenu non affiché : votre jeton (rôle \(viewer.role)) ne permet pas de lire les données personnelles (rôle export)."
                    : "Payload withheld: your token (role \(viewer.role)) may not read personal data (the export role may)."
            } else { nil }
        let model = EntryPage(
            lang: lang.rawValue, t: t, seq: facts.seq, type: type, iso: time?.description ?? "",
            local: time.map { Self.local($0, zone) } ?? "—", procedure: record?.procedure,
            procedurePath: ProcedureFilter.escape(record?.procedure ?? ""), leafHash: Hex.encode(facts.leafHash),
            entryText: Self.visible(String(decoding: facts.bytes, as: UTF8.self)),
            entryBase64: Base64.encode(facts.bytes),
            redaction: redaction,
            payloadText: facts.mayReadPayloads && redaction == nil
                ? facts.payload.map { Self.visible(String(decoding: $0, as: UTF8.self)) } : nil,
            payloadNote: payloadNote, proofText: facts.proof.encoded,
            hashes: facts.proof.proof.map { Base64.encode($0) }.joined(separator: " "),
            checkpointText: facts.proof.checkpoint.encoded)
        return render(
            "entry", model, title: "\(t["entry"]!) \(facts.seq)", lang: lang, viewer: viewer, origin: origin,
            path: "/ui/entries/\(facts.seq)")
    }

    /// Text from outside with its bidirectional controls shown as `⟨U+202E⟩` instead of obeyed: an override
    /// in a payload must not turn "exe.txt" into "txt.exe" on the screen of the person judging it.
    static func visible(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
                || scalar.value == 0x200E || scalar.value == 0x200F || scalar.value == 0x061C
            {
                out += "⟨U+" + String(scalar.value, radix: 16, uppercase: true) + "⟩"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    // MARK: Words

    static func local(_ time: Timestamp, _ zone: LocalTime) -> String { zone.day(time) + " " + zone.clock(time) }

    static func kindLabel(_ kind: EventCatalogue.ProcedureKind, _ lang: ConsoleLanguage) -> String {
        guard lang == .fr else { return kind.rawValue.replacingOccurrences(of: "_", with: " ") }
        switch kind {
        case .sourcing: return "sourçage"
        case .openTender: return "appel d'offres ouvert"
        case .restrictedTender: return "appel d'offres restreint"
        case .adapted: return "procédure adaptée"
        case .negotiated: return "procédure négociée"
        case .competitiveDialogue: return "dialogue compétitif"
        }
    }

    static func phaseLabel(_ phase: EventCatalogue.Phase, _ lang: ConsoleLanguage) -> String {
        guard lang == .fr else { return phase.rawValue }
        switch phase {
        case .sourcing: return "sourçage"
        case .consultation: return "consultation"
        case .evaluation: return "analyse des offres"
        case .standstill: return "délai de suspension"
        case .awarded: return "attribuée"
        case .closed: return "close"
        case .cancelled: return "annulée"
        }
    }

    static func eventLabel(_ r: DomainState.Record, _ lang: ConsoleLanguage) -> String {
        let fr = lang == .fr
        switch r.type {
        case DomainEventType.exchangeRecorded:
            return "\(r.channel?.rawValue ?? "?") · \(r.kind ?? "?")"
        case DomainEventType.procedurePhaseChanged:
            return (fr ? "phase : " : "phase: ") + (r.phase.map { phaseLabel($0, lang) } ?? "?")
        case DomainEventType.disclosurePublished: return fr ? "publication à tous les candidats" : "disclosed to all"
        case DomainEventType.procedureOpened: return fr ? "procédure ouverte" : "procedure opened"
        case DomainEventType.procedureCandidateJoined: return fr ? "candidature" : "candidate joined"
        case DomainEventType.procedureUpdated: return fr ? "dates modifiées" : "dates changed"
        case DomainEventType.exchangeTagged: return fr ? "rattachement à la procédure" : "assigned to the procedure"
        case DomainEventType.conflictDeclared: return fr ? "conflit d'intérêts déclaré" : "conflict declared"
        case LogEventType.redactionApplied: return fr ? "caviardage" : "redaction"
        default: return r.type
        }
    }
}
