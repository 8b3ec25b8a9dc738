import ProbityLog

/// What the log holds that events may refer to: registered parties (with their roles), opened
/// procedures and legal holds. The single writer keeps one and checks every event against it before
/// the event gets a seq, so that an entry never names a party or procedure the log does not know.
public struct ReferenceLedger: Sendable {
    /// One thing the ledger knows, as the store persists it (`kind`, `id`, `detail`).
    public struct Fact: Sendable, Hashable {
        public enum Kind: String, Sendable { case party, procedure, hold }
        public let kind: Kind
        public let id: String
        /// The party's role, the procedure's kind, or a hold's state (`open`, `released`).
        public let detail: String

        public init(kind: Kind, id: String, detail: String) { self.kind = kind; self.id = id; self.detail = detail }
    }

    private var parties: [String: EventCatalogue.Role] = [:]
    private var procedures: Set<String> = []
    private var holds: [String: Bool] = [:]  // hold id → still open

    public init() {}

    public init(facts: some Sequence<Fact>) {
        for fact in facts { learn(fact) }
    }

    public mutating func learn(_ fact: Fact) {
        switch fact.kind {
        case .party: parties[fact.id] = EventCatalogue.Role(rawValue: fact.detail) ?? .official
        case .procedure: procedures.insert(fact.id)
        case .hold: holds[fact.id] = fact.detail == "open"
        }
    }

    /// Checks the references of `event` (extension and reserved types make none that are checked).
    /// `sourceExists` answers whether the log (or the batch being built) holds an exchange. Facts are looked
    /// up newest first: `pending` (introduced earlier in the same submission, not yet learnt), this ledger,
    /// then `stored` (the store, for a reader that does not load every fact). Nothing is copied.
    public func check(
        _ event: EventInput, sourceExists: (SourceKey) -> Bool,
        pending: (Fact.Kind, String) -> String? = { _, _ in nil },
        stored: (Fact.Kind, String) -> String? = { _, _ in nil }
    ) throws(EventInputError) {
        guard let type = EventCatalogue.types[event.type] else { return }
        func fact(_ kind: Fact.Kind, _ id: String, known: String?) -> String? {
            pending(kind, id) ?? known ?? stored(kind, id)
        }
        func role(_ id: String) -> EventCatalogue.Role? {
            fact(.party, id, known: parties[id]?.rawValue).map { EventCatalogue.Role(rawValue: $0) ?? .official }
        }
        func procedureExists(_ ref: String) -> Bool {
            fact(.procedure, ref, known: procedures.contains(ref) ? "" : nil) != nil
        }
        func holdIsOpen(_ id: String) -> Bool? {
            fact(.hold, id, known: holds[id].map { $0 ? "open" : "released" }).map { $0 == "open" }
        }
        let data = event.data
        for reference in type.references {
            switch reference {
            case .newParty(let field):
                if let id = data[field]?.stringValue, role(id) != nil {
                    throw EventInputError(field: "data.\(field)", "party \"\(id)\" is already registered")
                }
            case .party(let field, let roles):
                guard let id = data[field]?.stringValue else { continue }
                try Self.checkParty(id, role(id), field: "data.\(field)", roles: roles)
            case .parties(let field):
                for (i, item) in (data[field]?.arrayValue ?? []).enumerated() {
                    if let id = item.stringValue {
                        try Self.checkParty(id, role(id), field: "data.\(field)[\(i)]", roles: nil)
                    }
                }
            case .newProcedure(let field):
                if let ref = data[field]?.stringValue, procedureExists(ref) {
                    throw EventInputError(field: "data.\(field)", "procedure \"\(ref)\" is already opened")
                }
            case .procedure(let field):
                if let ref = data[field]?.stringValue, !procedureExists(ref) {
                    throw EventInputError(
                        field: "data.\(field)",
                        "procedure \"\(ref)\" is not in the log; append its procedure.opened first")
                }
            case .source(let field):
                if let key = SourceKey(data[field]), !sourceExists(key) {
                    throw EventInputError(field: "data.\(field)", "no exchange from \(key) is recorded in the log")
                }
            case .sources(let field):
                for (i, item) in (data[field]?.arrayValue ?? []).enumerated() {
                    if let key = SourceKey(item), !sourceExists(key) {
                        throw EventInputError(
                            field: "data.\(field)[\(i)]", "no exchange from \(key) is recorded in the log")
                    }
                }
            case .newHold(let field):
                if let id = data[field]?.stringValue, holdIsOpen(id) != nil {
                    throw EventInputError(
                        field: "data.\(field)", "legal hold \"\(id)\" was already placed; choose a new id")
                }
            case .openHold(let field):
                if let id = data[field]?.stringValue, case let open = holdIsOpen(id), open != true {
                    throw EventInputError(
                        field: "data.\(field)",
                        open == nil ? "no legal hold \"\(id)\" was placed" : "legal hold \"\(id)\" is already released")
                }
            }
        }
    }

    private static func checkParty(
        _ id: String, _ role: EventCatalogue.Role?, field: String, roles: [EventCatalogue.Role]?
    ) throws(EventInputError) {
        guard let role else {
            throw EventInputError(field: field, "party \"\(id)\" is not registered; append its party.registered first")
        }
        if let roles, !roles.contains(role) {
            throw EventInputError(
                field: field,
                "party \"\(id)\" is a \(role.rawValue); expected \(roles.map(\.rawValue).joined(separator: " or "))")
        }
    }

    /// Learns what `event` introduces.
    public mutating func record(_ event: EventInput) {
        for fact in Self.facts(of: event) { learn(fact) }
    }

    /// What `event` introduces, as the store persists it in the event's transaction.
    public static func facts(of event: EventInput) -> [Fact] {
        facts(type: event.type) { event.data[$0.description]?.stringValue }
    }

    /// What an event of `type` whose data has the string fields `string` introduces (so that `verify` can
    /// derive facts from entry bytes, without building `data`, by the same rule).
    public static func facts(type: String, string: (StaticString) -> String?) -> [Fact] {
        func fact(_ kind: Fact.Kind, _ idField: StaticString, _ detail: String?) -> [Fact] {
            guard let id = string(idField), let detail else { return [] }
            return [Fact(kind: kind, id: id, detail: detail)]
        }
        switch type {
        case DomainEventType.partyRegistered: return fact(.party, "party", string("role"))
        case DomainEventType.procedureOpened: return fact(.procedure, "procedure", string("kind"))
        case DomainEventType.legalHoldPlaced: return fact(.hold, "hold", "open")
        case DomainEventType.legalHoldReleased: return fact(.hold, "hold", "released")
        default: return []
        }
    }
}
