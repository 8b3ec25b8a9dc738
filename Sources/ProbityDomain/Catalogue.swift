public import ProbityLog

/// The event catalogue (docs/EVENTS.md): the types users may append, each with the schema of
/// its `data` and the references it makes to what the log already holds.
public enum EventCatalogue {
    public enum Role: String, CaseIterable, Sendable {
        case buyerOrg = "buyer_org", buyerAgent = "buyer_agent", supplierOrg = "supplier_org", supplierContact =
            "supplier_contact", official
    }
    public enum ProcedureKind: String, CaseIterable, Sendable {
        case sourcing, openTender = "open_tender", restrictedTender = "restricted_tender", adapted, negotiated,
            competitiveDialogue = "competitive_dialogue"
    }
    /// The contract a procedure leads to; works contracts are kept longer (see `RetentionPlan`).
    public enum ContractType: String, CaseIterable, Sendable { case works, supplies, services }
    public enum Phase: String, CaseIterable, Sendable {
        case sourcing, consultation, evaluation, standstill, awarded, closed, cancelled
    }
    public enum Channel: String, CaseIterable, Sendable {
        case linkedin, x, mastodon, facebook, email, phone, meeting, platform, other
    }
    public enum ExchangeKind: String, CaseIterable, Sendable {
        case message, post, comment, reply, call, meetingNote = "meeting_note"
    }
    public enum Visibility: String, CaseIterable, Sendable { case `public`, restricted, direct }
    public enum Direction: String, CaseIterable, Sendable { case inbound, outbound, `internal` }
    public enum UpdateReason: String, CaseIterable, Sendable {
        case deadlineExtension = "deadline_extension", correction, clarification, suspension, other
    }
    public enum DisclosureKind: String, CaseIterable, Sendable {
        case answers, sourcingReport = "sourcing_report", notice
    }
    public enum ConflictNature: String, CaseIterable, Sendable {
        case family, financial, formerEmployment = "former_employment", other
    }

    /// What a field refers to, checked against the log at append time.
    public enum Reference: Sendable {
        /// Introduces a party id; it must not be registered yet.
        case newParty(String)
        /// A registered party, optionally of one of `roles`.
        case party(String, roles: [Role]?)
        case parties(String)
        case newProcedure(String)
        case procedure(String)
        /// A recorded exchange (`exchange.recorded` with that source).
        case source(String)
        case sources(String)
        case newHold(String)
        case openHold(String)
    }

    public struct EventType: Sendable {
        public let schema: EventSchema
        public let references: [Reference]
    }

    /// Types whose payload column in docs/EVENTS.md is empty: a payload on them is a mistake.
    static let withoutPayload: Set<String> = [
        DomainEventType.procedurePhaseChanged, DomainEventType.procedureCandidateJoined,
        DomainEventType.legalHoldPlaced, DomainEventType.legalHoldReleased,
    ]

    static func values<E: RawRepresentable & CaseIterable>(_: E.Type) -> EventSchema.Value where E.RawValue == String {
        .oneOf(E.allCases.map(\.rawValue))
    }

    /// Types users may append.
    public static let types: [String: EventType] = {
        typealias F = EventSchema
        let dates = ["published_at", "questions_deadline", "tender_deadline", "standstill_end"]
        return [
            DomainEventType.partyRegistered: EventType(
                schema: F([
                    .field("party", .identifier, required: true), .field("role", values(Role.self), required: true),
                    .field("org", .identifier), .field("siret", .siret), .field("time_zone", .timeZone),
                ]),
                references: [.newParty("party"), .party("org", roles: [.buyerOrg, .supplierOrg])]),
            DomainEventType.procedureOpened: EventType(
                schema: F([
                    .field("procedure", .identifier, required: true),
                    .field("kind", values(ProcedureKind.self), required: true),
                    .field("buyer", .identifier, required: true), .field("published_at", .time),
                    .field("questions_deadline", .time), .field("tender_deadline", .time),
                    .field("standstill_end", .time),
                    .field("urgency", .bool), .field("sourcing", .identifier),
                    .field("contract_type", values(ContractType.self)),
                ]) { data throws(EventInputError) in
                    if data["kind"]?.stringValue != ProcedureKind.sourcing.rawValue, data["tender_deadline"] == nil {
                        throw EventInputError(
                            field: "data.tender_deadline", "missing; every procedure but sourcing has a tender deadline"
                        )
                    }
                    try inOrder(data, dates)
                },
                references: [
                    .newProcedure("procedure"), .party("buyer", roles: [.buyerOrg, .buyerAgent]),
                    .procedure("sourcing"),
                ]),
            DomainEventType.procedureUpdated: EventType(
                schema: F(
                    dates.map { EventSchema.Field.field($0, .time) } + [
                        .field("procedure", .identifier, required: true),
                        .field("reason", values(UpdateReason.self), required: true),
                    ]
                ) { data throws(EventInputError) in
                    guard dates.contains(where: { data[$0] != nil }) else {
                        throw EventInputError(
                            field: "data", "names no changed date; give one of \(dates.joined(separator: ", "))")
                    }
                    try inOrder(data, dates)
                },
                references: [.procedure("procedure")]),
            DomainEventType.procedurePhaseChanged: EventType(
                schema: F([
                    .field("procedure", .identifier, required: true),
                    .field("phase", values(Phase.self), required: true),
                    .field("awardee", .identifier), .field("effective_at", .time),
                ]) { data throws(EventInputError) in
                    if data["phase"]?.stringValue == Phase.awarded.rawValue, data["awardee"] == nil {
                        throw EventInputError(field: "data.awardee", "missing; an \"awarded\" phase names the awardee")
                    }
                },
                references: [.procedure("procedure"), .party("awardee", roles: [.supplierOrg, .supplierContact])]),
            DomainEventType.procedureCandidateJoined: EventType(
                schema: F([
                    .field("procedure", .identifier, required: true), .field("party", .identifier, required: true),
                    .field("joined_at", .time),
                ]),
                references: [.procedure("procedure"), .party("party", roles: [.supplierOrg, .supplierContact])]),
            DomainEventType.exchangeRecorded: EventType(
                schema: F([
                    .field("procedure", .identifier), .field("channel", values(Channel.self), required: true),
                    .field("kind", values(ExchangeKind.self), required: true),
                    .field("visibility", values(Visibility.self), required: true),
                    .field("direction", values(Direction.self)), .field("from", .identifier, required: true),
                    .field("to", .identifiers),
                    .field("mentions", .identifiers), .field("thread", .opaque), .field("reply_to", .source),
                    .field("source", .source),
                    .field("occurred_at", .time, required: true), .field("captured_at", .time),
                    .field("attachments", .attachments),
                ]) { data throws(EventInputError) in
                    try inOrder(data, ["occurred_at", "captured_at"])
                },
                references: [.procedure("procedure"), .party("from", roles: nil), .parties("to"), .parties("mentions")]),
            DomainEventType.exchangeEditedAtSource: EventType(
                schema: F([.field("source", .source, required: true), .field("observed_at", .time, required: true)]),
                references: [.source("source")]),
            DomainEventType.exchangeDeletedAtSource: EventType(
                schema: F([.field("source", .source, required: true), .field("observed_at", .time, required: true)]),
                references: [.source("source")]),
            // A recorded exchange assigned to a procedure after the fact (capture left it untagged, or
            // tagged it wrongly): the exchange's entry is never changed, the projections follow the last tag.
            DomainEventType.exchangeTagged: EventType(
                schema: F([
                    .field("source", .source, required: true), .field("procedure", .identifier, required: true),
                    .field("tagged_at", .time, required: true), .field("rule", .opaque),
                ]),
                references: [.source("source"), .procedure("procedure")]),
            DomainEventType.disclosurePublished: EventType(
                schema: F([
                    .field("procedure", .identifier, required: true), .field("kind", values(DisclosureKind.self)),
                    .field("answers", .sources), .field("channel", values(Channel.self), required: true),
                    .field("published_at", .time, required: true),
                ]) { data throws(EventInputError) in
                    let kind = data["kind"]?.stringValue ?? DisclosureKind.answers.rawValue
                    if kind == DisclosureKind.answers.rawValue, (data["answers"]?.arrayValue ?? []).isEmpty {
                        throw EventInputError(
                            field: "data.answers",
                            "missing; a disclosure of answers names the exchanges it answers (their sources)")
                    }
                },
                references: [.procedure("procedure"), .sources("answers")]),
            DomainEventType.conflictDeclared: EventType(
                schema: F([
                    .field("procedure", .identifier, required: true), .field("party", .identifier, required: true),
                    .field("counterpart", .identifier, required: true),
                    .field("nature", values(ConflictNature.self), required: true),
                ]),
                references: [.procedure("procedure"), .party("party", roles: nil), .party("counterpart", roles: nil)]),
            DomainEventType.legalHoldPlaced: EventType(
                schema: F([
                    .field("hold", .identifier, required: true), .field("procedure", .identifier),
                    .field("party", .identifier),
                    .field("reason", .code, required: true),
                ]) { data throws(EventInputError) in
                    guard ["procedure", "party"].contains(where: { data[$0] != nil }) else {
                        throw EventInputError(field: "data", "a legal hold names its scope: a procedure or a party")
                    }
                },
                references: [.newHold("hold"), .procedure("procedure"), .party("party", roles: nil)]),
            DomainEventType.legalHoldReleased: EventType(
                schema: F([.field("hold", .identifier, required: true), .field("reason", .code, required: true)]),
                references: [.openHold("hold")]),
        ]
    }()

    /// Types only Probity itself appends, each through its own command.
    public static let reserved: [String: String] = [
        LogEventType.logCreated: "probity init",
        LogEventType.keyRotated: "probity keys rotate",
        LogEventType.redactionApplied: "probity redact",
        LogEventType.checkpointTimestamped: "probity timestamp",
    ]

    public static func isKnown(_ type: String) -> Bool {
        types[type] != nil || reserved[type] != nil || isExtension(type)
    }

    /// `x-…` types are the namespace for local extensions.
    public static func isExtension(_ type: String) -> Bool { type.hasPrefix("x-") && type.count > 2 }

    /// Checks `data` against its type's schema (extension types: no personal data).
    public static func checkData(_ data: [String: JSONValue], type: String) throws(EventInputError) {
        if let known = types[type] {
            try known.schema.check(data, type: type)
        } else if isExtension(type) {
            try EventSchema.checkExtension(data)
        }
    }

    /// A payload is an object, and only on types that carry personal data.
    public static func checkPayload(_ payload: JSONValue, type: String) throws(EventInputError) {
        guard case .object = payload else {
            throw EventInputError(field: "payload", "must be an object, got \(payload.typeName)")
        }
        if withoutPayload.contains(type) {
            throw EventInputError(
                field: "payload",
                "\"\(type)\" carries no payload: it holds no personal data; put its header fields in data")
        }
    }

    /// Dates named in `keys` must not go backwards where present.
    private static func inOrder(_ data: [String: JSONValue], _ keys: [String]) throws(EventInputError) {
        var previous: (key: String, time: Timestamp)?
        for key in keys {
            guard let text = data[key]?.stringValue, let time = Timestamp(rfc3339: text) else { continue }
            if let previous, time < previous.time {
                throw EventInputError(
                    field: "data.\(key)", "\(text) is before \(previous.key) (\(data[previous.key]?.stringValue ?? ""))"
                )
            }
            previous = (key, time)
        }
    }
}
