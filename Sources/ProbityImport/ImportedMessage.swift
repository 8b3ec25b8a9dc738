import ProbityDomain
public import ProbityLog

/// A message read from a platform export, before it is mapped to parties and recorded as an
/// `exchange.recorded` event. Its `raw` record is kept whole, for the payload.
public struct ImportedMessage: Sendable, Equatable {
    /// An account as the platform names it: a display name, and an identifier when the export gives one
    /// (a profile URL, a handle, a numeric id, an e-mail address).
    public struct Account: Sendable, Equatable, Hashable {
        public let name: String?
        public let id: String?
        public init(name: String?, id: String?) { self.name = name; self.id = id }
    }

    public let platform: String
    /// Stable across re-imports of the same file: the platform's own id, or one derived from the record.
    public let sourceID: String
    public let conversation: String?
    public let from: Account
    public let to: [Account]
    /// UTC, RFC 3339.
    public let occurredAt: String
    public let subject: String?
    public let text: String
    /// What the platform says of the audience, when it says: `public`, `unlisted`, `restricted` or `direct`.
    public var visibility: String? = nil
    /// 1-based line (CSV) or record number (JSON) in the file, for reports.
    public let position: Int
    public let raw: [String: JSONValue]
}

/// A record that could not be read, with where it is and why.
public struct ImportRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public let position: Int
    public let reason: String
    public init(position: Int, reason: String) { self.position = position; self.reason = reason }
    public var description: String { "record \(position): \(reason)" }
}

/// A whole file that cannot be read as the format at all (wrong format, no header).
public struct ImportFormatError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public struct ImportResult: Sendable, Equatable {
    public var messages: [ImportedMessage] = []
    public var rejections: [ImportRejection] = []
}
