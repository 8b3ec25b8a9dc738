import Hummingbird
import HummingbirdCore
import Logging
public import NIOCore
import NIOHTTPTypes
import Synchronization

/// The limits every connection of a listener is held to, so that slow or numerous clients cannot take
/// the daemon's file descriptors (and `/healthz` with them).
///
/// - `maxConnections`: connections past it get `503 too_many_connections` (`Connection: close`,
///   `Retry-After: 1`) on their first request and are closed — except `GET /healthz`, which is answered
///   and then closed; the cap is per listener and stays well under the unit's `LimitNOFILE`, so the
///   process always has descriptors left for the store.
/// - `headerTimeout`: how long a connection may take to send a request's head — from when it opens, and
///   between keep-alive requests (so it is the idle timeout too). A slowloris client is closed after it.
/// - `bodyTimeout`: how long a request's body may take once its head arrived.
public struct ConnectionLimits: Sendable {
    public let maxConnections: Int
    public let headerTimeout: TimeAmount
    public let bodyTimeout: TimeAmount

    public init(maxConnections: Int, headerTimeoutSeconds: Int, bodyTimeoutSeconds: Int) {
        self.maxConnections = maxConnections
        self.headerTimeout = .seconds(Int64(headerTimeoutSeconds))
        self.bodyTimeout = .seconds(Int64(bodyTimeoutSeconds))
    }
}

extension ConnectionLimits {
    /// HTTP/1.1 with a `ConnectionGuard` on every connection (each listener counts its own connections),
    /// then `EventLoopRoutes`, which answers plain `POST /v1/events` requests without Hummingbird.
    /// `api` nil: no `EventLoopRoutes` (the public tile listener, which serves nothing else).
    func http1Server(api: ProbityAPI?, logger: Logger) -> HTTPServerBuilder {
        let count = ConnectionCount()
        return .http1(
            configuration: .init(
                additionalChannelHandlers: [ConnectionGuard(limits: self, count: count)]
                    + (api.map { [EventLoopRoutes(api: $0, logger: logger)] } ?? [])))
    }
}

/// The open connections of one listener, shared by its `ConnectionGuard`s.
final class ConnectionCount: Sendable {
    private let open = Atomic<Int>(0)

    /// Counts a new connection; false when it is over `limit` (it is counted all the same, and
    /// `release` must follow).
    func admit(limit: Int) -> Bool { open.add(1, ordering: .relaxed).newValue <= limit }
    func release() { open.subtract(1, ordering: .relaxed) }
}

/// One per connection, right after the HTTP/1 codec: enforces `ConnectionLimits`.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let limits: ConnectionLimits
    private let count: ConnectionCount
    private var counted = false
    private var refused = false
    private var refusalSent = false
    /// Over the cap but asking for `/healthz`: answered (the connection exists already), then closed, so
    /// that a monitor can always tell a busy daemon from a dead one.
    private var healthCheckOnly = false
    /// Requests whose end was read, and responses whose end was written. While some request is unanswered
    /// no timer runs: the daemon's own work (a long export) is not the client's slowness.
    private var requestsRead = 0
    private var responsesWritten = 0
    /// Between a request's head and its end.
    private var readingBody = false
    /// When the connection is closed unless a request arrives or completes first; nil while none runs.
    private var deadline: NIODeadline?
    /// The one check scheduled for this connection, and when it runs. Re-arming moves `deadline` only (a
    /// request re-arms it two or three times: scheduling and cancelling a task each time cost ~3 % of the
    /// daemon's CPU under load); the check, when it runs, goes back to sleep until a deadline that moved on.
    private var timer: (task: Scheduled<Void>, due: NIODeadline)?
    private var answeredAll: Bool { responsesWritten >= requestsRead }

    init(limits: ConnectionLimits, count: ConnectionCount) {
        self.limits = limits
        self.count = count
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { opened(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        opened(context)
        context.fireChannelActive()
    }

    private func opened(_ context: ChannelHandlerContext) {
        guard !counted else { return }
        counted = true
        refused = !count.admit(limit: limits.maxConnections)
        arm(context, after: limits.headerTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) { closed() }

    func channelInactive(context: ChannelHandlerContext) {
        closed()
        context.fireChannelInactive()
    }

    private func closed() {
        disarm()
        timer?.task.cancel()
        timer = nil
        if counted {
            counted = false
            count.release()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if refused && !healthCheckOnly {
            guard case .head(let request) = part, !refusalSent else { return }
            guard request.path?.split(separator: "?").first == "/healthz" else { return refuse(context) }
            healthCheckOnly = true
        }
        switch part {
        case .head:
            readingBody = true
            if answeredAll { arm(context, after: limits.bodyTimeout) }
        case .body:
            break
        case .end:
            readingBody = false
            requestsRead += 1
            // Usually unanswered now; already answered when the daemon refused it early (a 413).
            if answeredAll { arm(context, after: limits.headerTimeout) } else { disarm() }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // The end of the last response starts the wait for the next request's head. (An early answer, such
        // as a 413 before the body was read, counts too: the body's end then finds every request answered.)
        if case .end = unwrapOutboundIn(data) {
            responsesWritten += 1
            if healthCheckOnly {
                context.writeAndFlush(data, promise: promise)
                context.close(promise: nil)
                return
            }
            if answeredAll { arm(context, after: readingBody ? limits.bodyTimeout : limits.headerTimeout) }
        }
        context.write(data, promise: promise)
    }

    private func disarm() { deadline = nil }

    private func arm(_ context: ChannelHandlerContext, after delay: TimeAmount) {
        let due = NIODeadline.now() + delay
        deadline = due
        if let timer {
            guard due < timer.due else { return }  // the check runs first and sleeps on until `due`
            timer.task.cancel()
        }
        schedule(context, at: due)
    }

    private func schedule(_ context: ChannelHandlerContext, at due: NIODeadline) {
        let task = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(deadline: due) { [self] in
            timer = nil
            guard let deadline else { return }
            guard deadline <= .now() else { return schedule(context, at: deadline) }
            // A connection that has not sent its request's head, or its body, in time: the client is too
            // slow (or holds the connection on purpose). Every request it sent was answered: nothing is lost.
            if answeredAll { context.close(promise: nil) }
        }
        timer = (task, due)
    }

    /// `503 too_many_connections`, then close: the client learns why and may retry.
    private func refuse(_ context: ChannelHandlerContext) {
        refusalSent = true
        let body = ByteBuffer(
            string:
                #"{"error":{"code":"too_many_connections","message":"probityd has reached limits.max_connections (\#(limits.maxConnections)); retry shortly"}}"#
        )
        var head = HTTPResponse(status: .serviceUnavailable)
        head.headerFields[.contentType] = "application/json"
        head.headerFields[.contentLength] = String(body.readableBytes)
        head.headerFields[.connection] = "close"
        head.headerFields[.retryAfter] = "1"
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.close(promise: nil)
    }
}
