import Foundation
import HTTPTypes
import Hummingbird
import ProbityLog
import ProbityStore

/// The C2SP tlog-tiles read API under `prefix` (docs/API.md): `checkpoint`, `tile/<L>/<N>[.p/<W>]` and
/// `tile/entries/<N>[.p/<W>]` (entry bytes only, never payloads). On probityd's own listeners they need a
/// token that may read entries (`read` and above); on the public tile listener (`[tiles] listen`) they are
/// all it serves, to anyone: what they hold is what any monitor must be able to check.
struct TileRoutes: Sendable {
    let readers: StoreReaders
    /// nil on the public listener: no token asked.
    let auth: Authenticator?
    let prefix: String
    /// With `[witness]`: the checkpoint served is the largest the quorum cosigned (once there is one), so
    /// that monitors and clients of the tiles follow a witnessed tree.
    var witnessed: WitnessedCheckpoints? = nil

    /// Full tiles and bundles never change; a partial one of a given width never changes either, but may
    /// be dropped once its tile is full, so it is cached for a day only. The checkpoint changes with
    /// every commit: clients must not keep it beyond a few seconds (the spec's rule).
    static let immutable = "public, max-age=31536000, immutable"
    static let partial = "public, max-age=86400"
    static let checkpointCaching = "no-cache"

    func add(to router: Router<BasicRequestContext>) {
        router.get("\(prefix)/checkpoint") { request, _ in
            try await blocking { try answer(request, .checkpoint).response }
        }
        router.get("\(prefix)/tile/**") { request, _ in
            try await blocking {
                let path = request.uri.path.dropFirst(prefix.count + 1)
                let resource: TilePath
                do { resource = try TilePath(parsing: path) } catch {
                    throw APIError.notFound("no such tile: \(error)")
                }
                return try answer(request, resource).response
            }
        }
    }

    func answer(_ request: Request, _ resource: TilePath) throws -> Answer {
        if let auth { _ = try auth.authorize(request, for: .readEntries) }
        let reader = try readers.log()
        switch resource {
        case .checkpoint:
            let size = witnessed.map(\.size).flatMap { $0 > 0 ? $0 : nil }
            var answer = Answer(
                contentType: "text/plain; charset=utf-8", body: Array(try reader.checkpoint(size: size).encoded.utf8))
            answer.extraHeaders[.cacheControl] = Self.checkpointCaching
            return answer
        case .hashes(let level, let index, let width):
            guard let hashes = try reader.servedTile(level: level, index: index, width: width) else {
                throw APIError.notFound("the tree has no \(resource) yet (tree size \(try reader.size()))")
            }
            return Self.octets(hashes, full: width == nil)
        case .entries(let index, let width):
            guard let bundle = try reader.entryBundle(index: index, width: width) else {
                throw APIError.notFound("the log has no \(resource) yet (tree size \(try reader.size()))")
            }
            return Self.octets(bundle, full: width == nil)
        }
    }

    private static func octets(_ bytes: [UInt8], full: Bool) -> Answer {
        var answer = Answer(contentType: "application/octet-stream", body: bytes)
        answer.extraHeaders[.cacheControl] = full ? immutable : partial
        return answer
    }
}
