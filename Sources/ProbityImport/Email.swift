import Foundation
import ProbityDomain
import ProbityLog

/// RFC 5322 messages (`.eml`) and mbox files, with the MIME an auditor meets in practice: multipart
/// bodies with attachments, quoted-printable and base64 transfer encodings, RFC 2047 encoded words in
/// headers, UTF-8 and Latin-1 text. The source id is the Message-ID; the thread is the first of
/// References (or In-Reply-To).
public enum Email {
    public static let platform = "email"

    /// One `.eml` file.
    public static func readMessage(_ bytes: [UInt8]) throws(ImportFormatError) -> ImportResult {
        var result = ImportResult()
        switch parse(bytes[...], position: 1) {
        case .success(let message): result.messages.append(message)
        case .failure(let rejection): throw ImportFormatError("not an e-mail message: \(rejection.reason)")
        }
        return result
    }

    /// An mbox file (mboxrd or mboxo): messages begin at a line starting with "From " after a blank
    /// line (or at the start); a body line escaped as ">From " is restored.
    public static func readMailbox(_ bytes: [UInt8]) throws(ImportFormatError) -> ImportResult {
        guard bytes.starts(with: Array("From ".utf8)) else {
            throw ImportFormatError("not an mbox file: it must start with a \"From \" separator line")
        }
        var result = ImportResult()
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)[...]
        if lines.last?.isEmpty == true { lines = lines.dropLast() }
        var current: [ArraySlice<UInt8>] = []
        var position = 0
        var previousBlank = true
        func flush() {
            guard position > 0 else { return }
            var message: [UInt8] = []
            for line in current { message += line; message.append(0x0A) }
            switch parse(message[...], position: position) {
            case .success(let m): result.messages.append(m)
            case .failure(let rejection): result.rejections.append(rejection)
            }
            current = []
        }
        for line in lines {
            let text = line.last == 0x0D ? line.dropLast() : line
            if previousBlank && text.starts(with: Array("From ".utf8)) {
                if !current.isEmpty, current.last?.isEmpty == true || current.last == [0x0D] { current.removeLast() }
                flush()
                position += 1
                previousBlank = false
                continue
            }
            // mboxrd: one ">" is removed from lines of the form >+From.
            var unescaped = line
            if let first = line.firstIndex(where: { $0 != UInt8(ascii: ">") }), first > line.startIndex,
                line[first...].starts(with: Array("From ".utf8))
            {
                unescaped = line.dropFirst()
            }
            current.append(unescaped)
            previousBlank = text.isEmpty
        }
        flush()
        return result
    }

    // MARK: Message

    struct Part {
        var headers: [(name: String, value: String)]
        var body: ArraySlice<UInt8>

        func header(_ name: String) -> String? {
            let lower = name.lowercased()
            return headers.first { $0.name == lower }?.value
        }
    }

    static func parse(_ bytes: ArraySlice<UInt8>, position: Int) -> Result<ImportedMessage, ImportRejection> {
        let part = splitHeaders(bytes)
        guard !part.headers.isEmpty else {
            return .failure(ImportRejection(position: position, reason: "no header lines"))
        }
        guard let fromHeader = part.header("from"), let from = addresses(decodeWords(fromHeader)).first else {
            return .failure(ImportRejection(position: position, reason: "no From header"))
        }
        guard let dateHeader = part.header("date"), let date = utcDate(dateHeader) else {
            return .failure(
                ImportRejection(
                    position: position,
                    reason: "Date \"\(part.header("date") ?? "")\" is missing or not an RFC 5322 date"))
        }
        let to = addresses(decodeWords(part.header("to") ?? "")) + addresses(decodeWords(part.header("cc") ?? ""))
        var text: String?
        var html: String?
        var attachments: [JSONValue] = []
        do { try collect(part, depth: 1, text: &text, html: &html, attachments: &attachments) } catch {
            return .failure(
                ImportRejection(position: position, reason: "MIME parts nested deeper than \(maxNesting) levels"))
        }
        let messageID = part.header("message-id")?.trimmingSpaces()
        let references = (part.header("references") ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" }).map(
            String.init)
        let inReplyTo = part.header("in-reply-to")?.trimmingSpaces()
        var raw: [String: JSONValue] = [:]
        for (name, value) in part.headers where raw[name] == nil { raw[name] = .string(value) }
        if !attachments.isEmpty { raw["attachments"] = .array(attachments) }
        let id = messageID.flatMap { $0.isEmpty ? nil : $0 } ?? contentID(bytes)
        return .success(
            ImportedMessage(
                platform: platform, sourceID: id, conversation: references.first ?? inReplyTo,
                from: from, to: to, occurredAt: date, subject: part.header("subject").map(decodeWords),
                text: text ?? html.map(HTMLText.plain) ?? "", position: position, raw: raw))
    }

    /// Header fields that mail tools add or rewrite on the way (delivery, sync, mailbox flags): left out
    /// of a message's content id, so that a copy synced again (mbsync adds a fresh `X-TUID`) or delivered
    /// by another path is the same message.
    static let transitFields: Set<String> = [
        "received", "return-path", "delivered-to", "x-tuid", "status", "x-status", "x-keywords", "x-uid",
        "content-length", "lines", "x-original-to",
    ]

    /// The source id of a message without a Message-ID: `sha256:` and the first 16 bytes (hex) of the
    /// SHA-256 of its header lines other than `transitFields` and its body, line endings as LF.
    static func contentID(_ bytes: ArraySlice<UInt8>) -> String {
        var kept: [UInt8] = []
        kept.reserveCapacity(bytes.count)
        var inHeader = true
        var skipping = false
        for var line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            if line.last == 0x0D { line = line.dropLast() }
            if inHeader {
                if line.isEmpty {
                    inHeader = false
                } else if line.first == 0x20 || line.first == 0x09 {
                    if skipping { continue }  // a folded continuation of a left-out field
                } else {
                    let name = String(decoding: line.prefix { $0 != UInt8(ascii: ":") }, as: UTF8.self)
                    skipping = transitFields.contains(name.lowercased().trimmingSpaces())
                    if skipping { continue }
                }
            }
            kept += line
            kept.append(0x0A)
        }
        return "sha256:" + Hex.encode(Array(SHA256.hash(kept).prefix(16)))
    }

    /// Headers (unfolded, names lowercased) and the body after the first blank line.
    static func splitHeaders(_ bytes: ArraySlice<UInt8>) -> Part {
        var headers: [(String, String)] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let end = bytes[index...].firstIndex(of: 0x0A) ?? bytes.endIndex
            var line = bytes[index..<end]
            if line.last == 0x0D { line = line.dropLast() }
            index = end < bytes.endIndex ? end + 1 : end
            if line.isEmpty { break }
            let text = String(decoding: line, as: UTF8.self)
            if line.first == 0x20 || line.first == 0x09 {
                if !headers.isEmpty { headers[headers.count - 1].1 += " " + text.trimmingSpaces() }
            } else if let colon = text.firstIndex(of: ":") {
                headers.append(
                    (text[..<colon].lowercased().trimmingSpaces(), text[text.index(after: colon)...].trimmingSpaces()))
            }
        }
        return Part(headers: headers, body: bytes[index...])
    }

    /// How deep multipart parts may nest. Each level rescans its body, so the bound keeps the walk linear in
    /// the message's size and its recursion shallow; real mail nests a handful of levels.
    static let maxNesting = 32

    struct TooDeep: Error {}

    /// Walks a MIME tree: the first text/plain and text/html bodies, and every attachment's name, type,
    /// size and SHA-256. Throws `TooDeep` past `maxNesting` levels.
    static func collect(
        _ part: Part, depth: Int, text: inout String?, html: inout String?, attachments: inout [JSONValue]
    ) throws(TooDeep) {
        let (type, parameters) = contentType(part.header("content-type") ?? "text/plain")
        if type.hasPrefix("multipart/"), let boundary = parameters["boundary"] {
            guard depth < maxNesting else { throw TooDeep() }
            for child in multipartBodies(part.body, boundary: boundary) {
                try collect(splitHeaders(child), depth: depth + 1, text: &text, html: &html, attachments: &attachments)
            }
            return
        }
        let decoded = decodeTransfer(part.body, encoding: part.header("content-transfer-encoding") ?? "7bit")
        let disposition = part.header("content-disposition").map(contentType)
        let filename = disposition?.1["filename"] ?? parameters["name"]
        if disposition?.0 == "attachment" || filename != nil || !type.hasPrefix("text/") {
            attachments.append(
                .object([
                    "filename": filename.map { .string(decodeWords($0)) } ?? .null, "media_type": .string(type),
                    "size": .number(Double(decoded.count)), "sha256": .string(Hex.encode(SHA256.hash(decoded))),
                ]))
            return
        }
        let body = decodeCharset(decoded, charset: parameters["charset"] ?? "us-ascii")
        if type == "text/html" { if html == nil { html = body } } else if text == nil { text = body.trimmingSpaces() }
    }

    /// `type/subtype; name=value; name="quoted value"` → lowercased type and parameters.
    static func contentType(_ value: String) -> (String, [String: String]) {
        var parts = splitOutsideQuotes(value, separator: ";")
        let type = parts.isEmpty ? "" : parts.removeFirst().trimmingSpaces().lowercased()
        var parameters: [String: String] = [:]
        for part in parts {
            guard let equals = part.firstIndex(of: "=") else { continue }
            var v = part[part.index(after: equals)...].trimmingSpaces()
            if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = String(v.dropFirst().dropLast()) }
            parameters[part[..<equals].trimmingSpaces().lowercased()] = v
        }
        return (type, parameters)
    }

    static func multipartBodies(_ body: ArraySlice<UInt8>, boundary: String) -> [ArraySlice<UInt8>] {
        let delimiter = Array("--\(boundary)".utf8)
        var parts: [ArraySlice<UInt8>] = []
        var start: ArraySlice<UInt8>.Index?
        var index = body.startIndex
        while index < body.endIndex {
            let end = body[index...].firstIndex(of: 0x0A) ?? body.endIndex
            let line = body[index..<end]
            if line.starts(with: delimiter) {
                if let s = start {
                    var partEnd = index
                    // The line break before a delimiter belongs to the delimiter.
                    if partEnd > s, body[partEnd - 1] == 0x0A { partEnd -= 1 }
                    if partEnd > s, body[partEnd - 1] == 0x0D { partEnd -= 1 }
                    parts.append(body[s..<partEnd])
                }
                if line.dropFirst(delimiter.count).starts(with: Array("--".utf8)) { return parts }
                start = end < body.endIndex ? end + 1 : end
            }
            index = end < body.endIndex ? end + 1 : end
        }
        return parts
    }

    static func decodeTransfer(_ body: ArraySlice<UInt8>, encoding: String) -> [UInt8] {
        switch encoding.lowercased().trimmingSpaces() {
        case "base64":
            let clean = body.filter { !($0 == 0x0A || $0 == 0x0D || $0 == 0x20 || $0 == 0x09) }
            return Base64.decode(String(decoding: clean, as: UTF8.self)) ?? Array(body)
        case "quoted-printable":
            return quotedPrintable(body, underscoreIsSpace: false)
        default:
            return Array(body)
        }
    }

    static func quotedPrintable(_ bytes: ArraySlice<UInt8>, underscoreIsSpace: Bool) -> [UInt8] {
        var out: [UInt8] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "=") {
                let rest = bytes[(index + 1)...]
                if rest.first == 0x0A { index += 2; continue }  // soft line break
                if rest.starts(with: [0x0D, 0x0A]) { index += 3; continue }
                if rest.count >= 2, let value = UInt8(String(decoding: rest.prefix(2), as: UTF8.self), radix: 16) {
                    out.append(value); index += 3; continue
                }
            }
            out.append(underscoreIsSpace && byte == UInt8(ascii: "_") ? 0x20 : byte)
            index += 1
        }
        return out
    }

    static func decodeCharset(_ bytes: [UInt8], charset: String) -> String {
        switch charset.lowercased() {
        case "iso-8859-1", "latin1", "iso-8859-15", "windows-1252", "cp1252":
            // Latin-1 maps bytes to the first 256 code points (close enough for 1252 in French text).
            return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        default:
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// RFC 2047: `=?charset?Q?…?=` and `=?charset?B?…?=`; whitespace between two encoded words is dropped.
    static func decodeWords(_ value: String) -> String {
        guard value.contains("=?") else { return value }
        var out = ""
        var rest = Substring(value)
        var lastWasEncoded = false
        while let start = rest.range(of: "=?") {
            let gap = rest[..<start.lowerBound]
            let after = rest[start.upperBound...]
            let pieces = after.split(separator: "?", maxSplits: 3, omittingEmptySubsequences: false)
            guard pieces.count == 4, pieces[3].hasPrefix("="), ["q", "b"].contains(pieces[1].lowercased()) else {
                out += rest[..<start.upperBound]
                rest = after
                lastWasEncoded = false
                continue
            }
            if !(lastWasEncoded && gap.allSatisfy(\.isWhitespace)) { out += gap }
            let payload = Array(pieces[2].utf8)
            let bytes =
                pieces[1].lowercased() == "b"
                ? (Base64.decode(String(pieces[2])) ?? payload) : quotedPrintable(payload[...], underscoreIsSpace: true)
            out += decodeCharset(bytes, charset: String(pieces[0]))
            rest = pieces[3].dropFirst()
            lastWasEncoded = true
        }
        return out + rest
    }

    /// `"Name" <addr>, Other <addr2>, bare@addr` → accounts (name, address).
    static func addresses(_ value: String) -> [ImportedMessage.Account] {
        splitOutsideQuotes(value, separator: ",").compactMap { item in
            let text = item.trimmingSpaces()
            guard !text.isEmpty else { return nil }
            if let open = text.lastIndex(of: "<"), let close = text.lastIndex(of: ">"), open < close {
                var name = text[..<open].trimmingSpaces()
                if name.hasPrefix("\""), name.hasSuffix("\""), name.count >= 2 {
                    name = String(name.dropFirst().dropLast())
                }
                return ImportedMessage.Account(
                    name: name.isEmpty ? nil : name, id: text[text.index(after: open)..<close].lowercased())
            }
            return ImportedMessage.Account(name: nil, id: text.lowercased())
        }
    }

    static func splitOutsideQuotes(_ value: String, separator: Character) -> [String] {
        var parts: [String] = []
        var current = ""
        var quoted = false, angle = false
        for c in value {
            if c == "\"" { quoted.toggle() }
            if !quoted { if c == "<" { angle = true } else if c == ">" { angle = false } }
            if c == separator && !quoted && !angle { parts.append(current); current = "" } else { current.append(c) }
        }
        parts.append(current)
        return parts
    }

    static let months = [
        "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11,
        "dec": 12,
    ]

    /// RFC 5322 §3.3 (`Tue, 10 Mar 2026 09:14:00 +0100`, day name and seconds optional, obsolete zone
    /// names GMT/UT/Z) → UTC RFC 3339.
    static func utcDate(_ value: String) -> String? {
        var text = value
        if let paren = text.firstIndex(of: "(") { text = String(text[..<paren]) }  // a trailing comment: (CET)
        var tokens = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        if let first = tokens.first, first.hasSuffix(",") { tokens.removeFirst() }
        guard tokens.count == 5, let day = Int(tokens[0]), let month = months[tokens[1].prefix(3).lowercased()],
            let year = Int(tokens[2])
        else { return nil }
        let time = tokens[3].split(separator: ":").map { Int($0) }
        guard time.count == 2 || time.count == 3, time.allSatisfy({ $0 != nil }) else { return nil }
        let (hour, minute, second) = (time[0]!, time[1]!, time.count == 3 ? time[2]! : 0)
        var offset = 0
        switch tokens[4].uppercased() {
        case "GMT", "UT", "UTC", "Z": offset = 0
        default:
            let zone = tokens[4]
            guard zone.count == 5, let sign = zone.first, sign == "+" || sign == "-", let hhmm = Int(zone.dropFirst())
            else { return nil }
            offset = (hhmm / 100 * 60 + hhmm % 100) * (sign == "-" ? -1 : 1)
        }
        let local = String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", year, month, day, hour, minute, second)
        guard let parsed = Timestamp(rfc3339: local) else { return nil }
        let utc = Timestamp(microsecondsSinceEpoch: parsed.microseconds - Int64(offset) * 60_000_000)
        let full = utc.description  // YYYY-MM-DDTHH:MM:SS.ffffffZ
        return String(full.prefix(19)) + "Z"
    }
}
