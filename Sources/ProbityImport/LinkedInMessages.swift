import ProbityDomain
import ProbityLog

/// LinkedIn's `messages.csv` (Settings → Data privacy → Get a copy of your data). Columns are found by
/// name, so both layouts read: CONVERSATION ID, CONVERSATION TITLE, FROM, SENDER PROFILE URL, TO,
/// RECIPIENT PROFILE URLS (absent from older exports), DATE ("2026-03-02 09:14:33 UTC"), SUBJECT,
/// CONTENT, FOLDER, ATTACHMENTS. Quirks handled: a sender shown as "LinkedIn Member" with no profile URL
/// (an account that left or hid itself), recipients and their URLs joined with commas in one cell.
/// LinkedIn gives messages no id: the source id is derived from the conversation, date, sender and
/// content, so that re-importing the same file finds the same ids.
public enum LinkedInMessages {
    public static let platform = "linkedin"
    static let required = ["CONVERSATION ID", "FROM", "DATE", "CONTENT"]

    public static func read(_ bytes: [UInt8]) throws(ImportFormatError) -> ImportResult {
        let records: [CSV.Record]
        do { records = try CSV.parse(bytes) } catch { throw ImportFormatError("not a readable CSV file: \(error)") }
        guard let header = records.first else {
            throw ImportFormatError("the file is empty; expected LinkedIn's messages.csv with its header line")
        }
        let names = header.fields.map { $0.trimmingSpaces().uppercased() }
        var column: [String: Int] = [:]
        for (index, name) in names.enumerated() where column[name] == nil { column[name] = index }
        let missing = required.filter { column[$0] == nil }
        guard missing.isEmpty else {
            throw ImportFormatError(
                "line 1 is not the header of LinkedIn's messages.csv: no \(missing.joined(separator: ", ")) column (found: \(names.joined(separator: ", ")))"
            )
        }
        var result = ImportResult()
        for record in records.dropFirst() {
            guard record.fields.count == names.count else {
                result.rejections.append(
                    ImportRejection(
                        position: record.line,
                        reason: "\(record.fields.count) fields where the header has \(names.count)"))
                continue
            }
            func value(_ name: String) -> String? {
                column[name].map { record.fields[$0].trimmingSpaces() }.flatMap { $0.isEmpty ? nil : $0 }
            }
            guard let conversation = value("CONVERSATION ID") else {
                result.rejections.append(ImportRejection(position: record.line, reason: "CONVERSATION ID is empty"));
                continue
            }
            guard let dateText = value("DATE"), let date = utcDate(dateText) else {
                result.rejections.append(
                    ImportRejection(
                        position: record.line,
                        reason: "DATE \"\(value("DATE") ?? "")\" is not a date like 2026-03-02 09:14:33 UTC"));
                continue
            }
            let content = column["CONTENT"].map { record.fields[$0] } ?? ""
            guard !content.trimmingSpaces().isEmpty || value("ATTACHMENTS") != nil else {
                result.rejections.append(
                    ImportRejection(position: record.line, reason: "CONTENT is empty and there is no attachment"));
                continue
            }
            let from = ImportedMessage.Account(name: value("FROM"), id: value("SENDER PROFILE URL"))
            var raw: [String: JSONValue] = [:]
            for (index, name) in names.enumerated() where !name.isEmpty { raw[name] = .string(record.fields[index]) }
            let id = SHA256.hash(
                CanonicalJSON.encode(
                    .array([conversation, dateText, from.name ?? "", from.id ?? "", content].map { .string($0) })))
            result.messages.append(
                ImportedMessage(
                    platform: platform, sourceID: "li-" + Hex.encode(Array(id.prefix(16))), conversation: conversation,
                    from: from,
                    to: recipients(names: value("TO"), urls: value("RECIPIENT PROFILE URLS")), occurredAt: date,
                    subject: value("SUBJECT") ?? value("CONVERSATION TITLE"), text: content, position: record.line,
                    raw: raw))
        }
        return result
    }

    /// Names and URLs come comma-joined in two cells; they pair up when their counts agree. Otherwise (a
    /// name containing a comma, an older export without URLs) the names stand alone.
    static func recipients(names: String?, urls: String?) -> [ImportedMessage.Account] {
        let nameList = names.map { $0.split(separator: ",").map { $0.trimmingSpaces() }.filter { !$0.isEmpty } } ?? []
        let urlList = urls.map { $0.split(separator: ",").map { $0.trimmingSpaces() }.filter { !$0.isEmpty } } ?? []
        if nameList.count == urlList.count {
            return zip(nameList, urlList).map { ImportedMessage.Account(name: $0, id: $1) }
        }
        if nameList.isEmpty { return urlList.map { ImportedMessage.Account(name: nil, id: $0) } }
        return nameList.map { ImportedMessage.Account(name: $0, id: nil) }
    }

    /// "2026-03-02 09:14:33 UTC" → "2026-03-02T09:14:33Z".
    static func utcDate(_ text: String) -> String? {
        let parts = text.split(separator: " ")
        guard parts.count == 3, parts[2] == "UTC" else { return nil }
        let rfc = "\(parts[0])T\(parts[1])Z"
        return Timestamp(rfc3339: rfc) == nil ? nil : rfc
    }
}
