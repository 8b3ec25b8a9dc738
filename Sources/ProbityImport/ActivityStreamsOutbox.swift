import ProbityDomain
import ProbityLog

/// An ActivityStreams 2.0 / ActivityPub outbox (Mastodon's `outbox.json` in its archive): an
/// `OrderedCollection` whose `orderedItems` are activities. Each `Create` of a `Note` is a message;
/// boosts (`Announce`) and other activities are not. Visibility comes from the addressing (docs/EVENTS.md, "Importing platform exports"):
/// the Public collection in `to` → public, in `cc` → unlisted, the author's followers collection →
/// restricted, only mentioned accounts → direct.
public enum ActivityStreamsOutbox {
    public static let platform = "mastodon"
    static let publicCollection: Set<String> = ["https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"]

    public static func read(_ bytes: [UInt8]) throws(ImportFormatError) -> ImportResult {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch {
            throw ImportFormatError("not JSON: line \(error.line), column \(error.column): \(error.message)")
        }
        guard case .array(let items)? = value["orderedItems"] ?? value["items"] else {
            throw ImportFormatError(
                "not an ActivityStreams collection: no orderedItems (expected the archive's outbox.json)")
        }
        var result = ImportResult()
        for (index, item) in items.enumerated() {
            let position = index + 1
            guard item["type"]?.stringValue == "Create" else { continue }
            guard case .object(let note)? = item["object"],
                ["Note", "Article", "Question"].contains(note["type"]?.stringValue ?? "")
            else {
                result.rejections.append(
                    ImportRejection(position: position, reason: "a Create whose object is not an embedded Note"));
                continue
            }
            guard let id = note["id"]?.stringValue, !id.isEmpty else {
                result.rejections.append(ImportRejection(position: position, reason: "the Note has no id")); continue
            }
            guard let published = (note["published"] ?? item["published"])?.stringValue,
                Timestamp(rfc3339: published) != nil
            else {
                result.rejections.append(
                    ImportRejection(position: position, reason: "\(id): published is missing or not an RFC 3339 time"));
                continue
            }
            guard let actor = (note["attributedTo"] ?? item["actor"])?.stringValue else {
                result.rejections.append(
                    ImportRejection(position: position, reason: "\(id): no actor or attributedTo"));
                continue
            }
            let to = strings(note["to"] ?? item["to"]), cc = strings(note["cc"] ?? item["cc"])
            var mentions: [ImportedMessage.Account] = []
            for tag in note["tag"]?.arrayValue ?? [] where tag["type"]?.stringValue == "Mention" {
                if let href = tag["href"]?.stringValue {
                    mentions.append(.init(name: tag["name"]?.stringValue, id: href))
                }
            }
            // Addressees that are accounts, not collections, and not already among the mentions.
            let collections = publicCollection.union([actor + "/followers"])
            for address in to + cc
            where !collections.contains(address) && !mentions.contains(where: { $0.id == address }) {
                mentions.append(.init(name: nil, id: address))
            }
            var message = ImportedMessage(
                platform: platform, sourceID: id,
                conversation: note["conversation"]?.stringValue ?? note["context"]?.stringValue,
                from: .init(name: nil, id: actor), to: mentions, occurredAt: published,
                subject: note["summary"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 },
                text: HTMLText.plain(note["content"]?.stringValue ?? ""), position: position, raw: note)
            message.visibility = visibility(to: to, cc: cc, actor: actor)
            result.messages.append(message)
        }
        return result
    }

    static func strings(_ value: JSONValue?) -> [String] {
        switch value {
        case .string(let s)?: return [s]
        case .array(let items)?: return items.compactMap(\.stringValue)
        default: return []
        }
    }

    static func visibility(to: [String], cc: [String], actor: String) -> String {
        if to.contains(where: publicCollection.contains) { return "public" }
        if cc.contains(where: publicCollection.contains) { return "unlisted" }
        if (to + cc).contains(where: { $0.hasSuffix("/followers") }) { return "restricted" }
        return "direct"
    }
}

/// The text of the small HTML Mastodon writes (`<p>`, `<br>`, links, mentions): tags dropped, paragraphs
/// and line breaks kept as newlines, entities decoded.
enum HTMLText {
    static func plain(_ html: String) -> String {
        var out = ""
        var tag = ""
        var inTag = false
        for c in html {
            if inTag {
                if c == ">" {
                    inTag = false
                    let name =
                        tag.lowercased().split(whereSeparator: { $0 == " " || $0 == "/" }).first.map(String.init) ?? ""
                    if name == "br" || (tag.hasPrefix("/") && tag.lowercased().hasPrefix("/p")) { out += "\n" }
                    tag = ""
                } else {
                    tag.append(c)
                }
            } else if c == "<" {
                inTag = true
            } else {
                out.append(c)
            }
        }
        return decodeEntities(out).trimmingSpaces()
    }

    static let named: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{A0}",
    ]

    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var out = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            let after = rest[rest.index(after: amp)...]
            if let semi = after.prefix(10).firstIndex(of: ";") {
                let name = String(after[..<semi])
                var decoded: String?
                if name.hasPrefix("#x") || name.hasPrefix("#X") {
                    decoded = UInt32(name.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map { String($0) }
                } else if name.hasPrefix("#") {
                    decoded = UInt32(name.dropFirst()).flatMap(Unicode.Scalar.init).map { String($0) }
                } else {
                    decoded = named[name]
                }
                if let decoded {
                    out += decoded
                    rest = after[after.index(after: semi)...]
                    continue
                }
            }
            out += "&"
            rest = after
        }
        return out + rest
    }
}
