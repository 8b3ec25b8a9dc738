import ProbityDomain
import ProbityLog

/// The X (Twitter) archive's `data/direct-messages.js`: JavaScript that assigns a JSON array,
/// `window.YTD.direct_messages.part0 = [ … ]`. Each element is a `dmConversation` with its
/// `conversationId` and `messages`; a message is `{"messageCreate": {id, senderId, recipientId, text,
/// createdAt, …}}` (other entries — joins, leaves, reactions — are not messages and are skipped).
/// Accounts are numeric user ids: the archive names only the owner.
public enum XDirectMessages {
    public static let platform = "x"

    public static func read(_ bytes: [UInt8]) throws(ImportFormatError) -> ImportResult {
        guard let open = bytes.firstIndex(of: UInt8(ascii: "[")) else {
            throw ImportFormatError(
                "no JSON array: expected the archive's direct-messages.js (window.YTD.direct_messages.part0 = [ … ])")
        }
        let prefix = String(decoding: bytes[..<open], as: UTF8.self).trimmingSpaces()
        guard prefix.isEmpty || (prefix.hasPrefix("window.YTD.") && prefix.hasSuffix("=")) else {
            throw ImportFormatError("the file starts with \"\(prefix.prefix(40))\", not window.YTD.<name> = [")
        }
        let value: JSONValue
        do { value = try JSONParser.parse(bytes[open...]) } catch {
            throw ImportFormatError(
                "invalid JSON after the window.YTD prefix: line \(error.line), column \(error.column): \(error.message)"
            )
        }
        guard case .array(let conversations) = value else {
            throw ImportFormatError("the archive's value is not an array")
        }
        var result = ImportResult()
        var position = 0
        for conversation in conversations {
            guard case .object(let dm)? = conversation["dmConversation"] else {
                position += 1
                result.rejections.append(ImportRejection(position: position, reason: "not a dmConversation"))
                continue
            }
            let conversationID = dm["conversationId"]?.stringValue
            for message in dm["messages"]?.arrayValue ?? [] {
                guard case .object(let create)? = message["messageCreate"] else { continue }
                position += 1
                guard let id = create["id"]?.stringValue, !id.isEmpty else {
                    result.rejections.append(ImportRejection(position: position, reason: "messageCreate has no id"));
                    continue
                }
                guard let sender = create["senderId"]?.stringValue, let recipient = create["recipientId"]?.stringValue
                else {
                    result.rejections.append(
                        ImportRejection(position: position, reason: "message \(id) lacks senderId or recipientId"));
                    continue
                }
                guard let created = create["createdAt"]?.stringValue, Timestamp(rfc3339: created) != nil else {
                    result.rejections.append(
                        ImportRejection(position: position, reason: "message \(id): createdAt is not an RFC 3339 time"));
                    continue
                }
                result.messages.append(
                    ImportedMessage(
                        platform: platform, sourceID: id, conversation: conversationID,
                        from: .init(name: nil, id: sender), to: [.init(name: nil, id: recipient)], occurredAt: created,
                        subject: nil, text: create["text"]?.stringValue ?? "", position: position, raw: create))
            }
        }
        return result
    }
}
