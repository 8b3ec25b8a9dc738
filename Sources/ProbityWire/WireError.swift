public import ProbityLog

/// An API error as it travels: an HTTP status, a stable machine-readable code, a message that says what
/// is wrong and what to do, and the offending field when there is one. The body is
/// `{"error": {"code": …, "message": …, "field": …}}` (docs/API.md); probityd writes it, clients read it.
public struct WireError: Error, CustomStringConvertible, Sendable, Equatable {
    public let status: Int
    public let code: String
    public let message: String
    public let field: String?

    public init(_ status: Int, _ code: String, _ message: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
    }

    public var description: String { "\(status) \(code): \(message)" }

    /// The error body.
    public var json: JSONValue {
        var error: [String: JSONValue] = ["code": .string(code), "message": .string(message)]
        if let field { error["field"] = .string(field) }
        return .object(["error": .object(error)])
    }

    /// Reads an error response. A body that is not Probity's error JSON (a proxy's page, say) becomes
    /// `http_STATUS` with the start of the body as its message.
    public init(status: Int, body: [UInt8]) {
        if let value = try? JSONParser.parse(body), case .object(let error)? = value["error"] {
            self.init(
                status, error["code"]?.stringValue ?? "?",
                error["message"]?.stringValue ?? String(decoding: body, as: UTF8.self),
                field: error["field"]?.stringValue)
        } else {
            self.init(status, "http_\(status)", String(String(decoding: body, as: UTF8.self).prefix(300)))
        }
    }
}
