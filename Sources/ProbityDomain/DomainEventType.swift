/// The procurement event types of the catalogue (docs/EVENTS.md), as constants. `EventCatalogue.types`
/// gives each its schema; the projections, findings and renderers switch on these names.
public enum DomainEventType {
    public static let partyRegistered = "party.registered"
    public static let procedureOpened = "procedure.opened"
    public static let procedureUpdated = "procedure.updated"
    public static let procedurePhaseChanged = "procedure.phase_changed"
    public static let procedureCandidateJoined = "procedure.candidate_joined"
    public static let exchangeRecorded = "exchange.recorded"
    public static let exchangeEditedAtSource = "exchange.edited_at_source"
    public static let exchangeDeletedAtSource = "exchange.deleted_at_source"
    public static let exchangeTagged = "exchange.tagged"
    public static let disclosurePublished = "disclosure.published"
    public static let conflictDeclared = "conflict.declared"
    public static let legalHoldPlaced = "legal_hold.placed"
    public static let legalHoldReleased = "legal_hold.released"
}
