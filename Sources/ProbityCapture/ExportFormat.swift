public import ProbityImport

/// The formats `probity import` reads, told apart by their first bytes, so that a buyer can drop any
/// export in the folder without naming it.
public enum ExportFormat: String, Sendable, CaseIterable {
    case mbox, eml
    case linkedinCSV = "linkedin-csv"
    case xArchive = "x-archive"
    case activitystreams

    /// The format of `bytes`, or nil with what was seen. Checked in an order where no format's opening
    /// can be mistaken for another's: an mbox starts with `From `, an X archive with `window.YTD.`, an
    /// ActivityStreams outbox is a JSON object, LinkedIn's CSV has its header line, and a message has a
    /// header field first.
    public static func detect(_ bytes: [UInt8]) -> ExportFormat? {
        var start = bytes[...]
        if start.starts(with: [0xEF, 0xBB, 0xBF]) { start = start.dropFirst(3) }  // a UTF-8 BOM (Excel's CSV)
        let head = String(decoding: start.prefix(4096), as: UTF8.self)
        let trimmed = head.drop { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }
        let firstLine = head.prefix { $0 != "\n" && $0 != "\r" }.uppercased()
        if head.hasPrefix("From ") { return .mbox }
        if trimmed.hasPrefix("window.YTD.") { return .xArchive }
        if trimmed.hasPrefix("{") { return .activitystreams }
        if firstLine.contains("CONVERSATION ID") && firstLine.contains(",") { return .linkedinCSV }
        if let colon = firstLine.firstIndex(of: ":"), colon > firstLine.startIndex,
            firstLine[..<colon].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" })
        {
            return .eml
        }
        return nil
    }

    /// The messages of an export in this format.
    public func read(_ bytes: [UInt8]) throws(ImportFormatError) -> ImportResult {
        switch self {
        case .mbox: try Email.readMailbox(bytes)
        case .eml: try Email.readMessage(bytes)
        case .linkedinCSV: try LinkedInMessages.read(bytes)
        case .xArchive: try XDirectMessages.read(bytes)
        case .activitystreams: try ActivityStreamsOutbox.read(bytes)
        }
    }
}
