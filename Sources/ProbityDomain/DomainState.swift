public import ProbityLog

/// The procurement projections (docs/EVENTS.md): parties, procedures with their phase history, dates and
/// candidates, and every domain event in seq order (the timelines). A pure reducer: `apply` takes the
/// state and one entry, and nothing else, so replaying the log from seq 0 always rebuilds the same
/// state, and a snapshot plus the entries after it gives the same state as a full replay.
///
/// Times: `at` is when a thing happened in the world (`occurred_at`, `published_at`, `effective_at`,
/// `joined_at`), falling back to the entry's `time`, when the log learnt it.
public struct DomainState: Sendable, Equatable {
    public struct Party: Sendable, Equatable {
        public var id: String
        public var role: EventCatalogue.Role
        public var org: String?
        public var timeZone: String?
        public var seq: UInt64
        /// The organisation the party acts for: its `org`, or itself.
        public var organisation: String { org ?? id }
    }

    public struct SourceRef: Sendable, Hashable {
        public var platform: String
        public var id: String
        init(platform: String, id: String) { self.platform = platform; self.id = id }

        init?(_ value: JSONValue?) {
            guard let key = SourceKey(value) else { return nil }
            platform = key.platform
            id = key.id
        }
    }

    public struct PhaseChange: Sendable, Equatable {
        public var phase: EventCatalogue.Phase
        public var at: Timestamp
        public var seq: UInt64
        public var awardee: String?
    }

    public struct Candidate: Sendable, Equatable {
        public var party: String
        public var at: Timestamp
        public var seq: UInt64
    }

    public struct DateChange: Sendable, Equatable {
        public var seq: UInt64
        public var field: String
        public var from: Timestamp?
        public var to: Timestamp
        public var reason: String
    }

    public struct Procedure: Sendable, Equatable {
        public var ref: String
        public var kind: EventCatalogue.ProcedureKind
        public var buyer: String
        public var openedSeq: UInt64
        public var publishedAt: Timestamp?
        public var questionsDeadline: Timestamp?
        /// The tender deadline in force: the first one, then each `procedure.updated` that changed it.
        public var tenderDeadline: Timestamp?
        public var standstillEnd: Timestamp?
        public var urgency: Bool
        /// The sourcing procedure this one follows, if any.
        public var sourcing: String?
        public var phases: [PhaseChange] = []
        public var candidates: [Candidate] = []
        public var dateChanges: [DateChange] = []
        /// Indices in `DomainState.records` of the records of this procedure, in seq order.
        public var records: [UInt32] = []

        /// The phase the procedure was in at `time` (nil before its first phase change).
        public func phase(at time: Timestamp) -> EventCatalogue.Phase? {
            var current: EventCatalogue.Phase?
            for change in phases.sorted(by: { ($0.at, $0.seq) < ($1.at, $1.seq) }) where change.at <= time {
                current = change.phase
            }
            return current
        }

        /// The phase as it stands after every change recorded.
        public var currentPhase: EventCatalogue.Phase? { phases.max { ($0.at, $0.seq) < ($1.at, $1.seq) }?.phase }

        /// Whether `time` is by the tender deadline in force (always, for a procedure without one): what
        /// candidates could still use when writing their tenders.
        public func isByTenderDeadline(_ time: Timestamp) -> Bool { tenderDeadline.map { time <= $0 } ?? true }

        public func isCandidate(_ organisation: String) -> Bool { candidates.contains { $0.party == organisation } }
    }

    /// One domain event, as timelines and findings need it.
    public struct Record: Sendable, Equatable {
        public var seq: UInt64
        public var type: String
        /// When the log appended it.
        public var loggedAt: Timestamp
        /// When it happened (see the type's doc comment).
        public var at: Timestamp
        public var procedure: String?
        /// Parties the event names (from, to, party, buyer, awardee, counterpart, mentions).
        public var parties: [String] = []
        // Exchanges:
        public var channel: EventCatalogue.Channel?
        public var kind: String?
        public var visibility: EventCatalogue.Visibility?
        public var from: String?
        public var to: [String] = []
        public var mentions: [String] = []
        public var thread: String?
        public var source: SourceRef?
        public var replyTo: SourceRef?
        // Procedure events:
        public var phase: EventCatalogue.Phase?
        public var reason: String?
        // Disclosures: the exchanges answered.
        public var answers: [SourceRef] = []
        public var disclosureKind: EventCatalogue.DisclosureKind?

        public var isExchange: Bool { type == DomainEventType.exchangeRecorded }
    }

    /// A legal hold (`legal_hold.placed`): while open, no payload in its scope may be redacted.
    public struct Hold: Sendable, Equatable {
        public var id: String
        public var procedure: String?
        public var party: String?
        public var reason: String
        public var placedSeq: UInt64
        public var releasedSeq: UInt64?
        public var isOpen: Bool { releasedSeq == nil }
    }

    public private(set) var lastSeq: UInt64?
    public private(set) var parties: [String: Party] = [:]
    public private(set) var procedures: [String: Procedure] = [:]
    /// Every domain event in seq order, stored compactly (`RecordTable`); each exchange is also found by
    /// its source.
    public private(set) var records = RecordTable()
    /// Redacted entries: target seq → seq of the `redaction.applied`.
    public private(set) var redactions: [UInt64: UInt64] = [:]
    /// Legal holds by id, open or released.
    public private(set) var holds: [String: Hold] = [:]

    public init() {}

    /// Makes room for `count` records, so that rebuilding a log of known size never copies them to grow.
    public mutating func reserveCapacity(records count: Int) { records.reserveCapacity(count) }

    /// Sets the state read back from a snapshot (`DomainSnapshot`).
    mutating func restore(
        lastSeq: UInt64?, parties: [String: Party], procedures: [String: Procedure], records: RecordTable,
        redactions: [UInt64: UInt64],
        holds: [String: Hold]
    ) {
        self.lastSeq = lastSeq
        self.holds = holds
        self.parties = parties
        self.procedures = procedures
        self.records = records
        self.redactions = redactions
    }

    public var entries: UInt64 { lastSeq.map { $0 + 1 } ?? 0 }

    /// The last exchange recorded with `source`.
    public func exchange(_ source: SourceRef) -> Record? { records.exchangeIndex(source).map { records[$0] } }

    public func party(_ id: String) -> Party? { parties[id] }

    /// The organisation `party` acts for (itself if it is one, or unknown).
    public func organisation(of party: String) -> String { parties[party]?.organisation ?? party }

    public func isBuyerSide(_ party: String) -> Bool {
        guard let role = parties[party]?.role else { return false }
        return role == .buyerOrg || role == .buyerAgent
    }

    public func isSupplierSide(_ party: String) -> Bool {
        guard let role = parties[party]?.role else { return false }
        return role == .supplierOrg || role == .supplierContact
    }

    /// The types `apply` reads `data` of; entries of other types only advance `lastSeq`, so a replay
    /// need not decode their `data`.
    public static let domainTypes: Set<String> = Set(EventCatalogue.types.keys).union([LogEventType.redactionApplied])

    public mutating func apply(_ entry: Entry) {
        apply(seq: entry.seq, type: entry.type, time: entry.time, data: EventFields(entry.data))
    }

    /// Applies one entry. Entries must come in seq order, each once; `data` is not read for types not
    /// in `domainTypes`.
    public mutating func apply(seq: UInt64, type: String, time entryTime: Timestamp, data: EventFields) {
        lastSeq = seq
        guard Self.domainTypes.contains(type) else { return }
        func string(_ key: StaticString) -> String? { data.string(key) }
        func time(_ key: StaticString) -> Timestamp? { data.time(key) }
        func strings(_ key: StaticString) -> [String] { data.strings(key) }
        var record = Record(seq: seq, type: type, loggedAt: entryTime, at: entryTime, procedure: string("procedure"))

        switch type {
        case DomainEventType.partyRegistered:
            guard let id = string("party"), let role = string("role").flatMap(EventCatalogue.Role.init(rawValue:))
            else { return }
            parties[id] = Party(id: id, role: role, org: string("org"), timeZone: string("time_zone"), seq: seq)
            record.parties = [id]
        case DomainEventType.procedureOpened:
            guard let ref = string("procedure"),
                let kind = string("kind").flatMap(EventCatalogue.ProcedureKind.init(rawValue:)),
                let buyer = string("buyer")
            else { return }
            procedures[ref] = Procedure(
                ref: ref, kind: kind, buyer: buyer, openedSeq: seq, publishedAt: time("published_at"),
                questionsDeadline: time("questions_deadline"), tenderDeadline: time("tender_deadline"),
                standstillEnd: time("standstill_end"), urgency: data.bool("urgency") == true,
                sourcing: string("sourcing"))
            record.at = time("published_at") ?? entryTime
            record.parties = [buyer]
        case DomainEventType.procedureUpdated:
            guard let ref = string("procedure"), var procedure = procedures[ref] else { return }
            let reason = string("reason") ?? "other"
            record.reason = reason
            let dates: [(StaticString, WritableKeyPath<Procedure, Timestamp?>)] = [
                ("published_at", \.publishedAt), ("questions_deadline", \.questionsDeadline),
                ("tender_deadline", \.tenderDeadline), ("standstill_end", \.standstillEnd),
            ]
            for (field, path) in dates {
                guard let new = time(field) else { continue }
                procedure.dateChanges.append(
                    DateChange(
                        seq: seq, field: field.description, from: procedure[keyPath: path], to: new, reason: reason))
                procedure[keyPath: path] = new
            }
            procedures[ref] = procedure
        case DomainEventType.procedurePhaseChanged:
            guard let ref = string("procedure"),
                let phase = string("phase").flatMap(EventCatalogue.Phase.init(rawValue:))
            else { return }
            record.at = time("effective_at") ?? entryTime
            record.phase = phase
            record.parties = string("awardee").map { [$0] } ?? []
            procedures[ref]?.phases.append(
                PhaseChange(phase: phase, at: record.at, seq: seq, awardee: string("awardee")))
        case DomainEventType.procedureCandidateJoined:
            guard let ref = string("procedure"), let party = string("party") else { return }
            record.at = time("joined_at") ?? entryTime
            record.parties = [party]
            let organisation = organisation(of: party)
            if procedures[ref]?.isCandidate(organisation) == false {
                procedures[ref]?.candidates.append(Candidate(party: organisation, at: record.at, seq: seq))
            }
        case DomainEventType.exchangeRecorded:
            record.at = time("occurred_at") ?? entryTime
            record.channel = string("channel").flatMap(EventCatalogue.Channel.init(rawValue:))
            record.kind = string("kind")
            record.visibility = string("visibility").flatMap(EventCatalogue.Visibility.init(rawValue:))
            record.from = string("from")
            record.to = strings("to")
            record.mentions = strings("mentions")
            record.thread = string("thread")
            record.source = data.source("source")
            record.replyTo = data.source("reply_to")
            record.parties = [record.from].compactMap { $0 } + record.to + record.mentions
        case DomainEventType.disclosurePublished:
            record.at = time("published_at") ?? entryTime
            record.channel = string("channel").flatMap(EventCatalogue.Channel.init(rawValue:))
            record.answers = data.sources("answers")
            record.disclosureKind = string("kind").flatMap(EventCatalogue.DisclosureKind.init(rawValue:)) ?? .answers
        case DomainEventType.exchangeEditedAtSource, DomainEventType.exchangeDeletedAtSource:
            record.at = time("observed_at") ?? entryTime
            record.source = data.source("source")
            record.procedure = record.source.flatMap { exchange($0)?.procedure }
        case DomainEventType.exchangeTagged:
            record.at = time("tagged_at") ?? entryTime
            record.source = data.source("source")
            guard let source = record.source, let ref = record.procedure, let index = records.exchangeIndex(source),
                procedures[ref] != nil
            else { break }
            // The exchange moves to the procedure (out of the one it had), at its place in seq order.
            if let old = records[index].procedure { procedures[old]?.records.removeAll { $0 == UInt32(index) } }
            records.setProcedure(ref, at: index)
            let position =
                procedures[ref]!.records.firstIndex { $0 > UInt32(index) } ?? procedures[ref]!.records.endIndex
            if procedures[ref]!.records.contains(UInt32(index)) == false {
                procedures[ref]!.records.insert(UInt32(index), at: position)
            }
        case DomainEventType.conflictDeclared:
            record.parties = [string("party"), string("counterpart")].compactMap { $0 }
            record.reason = string("nature")
        case LogEventType.redactionApplied:
            if let target = data.uint64("target_seq") { redactions[target] = seq }
            record.reason = string("legal_basis")
        case DomainEventType.legalHoldPlaced, DomainEventType.legalHoldReleased:
            record.parties = string("party").map { [$0] } ?? []
            record.reason = string("reason")
            if let id = string("hold") {
                if type == DomainEventType.legalHoldPlaced {
                    holds[id] = Hold(
                        id: id, procedure: string("procedure"), party: string("party"), reason: string("reason") ?? "",
                        placedSeq: seq)
                } else {
                    holds[id]?.releasedSeq = seq
                }
            }
        default:
            return  // log.created, key.rotated, timestamps, extension types: not domain events
        }
        if let ref = record.procedure { procedures[ref]?.records.append(UInt32(records.count)) }
        records.append(record)
    }

    /// The records naming `party` or, for an organisation, any of its people, in seq order.
    public func records(involving party: String) -> RecordList {
        let organisation = organisation(of: party)
        let isOrganisation = organisation == party
        let positions = records.indices.lazy.map(UInt32.init).filter { index in
            records.names(Int(index)) { $0 == party || (isOrganisation && self.organisation(of: $0) == organisation) }
        }
        return RecordList(table: records, positions: Array(positions))
    }

    /// The records of `procedure`, in seq order, built one at a time as they are read.
    public func records(of procedure: Procedure) -> RecordList {
        RecordList(table: records, positions: procedure.records)
    }

    /// The record of entry `seq`, if it is a domain event.
    public func record(seq: UInt64) -> Record? { records.index(ofSeq: seq).map { records[$0] } }

    /// The open legal holds whose scope covers `record`: its procedure, or a party it names (for a hold on
    /// an organisation, also its people).
    public func openHolds(covering record: Record) -> [Hold] {
        holds.values.filter { hold in
            guard hold.isOpen else { return false }
            if let procedure = hold.procedure, procedure == record.procedure { return true }
            if let party = hold.party, record.parties.contains(where: { $0 == party || organisation(of: $0) == party })
            {
                return true
            }
            return false
        }.sorted { $0.placedSeq < $1.placedSeq }
    }
}
