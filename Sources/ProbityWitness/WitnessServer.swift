import Foundation
import HTTPTypes
public import Hummingbird
public import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// The witness over HTTP: `POST /add-checkpoint` as C2SP tlog-witness defines it, and `GET /healthz`.
/// Runs until SIGTERM or SIGINT.
public struct WitnessServer {
    public enum Address: Sendable {
        case socket(String)
        case tcp(host: String, port: Int)
    }

    public let witness: Witness
    public let address: Address
    public let logger: Logger
    /// Called once the listener is bound (for a readiness message).
    public let onReady: @Sendable () -> Void

    /// A checkpoint note is at most 1 MiB; 63 proof lines and the old size line add a few kilobytes.
    static let maxBody = (1 << 20) + 8192

    public init(witness: Witness, address: Address, logger: Logger, onReady: @escaping @Sendable () -> Void) {
        self.witness = witness
        self.address = address
        self.logger = logger
        self.onReady = onReady
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.post("/add-checkpoint") { [witness, logger] request, _ in
            let body: ByteBuffer
            do { body = try await request.body.collect(upTo: Self.maxBody) } catch {
                return Self.response(
                    400, "text/plain; charset=utf-8", Array("the body is larger than \(Self.maxBody) bytes\n".utf8))
            }
            let answer = witness.addCheckpoint(Array(body.readableBytesView))
            logger.log(level: answer.status == 200 ? .info : .warning, "add-checkpoint: \(answer.summary)")
            return Self.response(answer.status, answer.contentType, answer.body)
        }
        router.get("/healthz") { _, _ in Self.response(200, "text/plain; charset=utf-8", Array("ok\n".utf8)) }
        return router
    }

    static func response(_ status: Int, _ contentType: String, _ body: [UInt8]) -> Response {
        Response(
            status: HTTPResponse.Status(code: status), headers: [.contentType: contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    public func run() async throws {
        let configuration: ApplicationConfiguration
        switch address {
        case .socket(let path):
            configuration = .init(address: .unixDomainSocket(path: path), serverName: "probity-witness")
        case .tcp(let host, let port):
            configuration = .init(address: .hostname(host, port: port), serverName: "probity-witness")
        }
        let onReady = onReady
        let application = Application(
            router: router(), configuration: configuration, onServerRunning: { _ in onReady() }, logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [application], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
