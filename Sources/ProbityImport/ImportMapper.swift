import Foundation
public import ProbityDomain
public import ProbityLog

/// Which party each platform account is: the mapping file `probity import --mapping` reads.
///
/// ```json
/// {"accounts": {"https://www.linkedin.com/in/claire-durand-achats": "agent-durand",
///               "claire.durand@ville-exemple.fr": "agent-durand", "x:1620000000000000002": "agent-durand"},
///  "names": {"Claire Durand": "agent-durand"},
///  "buyers": ["agent-durand", "org-ville-exemple"]}
/// ```
/// `accounts` keys are what the export gives (profile URL, e-mail address, user id), optionally
/// prefixed with the platform (`x:…`) where ids could collide; `names` serve accounts the export names
/// without an id (older LinkedIn exports); `buyers` are the buyer's parties, whose messages are outbound.
public struct PartyMapping: Sendable {
    public var accounts: [String: String] = [:]
    public var names: [String: String] = [:]
    public var buyers: Set<String> = []

    public init() {}

    public init(json bytes: [UInt8], file: String) throws(ImportFormatError) {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch {
            throw ImportFormatError(
                "\(file): invalid JSON at line \(error.line), column \(error.column): \(error.message)")
        }
        guard case .object(let members) = value else {
            throw ImportFormatError("\(file): the mapping must be a JSON object")
        }
        for key in members.keys where !["accounts", "names", "buyers"].contains(key) {
            throw ImportFormatError(
                "\(file): unknown member \"\(key)\"; a mapping has \"accounts\", \"names\" and \"buyers\"")
        }
        for key in ["accounts", "names"] {
            guard let table = members[key] else { continue }
            guard case .object(let pairs) = table else {
                throw ImportFormatError("\(file): \"\(key)\" must be an object of account → party id")
            }
            for (account, party) in pairs {
                guard let id = party.stringValue, !id.isEmpty else {
                    throw ImportFormatError("\(file): \(key)[\"\(account)\"] must be a party id (a non-empty string)")
                }
                if key == "accounts" { accounts[account.lowercased()] = id } else { names[account] = id }
            }
        }
        if let list = members["buyers"] {
            guard case .array(let items) = list, items.allSatisfy({ $0.stringValue != nil }) else {
                throw ImportFormatError("\(file): \"buyers\" must be an array of party ids")
            }
            buyers = Set(items.compactMap(\.stringValue))
        }
    }

    public func party(for account: ImportedMessage.Account, platform: String) -> String? {
        if let id = account.id?.lowercased() {
            if let party = accounts["\(platform):\(id)"] ?? accounts[id] { return party }
        }
        return account.name.flatMap { names[$0] }
    }
}

/// An account the mapping does not know, where it was first seen, and the party id `--register` gives it.
public struct UnmappedAccount: Sendable, Equatable {
    public let platform: String
    public let account: ImportedMessage.Account
    public let firstPosition: Int
    public let proposedParty: String
}

/// Imported messages turned into events: `exchange.recorded` per message, with the original record in
/// the payload (personal data in payloads only: docs/FORMATS.md), and `party.registered` for unmapped
/// accounts when asked to register them.
public struct ImportPlan: Sendable {
    public var events: [EventInput] = []
    /// The position in the file of each event (nil for registrations).
    public var positions: [Int?] = []
    public var unmapped: [UnmappedAccount] = []
    public var rejections: [ImportRejection] = []
}

public enum ImportMapper {
    /// `register`: the role given to unmapped accounts, which are then registered as parties; nil to
    /// reject their messages (and list the accounts). `isRegistered` tells a party the log already has
    /// (an earlier import registered it), which is used rather than registered again.
    ///
    /// Live capture passes `tag`, which names each message's procedure from its parties (sender first)
    /// when `procedure` is nil, and `extraPayload`, which adds to each exchange's payload (the raw message).
    public static func plan(
        _ result: ImportResult, procedure: String?, mapping: PartyMapping, register role: String?, capturedAt: String,
        isRegistered: (String) throws -> Bool = { _ in false },
        tag: (ImportedMessage, [String]) -> String? = { _, _ in nil },
        extraPayload: (ImportedMessage) -> [String: JSONValue] = { _ in [:] }
    ) rethrows -> ImportPlan {
        var plan = ImportPlan()
        plan.rejections = result.rejections
        // Parties are resolved in order (a registration comes before the first exchange that names it);
        // the exchanges' events, most of the work (their data and payload encoded canonically), are built
        // afterwards on every core. `slots` holds the events in order, exchanges once built.
        var slots: [EventInput?] = []
        var drafts: [Draft] = []
        var mapping = mapping
        var unmappedKeys: Set<String> = []
        func party(_ account: ImportedMessage.Account, _ platform: String, _ position: Int) throws -> String? {
            if let known = mapping.party(for: account, platform: platform) { return known }
            let key = "\(platform)|\(account.id ?? "")|\(account.name ?? "")"
            let proposed = partyID(for: account, platform: platform)
            if !unmappedKeys.contains(key) {
                unmappedKeys.insert(key)
                plan.unmapped.append(
                    UnmappedAccount(
                        platform: platform, account: account, firstPosition: position, proposedParty: proposed))
                if let role, try !isRegistered(proposed) {
                    var payload: [String: JSONValue] = [
                        "handles": .object([platform: account.id.map { .string($0) } ?? .null])
                    ]
                    if let name = account.name { payload["name"] = .string(name) }
                    slots.append(
                        EventInput(
                            type: DomainEventType.partyRegistered,
                            data: ["party": .string(proposed), "role": .string(role)],
                            payload: .object(payload)))
                    plan.positions.append(nil)
                }
            }
            guard role != nil else { return nil }
            if let id = account.id {
                mapping.accounts["\(platform):\(id.lowercased())"] = proposed
            } else if let name = account.name {
                mapping.names[name] = proposed
            }
            return proposed
        }
        for (index, message) in result.messages.enumerated() {
            let sender = try party(message.from, message.platform, message.position)
            let recipients = try message.to.map { try party($0, message.platform, message.position) }
            guard let from = sender else {
                plan.rejections.append(
                    ImportRejection(
                        position: message.position,
                        reason:
                            "the sender \(describe(message.from)) is not mapped to a party (add it to the mapping, or use --register)"
                    ))
                continue
            }
            if let missing = zip(message.to, recipients).first(where: { $0.1 == nil }) {
                plan.rejections.append(
                    ImportRejection(
                        position: message.position,
                        reason:
                            "the recipient \(describe(missing.0)) is not mapped to a party (add it to the mapping, or use --register)"
                    ))
                continue
            }
            let to = recipients.compactMap { $0 }
            drafts.append(
                Draft(
                    slot: slots.count, message: index, from: from, to: to,
                    procedure: procedure ?? tag(message, [from] + to), extraPayload: extraPayload(message)))
            slots.append(nil)
            plan.positions.append(message.position)
        }
        let built = events(for: drafts, of: result.messages, buyers: mapping.buyers, capturedAt: capturedAt)
        for (draft, event) in zip(drafts, built) { slots[draft.slot] = event }
        plan.events = slots.map { $0! }
        return plan
    }

    /// An exchange whose parties are known, waiting to be built into its event.
    struct Draft: Sendable {
        let slot: Int
        /// Its index in the messages read.
        let message: Int
        let from: String
        let to: [String]
        let procedure: String?
        let extraPayload: [String: JSONValue]
    }

    /// The drafts' events, in their order, built on every core (each event is independent of the others).
    static func events(
        for drafts: [Draft], of messages: [ImportedMessage], buyers: Set<String>, capturedAt: String
    ) -> [EventInput] {
        @Sendable func build(_ d: Draft) -> EventInput {
            event(
                for: messages[d.message], from: d.from, to: d.to, procedure: d.procedure, buyers: buyers,
                capturedAt: capturedAt, extraPayload: d.extraPayload)
        }
        let workers = min(ProcessInfo.processInfo.activeProcessorCount, drafts.count / 512)
        guard workers > 1 else { return drafts.map(build) }
        var built = [EventInput?](repeating: nil, count: drafts.count)
        built.withUnsafeMutableBufferPointer { output in
            // Each worker writes its own indices only.
            nonisolated(unsafe) let output = output
            let per = (drafts.count + workers - 1) / workers
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                for i in (w * per)..<min(drafts.count, (w + 1) * per) { output[i] = build(drafts[i]) }
            }
        }
        return built.map { $0! }
    }

    static func event(
        for message: ImportedMessage, from: String, to: [String], procedure: String?, buyers: Set<String>,
        capturedAt: String, extraPayload: [String: JSONValue] = [:]
    ) -> EventInput {
        let replyTo = message.raw["inReplyTo"]?.stringValue ?? message.raw["in-reply-to"]?.stringValue
        let visibility: String
        switch message.visibility {
        case "public"?, "unlisted"?: visibility = "public"
        case "restricted"?: visibility = "restricted"
        case "direct"?: visibility = "direct"
        default: visibility = to.count > 1 ? "restricted" : "direct"
        }
        let kind = visibility == "public" ? (replyTo == nil ? "post" : "reply") : (replyTo == nil ? "message" : "reply")
        var data: [String: JSONValue] = [
            "channel": .string(message.platform), "kind": .string(kind), "visibility": .string(visibility),
            "direction": .string(buyers.contains(from) ? "outbound" : "inbound"),
            "from": .string(from), "to": .array(to.map { .string($0) }),
            "source": .object(["platform": .string(message.platform), "id": .string(message.sourceID)]),
            "occurred_at": .string(message.occurredAt), "captured_at": .string(capturedAt),
        ]
        if let procedure { data["procedure"] = .string(procedure) }
        if let thread = message.conversation { data["thread"] = .string(thread) }
        if let attachments = message.raw["attachments"]?.arrayValue, !attachments.isEmpty {
            // Attachment digests are not personal data; their names are, and stay in the payload.
            data["attachments"] = .array(
                attachments.map {
                    .object([
                        "sha256": $0["sha256"] ?? .null, "size": $0["size"] ?? .null,
                        "media_type": $0["media_type"] ?? .null,
                    ])
                })
        }
        var payload: [String: JSONValue] = ["text": .string(message.text), "record": .object(message.raw)]
        if let subject = message.subject { payload["subject"] = .string(subject) }
        if let name = message.from.name { payload["from_name"] = .string(name) }
        payload.merge(extraPayload) { $1 }
        return EventInput(type: DomainEventType.exchangeRecorded, data: data, payload: .object(payload))
    }

    /// An account as reports name it: `Name <id>`, the id, or the quoted name.
    public static func describe(_ account: ImportedMessage.Account) -> String {
        switch (account.name, account.id) {
        case let (name?, id?): return "\(name) <\(id)>"
        case let (nil, id?): return id
        case let (name?, nil): return "\"\(name)\" (no id in the export)"
        default: return "(unnamed)"
        }
    }

    /// A readable party id from the account: `linkedin-jean-martin-voirie`, `email-contact.martin-voirie-sud.fr`.
    static func partyID(for account: ImportedMessage.Account, platform: String) -> String {
        var basis = account.id ?? account.name ?? "unknown"
        if basis.hasPrefix("http"), let last = basis.split(separator: "/").last { basis = String(last) }
        let slug = basis.lowercased().unicodeScalars.map {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "." ? Character($0) : "-"
        }
        return "\(platform)-" + String(slug).split(separator: "-").joined(separator: "-")
    }
}
