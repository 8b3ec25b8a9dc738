public import ProbityLog

/// The projections as JSON, as `probity … --json` prints them and `/v1/procedures/…` returns them.
/// Header data only: no payload, so no personal data. Times are UTC (RFC 3339, microseconds).
public enum DomainJSON {
    static func time(_ t: Timestamp?) -> JSONValue { t.map { .string($0.description) } ?? .null }
    static func string(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
    static func seq(_ n: UInt64) -> JSONValue { .number(Double(n)) }
    static func source(_ s: DomainState.SourceRef) -> JSONValue {
        .object(["platform": .string(s.platform), "id": .string(s.id)])
    }

    public static func procedure(_ p: DomainState.Procedure) -> JSONValue {
        .object([
            "procedure": .string(p.ref), "kind": .string(p.kind.rawValue), "buyer": .string(p.buyer),
            "opened_seq": seq(p.openedSeq),
            "published_at": Self.time(p.publishedAt), "questions_deadline": Self.time(p.questionsDeadline),
            "tender_deadline": Self.time(p.tenderDeadline), "standstill_end": Self.time(p.standstillEnd),
            "urgency": .bool(p.urgency), "sourcing": string(p.sourcing),
            "phase": string(p.currentPhase?.rawValue),
            "phases": .array(
                p.phases.map {
                    .object([
                        "phase": .string($0.phase.rawValue), "at": Self.time($0.at), "seq": seq($0.seq),
                        "awardee": string($0.awardee),
                    ])
                }),
            "candidates": .array(
                p.candidates.map { .object(["party": .string($0.party), "at": Self.time($0.at), "seq": seq($0.seq)]) }),
            "date_changes": .array(
                p.dateChanges.map {
                    .object([
                        "seq": seq($0.seq), "field": .string($0.field), "from": Self.time($0.from),
                        "to": Self.time($0.to), "reason": .string($0.reason),
                    ])
                }),
            "entries": .number(Double(p.records.count)),
        ])
    }

    public static func record(_ r: DomainState.Record, redactedBy: UInt64? = nil) -> JSONValue {
        var members: [String: JSONValue] = [
            "seq": seq(r.seq), "type": .string(r.type), "at": time(r.at), "logged_at": time(r.loggedAt),
            "procedure": string(r.procedure),
        ]
        if !r.parties.isEmpty { members["parties"] = .array(r.parties.map(JSONValue.string)) }
        if let channel = r.channel { members["channel"] = .string(channel.rawValue) }
        if let kind = r.kind { members["kind"] = .string(kind) }
        if let visibility = r.visibility { members["visibility"] = .string(visibility.rawValue) }
        if let from = r.from { members["from"] = .string(from) }
        if r.isExchange { members["to"] = .array(r.to.map(JSONValue.string)) }
        if !r.mentions.isEmpty { members["mentions"] = .array(r.mentions.map(JSONValue.string)) }
        if let source = r.source { members["source"] = Self.source(source) }
        if let replyTo = r.replyTo { members["reply_to"] = Self.source(replyTo) }
        if let phase = r.phase { members["phase"] = .string(phase.rawValue) }
        if let reason = r.reason { members["reason"] = .string(reason) }
        if !r.answers.isEmpty { members["answers"] = .array(r.answers.map(Self.source)) }
        if let kind = r.disclosureKind { members["disclosure_kind"] = .string(kind.rawValue) }
        if let redactedBy { members["redacted_by"] = seq(redactedBy) }
        return .object(members)
    }

    public static func coverage(_ c: QuestionCoverage) -> JSONValue {
        .object([
            "question": seq(c.question.seq), "asked_by": string(c.question.from), "asked_at": time(c.question.at),
            "channel": string(c.question.channel?.rawValue), "status": .string(c.status.rawValue),
            "answers": .array(
                c.answers.map {
                    .object([
                        "seq": seq($0.seq), "from": string($0.from), "to": .array($0.to.map(JSONValue.string)),
                        "at": time($0.at),
                        "visibility": string($0.visibility?.rawValue), "channel": string($0.channel?.rawValue),
                    ])
                }),
            "disclosures": .array(c.disclosures.map { .object(["seq": seq($0.seq), "published_at": time($0.at)]) }),
        ])
    }
}
