import Foundation
public import ProbityLog

/// Which payloads are past their retention period (GDPR storage limitation): a procedure's documents are
/// kept `years` after the contract's signature, `worksYears` for works contracts. The signature date is
/// the `awarded` phase's effective date (the contract is signed and notified then); a sourcing procedure's
/// documents follow the first procedure opened from it that was awarded. Pure: it plans, it
/// never deletes — `probity redact` does, one entry at a time, for what a person decides to erase.
public struct RetentionPlan: Sendable {
    public struct Policy: Sendable {
        public var years: Int
        public var worksYears: Int
        public init(years: Int = 5, worksYears: Int = 10) { self.years = years; self.worksYears = worksYears }
    }

    public enum Status: Sendable, Equatable {
        /// The retention period ended at this time: the payload may be redacted.
        case due(since: Timestamp)
        /// Kept until this time.
        case kept(until: Timestamp)
        /// An open legal hold covers it.
        case held(hold: String)
        /// The rule cannot be applied; says why (no procedure, procedure not awarded…).
        case undetermined(String)
    }

    public struct Item: Sendable {
        public let seq: UInt64
        public let type: String
        public let procedure: String?
        public let status: Status
    }

    public let asOf: Timestamp
    public let items: [Item]

    /// `payloadSeqs`: the entries whose payload is still stored; `contractTypes`: each procedure's
    /// `contract_type`, where its `procedure.opened` gives one.
    public init(
        state: DomainState, payloadSeqs: [UInt64], contractTypes: [String: EventCatalogue.ContractType],
        policy: Policy, asOf: Timestamp
    ) {
        self.asOf = asOf
        items = payloadSeqs.sorted().compactMap { seq -> Item? in
            // Not a domain event (a timestamp token): kept.
            guard let record = state.record(seq: seq) else { return nil }
            let status: Status
            if let hold = state.openHolds(covering: record).first {
                status = .held(hold: hold.id)
            } else if let ref = record.procedure, let procedure = state.procedures[ref] {
                // A sourcing procedure's documents belong to the procedures that follow it.
                let governing = [procedure] + state.procedures.values.filter { $0.sourcing == ref }
                let signatures = governing.compactMap { p in
                    p.phases.filter { $0.phase == .awarded }.map(\.at).min().map { (p.ref, $0) }
                }
                if let (signedRef, signed) = signatures.min(by: { $0.1 < $1.1 }) {
                    let works = contractTypes[signedRef] == .works
                    let end = Self.adding(years: works ? policy.worksYears : policy.years, to: signed)
                    status = end <= asOf ? .due(since: end) : .kept(until: end)
                } else if procedure.currentPhase == .cancelled {
                    status = .undetermined("procedure \(ref) was cancelled: no contract signature to count from")
                } else {
                    status = .undetermined("procedure \(ref) is not awarded yet: its retention has not started")
                }
            } else {
                status = .undetermined("not tied to a procedure: decide case by case")
            }
            return Item(seq: seq, type: record.type, procedure: record.procedure, status: status)
        }
    }

    static func adding(years: Int, to time: Timestamp) -> Timestamp {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let date = Date(timeIntervalSince1970: Double(time.microseconds) / 1_000_000)
        let later = calendar.date(byAdding: .year, value: years, to: date) ?? date
        return Timestamp(microsecondsSinceEpoch: Int64((later.timeIntervalSince1970 * 1_000_000).rounded()))
    }
}
