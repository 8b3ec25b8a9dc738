import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTPTypes
import ProbityLog
import ProbityStore

/// The requests probityd answers on the connection's event loop, without Swift tasks or thread hops of
/// their own (issue 13, item 6); Hummingbird's router answers the rest.
///
/// - `POST /v1/events`: the body is collected here, handed to the group committer, and the receipts are
///   written from the event loop once the commit is durable. The one hop is the group commit itself
///   (event loop → writer thread → event loop).
/// - `GET /v1/checkpoint`, `/v1/proofs/inclusion`, `/v1/proofs/consistency`: answered inline. They read a
///   checkpoint row and a few tiles that a served log keeps in the page cache; on this VM the hops to a
///   thread pool and back cost more (about 0.5 ms of CPU and of latency per request, measured) than the
///   reads. A read that does go to disk holds this loop's other connections for that one read.
///
/// Only the common forms are taken: an append whose body has a `Content-Length` within `maxBodyBytes`
/// and `fastBodyLimit`, a read without a body, no `Expect`, and no earlier request of the connection still
/// being answered by Hummingbird (so that responses keep their order). Everything else — other routes,
/// chunked or large bodies, a request pipelined behind a slow one — passes through to Hummingbird's router,
/// whose routes answer from the same code (`ProbityAPI`'s `appendSubmission`, `appendFailure`,
/// `appendAnswer`, `checkpoint`, `inclusionProof`, `consistencyProof`).
///
/// Invariants: at most one request of the connection is in `.committing`; while it is, nothing more is
/// read from the socket (`read` is held, parts already decoded are kept in `held`), so responses go out
/// in request order and a pipelining client cannot make the handler buffer without bound.
final class EventLoopRoutes: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Larger bodies go through Hummingbird: parsing one (~30 µs per event) would hold this event loop's
    /// other connections, `/healthz` among them, for more than a few tens of milliseconds.
    static let fastBodyLimit = 1 << 20

    /// What this handler answers.
    private enum Route {
        case append
        case read(@Sendable (ProbityAPI, Request) throws -> Answer)
    }

    private static let reads: [String: @Sendable (ProbityAPI, Request) throws -> Answer] = [
        "/v1/checkpoint": { try $0.checkpoint($1) },
        "/v1/proofs/inclusion": { try $0.inclusionProof($1) },
        "/v1/proofs/consistency": { try $0.consistencyProof($1) },
    ]

    private enum State {
        case idle
        /// The current request goes to Hummingbird, until its end.
        case forwarding
        /// Reading a request this handler answers (an append's body; a read's end).
        case collecting
        /// Waiting for the group commit, or writing an answer.
        case committing
    }

    private let api: ProbityAPI
    private let logger: Logger
    private var state = State.idle
    private var head: HTTPRequest?
    private var route: Route?
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
            if hummingbirdAnswering == 0, let (route, length) = takes(request) {
                head = request
                self.route = route
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
            switch route! {
            case .append: commit(context: context)
            case .read(let read): answer(read, context: context)
            }
        case (.forwarding, .end):
            state = .idle
            context.fireChannelRead(wrapInboundOut(part))
        default:
            // The rest of a forwarded request, or parts out of order: Hummingbird reports those.
            context.fireChannelRead(wrapInboundOut(part))
        }
    }

    /// The route and the body's length if this handler answers the request, nil if Hummingbird does.
    private func takes(_ request: HTTPRequest) -> (Route, Int)? {
        guard let target = request.path, request.headerFields[.expect] == nil,
            request.headerFields[.transferEncoding] == nil
        else { return nil }
        let path = target.prefix { $0 != "?" }
        let length = request.headerFields[.contentLength].map { Int($0) ?? -1 } ?? 0
        switch request.method {
        case .post where path == "/v1/events":
            // `?witnessed=1` waits for the witnesses: Hummingbird's route does.
            guard length > 0, !target.contains("witnessed"), length <= min(api.maxBodyBytes, Self.fastBodyLimit) else {
                return nil
            }
            return (.append, length)
        case .get:
            // `?witnessed=1` may wait for the witnesses: never on the event loop.
            // On PostgreSQL a read waits for the server: never on the event loop.
            guard length == 0, !target.contains("witnessed"), !api.readers.isPostgres,
                let read = Self.reads[String(path)]
            else { return nil }
            return (.read(read), 0)
        default:
            return nil
        }
    }

    /// A read answered here and now.
    private func answer(_ read: (ProbityAPI, Request) throws -> Answer, context: ChannelHandlerContext) {
        let request = Request(head: head!, body: RequestBody(buffer: ByteBuffer()))
        head = nil
        closeAfterAnswer = closeAfterAnswer || request.headers[.connection]?.lowercased() == "close"
        state = .committing
        do { write(try read(api, request), context: context) } catch {
            answer(failure: error, method: request.method, path: request.uri.path, context: context)
        }
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
        } catch { return answer(failure: error, method: .post, path: "/v1/events", context: context) }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        api.committer.submit(submission) { result in
            // On the writer thread: hand everything back to the connection's event loop at once.
            bound.eventLoop.execute {
                let (handler, context) = bound.value
                switch result {
                case .success(let batch): handler.write(ProbityAPI.appendAnswer(batch), context: context)
                case .failure(let error):
                    handler.answer(
                        failure: ProbityAPI.appendFailure(error, submission: submission), method: .post,
                        path: "/v1/events", context: context)
                }
            }
        }
    }

    /// The JSON error `JSONErrorMiddleware` would send, counted the same way.
    private func answer(
        failure error: any Error, method: HTTPRequest.Method, path: String, context: ChannelHandlerContext
    ) {
        write(Answer.failure(error, method: method, path: path, metrics: api.metrics, logger: logger), context: context)
    }

    /// Writes the answer, then goes on with what arrived meanwhile.
    private func write(_ answer: Answer, context: ChannelHandlerContext) {
        guard active else { return }
        var fields = answer.extraHeaders
        fields[.contentType] = answer.contentType
        fields[.contentLength] = String(answer.body.count)
        fields[.date] = dates.now()
        fields[.server] = "probityd"
        if closeAfterAnswer { fields[.connection] = "close" }
        context.write(wrapOutboundOut(.head(HTTPResponse(status: answer.status, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(ByteBuffer(bytes: answer.body))), promise: nil)
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
