public import ProbityDomain
public import ProbityLog

/// One event of an export: its entry verbatim, what the projections know of it, and its payload if it is
/// still there. The renderers (JSONL, CSV, HTML) take these and nothing else: no I/O.
public struct ExportedEvent: Sendable {
    public let record: DomainState.Record
    public let entryBytes: [UInt8]
    public let leafHash: Merkle.Hash
    /// The decoded payload; nil when the entry has none or it was redacted.
    public let payload: JSONValue?
    /// The seq of the `redaction.applied` that erased the payload, if any.
    public let redactedBy: UInt64?

    public init(
        record: DomainState.Record, entryBytes: [UInt8], leafHash: Merkle.Hash, payload: JSONValue?, redactedBy: UInt64?
    ) {
        self.record = record
        self.entryBytes = entryBytes
        self.leafHash = leafHash
        self.payload = payload
        self.redactedBy = redactedBy
    }

    public var seq: UInt64 { record.seq }

    /// The exchange's text (or a disclosure's), from the payload.
    public var text: String? { payload?["text"]?.stringValue }
}

/// What an export covers, said the same way in every format.
public enum ExportScope: Sendable, Equatable {
    case procedure(String)
    case party(String)
    /// Entries appended in [from, to), by the log's time.
    case period(from: Timestamp, to: Timestamp)

    public func title(_ lang: FindingText.Language, time: LocalTime) -> String {
        switch (self, lang) {
        case (.procedure(let ref), .en): "Procedure \(ref)"
        case (.procedure(let ref), .fr): "Procédure \(ref)"
        case (.party(let id), .en): "Party \(id)"
        case (.party(let id), .fr): "Partie \(id)"
        case (.period(let from, let to), .en): "Entries appended from \(time.dateTime(from)) to \(time.dateTime(to))"
        case (.period(let from, let to), .fr): "Entrées ajoutées du \(time.dateTime(from)) au \(time.dateTime(to))"
        }
    }

    /// The records of `state` in scope, in seq order.
    public func records(in state: DomainState) -> [DomainState.Record] {
        switch self {
        case .procedure(let ref): state.procedures[ref].map { Array(state.records(of: $0)) } ?? []
        case .party(let id): Array(state.records(involving: id))
        case .period(let from, let to): state.records.filter { $0.loggedAt >= from && $0.loggedAt < to }
        }
    }
}
