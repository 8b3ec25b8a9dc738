public import Hummingbird
import Logging
import NIOCore
import ProbityDomain
import ProbityLog
import ProbityPostgres
import ProbityStore
import ProbityWire

/// An API error: an HTTP status, a stable machine-readable code, a message that says what is wrong and
/// what to do, and the offending field when there is one. Sent as
/// `{"error": {"code": …, "message": …, "field": …}}`.
public struct APIError: Error, CustomStringConvertible, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    public let field: String?

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    /// A request error found by the wire formats (a malformed body), with the status they chose.
    init(_ error: WireError) {
        self.init(HTTPResponse.Status(code: error.status), error.code, error.message, field: error.field)
    }

    var json: JSONValue { WireError(status.code, code, message, field: field).json }

    static func badParameter(_ name: String, _ message: String) -> APIError {
        APIError(.badRequest, "bad_parameter", "\(name): \(message)", field: name)
    }

    static func notFound(_ message: String) -> APIError { APIError(.notFound, "not_found", message) }

    /// An event the writer refused because it refers to what the log does not hold: 422, nothing appended.
    static func rejected(_ rejection: EventRejection, inBatch: Bool) -> APIError {
        let path = inBatch ? "events[\(rejection.index)]" : nil
        let field = [path, rejection.error.field].compactMap { $0 }.joined(separator: ".")
        return APIError(
            .unprocessableContent, "invalid_reference", (path.map { "\($0): " } ?? "") + rejection.error.description,
            field: field.isEmpty ? nil : field)
    }

    /// The error a failed store operation becomes: bad arguments are the client's, the rest is the
    /// store's (503: retry later; nothing was appended). The store's message already says which cause
    /// (read-only, disk full, I/O) it classified.
    static func from(_ error: StoreError) -> APIError {
        switch error.code {
        case .notFound: return APIError(.notFound, "not_found", error.message)
        case .badArgument: return APIError(.badRequest, "bad_parameter", error.message)
        case .legalHold: return APIError(.conflict, "legal_hold", error.message, field: "seq")
        default:
            return APIError(.serviceUnavailable, "store_unavailable", "\(error.message); retry once the cause is fixed")
        }
    }
}

/// Turns every error a route throws, and the router's own (no such route, body too large), into a
/// JSON error response, and counts rejections by code.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return Answer.failure(
                error, method: request.method, path: request.uri.path, metrics: metrics, logger: context.logger
            ).response
        }
    }
}

extension APIError {
    /// A PostgreSQL store's failure: all 503 (nothing was appended; retry, on the writer for `not_leader`).
    static func from(_ error: PostgresStoreError) -> APIError {
        switch error.code {
        case .notLeader, .fenced:
            return APIError(
                .serviceUnavailable, "not_leader",
                "this probityd is a standby (\(error.message)); send appends to the probityd that writes, or retry")
        default:
            return APIError(.serviceUnavailable, "store_unavailable", "\(error.message); retry once the cause is fixed")
        }
    }

    /// The answer to any error a route (or `EventLoopRoutes`) meets.
    static func answering(_ error: any Error, method: HTTPRequest.Method, path: String) -> APIError {
        switch error {
        case let error as APIError: return error
        case let error as StoreError: return APIError.from(error)
        case let error as PostgresStoreError: return APIError.from(error)
        case is NIOTooManyBytesError:
            return APIError(.contentTooLarge, "body_too_large", "the request body is larger than the limit")
        case is GroupCommitter.ShuttingDown: return APIError(.serviceUnavailable, "shutting_down", "\(error)")
        case let error as HTTPError:
            switch error.status {
            case .notFound:
                return APIError(
                    .notFound, "no_route", "no route \(method) \(path); see docs/API.md")
            case .contentTooLarge:
                return APIError(.contentTooLarge, "body_too_large", "the request body is larger than the limit")
            case .methodNotAllowed:
                return APIError(
                    .methodNotAllowed, "method_not_allowed", "\(method) is not allowed on \(path)")
            default: return APIError(error.status, "http_error", error.body ?? error.status.reasonPhrase)
            }
        default:
            return APIError(.internalServerError, "internal", "internal error: \(error)")
        }
    }
}

/// A route's answer as bytes: what the router sends as a `Response`, and what `EventLoopRoutes` writes
/// itself, so that both send the same bytes.
struct Answer: Sendable {
    var status: HTTPResponse.Status = .ok
    let contentType: String
    let body: [UInt8]
    var extraHeaders: HTTPFields = [:]

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Answer {
        Answer(status: status, contentType: "application/json", body: CanonicalJSON.encode(value))
    }

    /// The JSON error body for `error`, with `WWW-Authenticate` on a 401.
    static func error(_ error: APIError) -> Answer {
        var answer = Answer.json(error.json, status: error.status)
        if error.status == .unauthorized { answer.extraHeaders[.wwwAuthenticate] = "Bearer realm=\"probityd\"" }
        return answer
    }

    /// The answer to any error a request met, counted by code and, for a 5xx, logged: what
    /// `JSONErrorMiddleware` and `EventLoopRoutes` both send.
    static func failure(
        _ error: any Error, method: HTTPRequest.Method, path: String, metrics: ServerMetrics, logger: Logger
    ) -> Answer {
        let apiError = APIError.answering(error, method: method, path: path)
        metrics.rejected(apiError.code)
        if apiError.status.code >= 500 { logger.warning("\(method) \(path) failed: \(apiError.message)") }
        return .error(apiError)
    }

    var response: Response {
        var response = Response.bytes(body, contentType: contentType, status: status)
        for field in extraHeaders { response.headers.append(field) }
        return response
    }
}

extension Response {
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        bytes(CanonicalJSON.encode(value), contentType: "application/json", status: status)
    }

    static func bytes(_ bytes: [UInt8], contentType: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
