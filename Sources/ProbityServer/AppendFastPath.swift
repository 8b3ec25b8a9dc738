import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOHTTPTypes
import ProbityLog
import ProbityStore

/// `POST /v1/events` answered on the connection's event loop (issue 13, item 6): the body is collected
/// here, handed to the group committer, and the receipts are written from the event loop once the commit
/// is durable. No Swift task and no async bridge sits between the socket and the writer; the one hop is
/// the group commit itself (event loop → writer thread → event loop).
///
/// Only the common form is taken: a body with a `Content-Length` within `maxBodyBytes` and `fastBodyLimit`,
/// no `Expect`, and no earlier request of the connection still being answered by Hummingbird (so that
/// responses keep their order). Everything else — other routes, chunked or large bodies, a request
/// pipelined behind a slow one — passes through to Hummingbird's router, whose `POST /v1/events` route
/// answers from the same code (`ProbityAPI.appendSubmission`, `appendFailure`, `appendAnswer`).
///
/// Invariants: at most one request of the connection is in `.committing`; while it is, nothing more is
/// read from the socket (`read` is held, parts already decoded are kept in `held`), so responses go out
/// in request order and a pipelining client cannot make the handler buffer without bound.
final class AppendFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Larger bodies go through Hummingbird: parsing one (~30 µs per event) would hold this event loop's
    /// other connections, `/healthz` among them, for more than a few tens of milliseconds.
    static let fastBodyLimit = 1 << 20

    private enum State {
        case idle
        /// The current request goes to Hummingbird, until its end.
        case forwarding
        /// Reading the body of a request this handler answers.
        case collecting
        /// Waiting for the group commit (or, briefly, writing the answer).
        case committing
    }

    private let api: ProbityAPI
    private let logger: Logger
    private var state = State.idle
    private var head: HTTPRequest?
    private var body: [UInt8] = []
    /// Requests passed to Hummingbird whose response has not ended yet.
    private var hummingbirdAnswering = 0
    /// Parts read while committing, handled once the answer is written.
    private var held: [HTTPRequestPart] = []
    private var readHeld = false
    private var closeAfterAnswer = false
    private var quiesceHeld: Any?
    private var active = true
    private var dates = HTTPDateCache()

    init(api: ProbityAPI, logger: Logger) {
        self.api = api
        self.logger = logger
    }

    func channelInactive(context: ChannelHandlerContext) {
        active = false
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { active = false }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if state == .committing { return held.append(part) }
        handle(part, context: context)
    }

    private func handle(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch (state, part) {
        case (.idle, .head(let request)):
            if hummingbirdAnswering == 0, let length = takes(request) {
                head = request
                body = []
                body.reserveCapacity(length)
                state = .collecting
            } else {
                hummingbirdAnswering += 1
                state = .forwarding
                context.fireChannelRead(wrapInboundOut(part))
            }
        case (.collecting, .body(let buffer)):
            body.append(contentsOf: buffer.readableBytesView)
        case (.collecting, .end):
            commit(context: context)
        case (.forwarding, .end):
            state = .idle
            context.fireChannelRead(wrapInboundOut(part))
        default:
            // The rest of a forwarded request, or parts out of order: Hummingbird reports those.
            context.fireChannelRead(wrapInboundOut(part))
        }
    }

    /// The body's length if this handler answers the request, nil if Hummingbird does.
    private func takes(_ request: HTTPRequest) -> Int? {
        guard request.method == .post, let path = request.path,
            path == "/v1/events" || path.hasPrefix("/v1/events?"),
            request.headerFields[.expect] == nil,
            request.headerFields[.transferEncoding] == nil,
            let length = request.headerFields[.contentLength].flatMap(Int.init),
            length >= 0, length <= min(api.maxBodyBytes, Self.fastBodyLimit)
        else { return nil }
        return length
    }

    private func commit(context: ChannelHandlerContext) {
        let request = head!
        head = nil
        let bytes = body
        body = []
        if request.headerFields[.connection]?.lowercased() == "close" { closeAfterAnswer = true }
        state = .committing
        let submission: LogWriter.Submission
        do {
            submission = try api.appendSubmission(authorization: request.headerFields[.authorization], body: bytes)
        } catch { return answer(failure: error, context: context) }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        api.committer.submit(submission) { result in
            // On the writer thread: hand everything back to the connection's event loop at once.
            bound.eventLoop.execute {
                let (handler, context) = bound.value
                switch result {
                case .success(let batch):
                    let answer = ProbityAPI.appendAnswer(batch)
                    handler.write(answer.status, body: answer.body, context: context)
                case .failure(let error):
                    handler.answer(failure: ProbityAPI.appendFailure(error, submission: submission), context: context)
                }
            }
        }
    }

    /// The JSON error `JSONErrorMiddleware` would send, counted the same way.
    private func answer(failure error: any Error, context: ChannelHandlerContext) {
        let apiError = APIError.answering(error, method: .post, path: "/v1/events")
        api.metrics.rejected(apiError.code)
        if apiError.status.code >= 500 { logger.warning("POST /v1/events failed: \(apiError.message)") }
        var extra = HTTPFields()
        if apiError.status == .unauthorized { extra[.wwwAuthenticate] = "Bearer realm=\"probityd\"" }
        write(apiError.status, body: CanonicalJSON.encode(apiError.json), extra: extra, context: context)
    }

    /// Writes the answer, then goes on with what arrived meanwhile.
    private func write(
        _ status: HTTPResponse.Status, body: [UInt8], extra: HTTPFields = [:], context: ChannelHandlerContext
    ) {
        guard active else { return }
        var fields = extra
        fields[.contentType] = "application/json"
        fields[.contentLength] = String(body.count)
        fields[.date] = dates.now()
        fields[.server] = "probityd"
        if closeAfterAnswer { fields[.connection] = "close" }
        context.write(wrapOutboundOut(.head(HTTPResponse(status: status, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(ByteBuffer(bytes: body))), promise: nil)
        if closeAfterAnswer {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        state = .idle
        resume(context: context)
    }

    /// Handles the parts held while committing, then lets the socket be read again.
    private func resume(context: ChannelHandlerContext) {
        let replaying = !held.isEmpty
        while !held.isEmpty, state != .committing { handle(held.removeFirst(), context: context) }
        // What was passed on reaches Hummingbird's async channel at the end of a read, as it would have.
        if replaying { context.fireChannelReadComplete() }
        if state == .committing { return }  // another answer is on its way; the rest waits for it
        if let event = quiesceHeld {
            quiesceHeld = nil
            context.fireUserInboundEventTriggered(event)
        }
        if readHeld {
            readHeld = false
            context.read()
        }
    }

    func read(context: ChannelHandlerContext) {
        if state == .committing { return readHeld = true }
        context.read()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Only Hummingbird's writes come through here (this handler writes past itself).
        if case .end = unwrapOutboundIn(data) { hummingbirdAnswering = max(0, hummingbirdAnswering - 1) }
        context.write(data, promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Graceful shutdown closes idle connections: not one whose append is still being committed.
        if event is ChannelShouldQuiesceEvent, state == .committing || state == .collecting {
            closeAfterAnswer = true
            quiesceHeld = event
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

/// The `Date` header's value, formatted once per second (RFC 9110's IMF-fixdate).
struct HTTPDateCache {
    private var second = 0
    private var text = ""

    mutating func now() -> String {
        var time = Foundation.time(nil)
        guard time != second || text.isEmpty else { return text }
        second = time
        var parts = tm()
        gmtime_r(&time, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        text =
            "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
        return text
    }
}
