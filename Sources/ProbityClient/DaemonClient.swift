public import ProbityHTTP
public import ProbityLog
import ProbityWire

/// A client of `probityd`'s API (docs/API.md) over one kept-alive connection. Not thread-safe.
public final class DaemonClient {
    public let connection: HTTPConnection
    private let token: String?

    public init(_ endpoint: Endpoint, token: String?, timeout: Int = 120) {
        connection = HTTPConnection(endpoint, timeout: timeout)
        self.token = token
    }

    /// An error response from the daemon: its status, and the code and message of its JSON error.
    public struct APIFailure: Error, CustomStringConvertible, Sendable {
        public let status: Int
        public let code: String
        public let message: String
        public var description: String { "probityd answered \(status) \(code): \(message)" }
    }

    private var headers: [(String, String)] {
        token.map { [("Authorization", "Bearer \($0)")] } ?? []
    }

    /// Sends a request; returns the response when its status is 2xx, throws `APIFailure` otherwise.
    public func send(
        _ method: String, _ target: String, body: [UInt8]? = nil, contentType: String = "application/json"
    ) throws -> HTTPResponse {
        let response = try connection.request(
            method, target, headers: headers + (body == nil ? [] : [("Content-Type", contentType)]), body: body)
        guard (200..<300).contains(response.status) else { throw Self.failure(response) }
        return response
    }

    public func json(_ method: String, _ target: String, body: [UInt8]? = nil) throws -> JSONValue {
        let response = try send(method, target, body: body)
        do { return try JSONParser.parse(response.body) } catch {
            throw ClientError("probityd sent invalid JSON for \(method) \(target): \(error)")
        }
    }

    public static func failure(_ response: HTTPResponse) -> APIFailure {
        let error = WireError(status: response.status, body: response.body)
        return APIFailure(status: error.status, code: error.code, message: error.message)
    }
}
