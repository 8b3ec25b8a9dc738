import Foundation
import Hummingbird
import HummingbirdTesting
import ProbityDomain
import ProbityLog
import ProbityStore
import Testing

@testable import ProbityServer

/// The API's routes, run in-process through Hummingbird's router test client: status codes, access
/// control, and bodies checked with the log's own verifiers. (The daemon as a process, over its socket,
/// is tested in EndToEndTests.)
@Suite("API routes", .serialized)
struct RouteTests {
    static let origin = "routes.example/log"

    /// A store with one token per role, the daemon's routes on it, and its group committer running.
    final class Fixture: Sendable {
        let directory: URL
        let path: String
        let verifier: NoteVerifier
        let committer: GroupCommitter
        let application: Application<RouterResponder<BasicRequestContext>>
        let tokens: [Role: String]

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "probity-routes-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            path = directory.appendingPathComponent("log.sqlite").path
            let signer = try NoteSigner(name: RouteTests.origin, privateKey: Ed25519PrivateKey.generate())
            verifier = signer.verifier
            let writer = try LogWriter.create(
                path: path, origin: RouteTests.origin, signer: signer, keyPath: "", by: "test", software: "test")
            let store = try TokenStore.open(path: path)
            var tokens: [Role: String] = [:]
            for role in Role.allCases { tokens[role] = try store.create(name: role.rawValue, role: role).token.text }
            self.tokens = tokens
            let metrics = ServerMetrics()
            committer = GroupCommitter(
                writer: writer, openWriter: { throw StoreError(.io, "the test's writer does not re-open") },
                limits: .init(), metrics: metrics)
            committer.start()
            var settings = DaemonSettings()
            settings.storePath = path
            let api = ProbityAPI(
                committer: committer, readers: StoreReaders(path: path), metrics: metrics, settings: settings,
                signer: signer)
            application = Application(router: api.router())
        }

        func headers(_ role: Role?) -> HTTPFields {
            guard let role else { return [:] }
            return [.authorization: "Bearer \(tokens[role]!)", .contentType: "application/json"]
        }

        func finish() async {
            await committer.shutdown()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// The response's JSON body; nil when it is not JSON (which the expectations then report).
    static func json(_ response: TestResponse) -> JSONValue? {
        try? JSONParser.parse(Array(response.body.readableBytesView))
    }

    static let events = ByteBuffer(
        string: """
            {"events":[{"type":"x-note","data":{"procedure":"2026-042"},"payload":{"text":"call with the supplier"}},
            {"type":"x-note","data":{"procedure":"2026-042"}}]}
            """)

    @Test("an append answers 201 with receipts whose proofs verify; the entry, its proof and the checkpoint read back")
    func appendAndRead() async throws {
        let fixture = try Fixture()
        let verifier = fixture.verifier
        try await fixture.application.test(.router) { client in
            let receipts = try await client.execute(
                uri: "/v1/events", method: .post, headers: fixture.headers(.ingest), body: Self.events
            ) { response in
                #expect(response.status == .created)
                return try #require(Self.json(response)?["receipts"]?.arrayValue)
            }
            #expect(receipts.count == 2)
            let proof = try TlogProof.parse(try #require(receipts[1]["proof"]?.stringValue))
            #expect(proof.index == 2)
            let entry = try await client.execute(uri: "/v1/events/2", method: .get, headers: fixture.headers(.read)) {
                response in
                #expect(response.status == .ok)
                return try #require(Self.json(response))
            }
            // The entry is served as the JSON object it is; canonical, its bytes are the leaf's.
            let bytes = CanonicalJSON.encode(try #require(entry["entry"]))
            #expect(entry["leaf_hash"]?.stringValue == Hex.encode(Merkle.leafHash(bytes)))
            try proof.verify(leafHash: Merkle.leafHash(bytes), verifier: verifier)

            try await client.execute(uri: "/v1/checkpoint", method: .get, headers: fixture.headers(.read)) { response in
                #expect(response.status == .ok)
                let checkpoint = try SignedCheckpoint(parsing: String(buffer: response.body))
                #expect(checkpoint.isSigned(by: verifier))
                #expect(checkpoint.checkpoint.size == 3)
            }
            try await client.execute(
                uri: "/v1/proofs/inclusion?seq=1&size=3", method: .get, headers: fixture.headers(.read)
            ) { response in
                #expect(response.status == .ok)
                let body = try #require(Self.json(response))
                #expect(body["leaf_hash"] == receipts[0]["leaf_hash"])
                let proof = try TlogProof.parse(try #require(body["proof"]?.stringValue))
                #expect(proof.checkpoint.isSigned(by: verifier))
            }
            try await client.execute(
                uri: "/v1/proofs/consistency?old=1&new=3", method: .get, headers: fixture.headers(.read)
            ) { response in
                #expect(response.status == .ok)
                let body = try #require(Self.json(response))
                let hashes = try #require(body["proof"]?.arrayValue).compactMap {
                    $0.stringValue.flatMap(Base64.digest)
                }
                try Merkle.verifyConsistency(
                    oldSize: 1, newSize: 3, oldRoot: try #require(body["old_root"]?.stringValue.flatMap(Base64.digest)),
                    newRoot: try #require(body["new_root"]?.stringValue.flatMap(Base64.digest)), proof: hashes)
            }
        }
        await fixture.finish()
    }

    @Test("?witnessed= without witnesses is 404, and not 1 is 400, before anything is appended")
    func witnessedRefusals() async throws {
        let fixture = try Fixture()
        try await fixture.application.test(.router) { client in
            for (query, status, code) in [
                ("witnessed=1", HTTPResponse.Status.notFound, "no_witnesses"),
                ("witnessed=yes", .badRequest, "bad_parameter"),
            ] {
                try await client.execute(
                    uri: "/v1/events?\(query)", method: .post, headers: fixture.headers(.ingest), body: Self.events
                ) { response in
                    #expect(response.status == status)
                    #expect(Self.json(response)?["error"]?["code"]?.stringValue == code)
                }
                try await client.execute(
                    uri: "/v1/checkpoint?\(query)", method: .get, headers: fixture.headers(.read)
                ) { response in
                    #expect(response.status == status)
                }
            }
            #expect(try LogReader.open(path: fixture.path).size() == 1)
        }
        await fixture.finish()
    }

    @Test("tokens: none is 401, a role without the right is 403, payloads only for export; nothing appended")
    func accessControl() async throws {
        let fixture = try Fixture()
        try await fixture.application.test(.router) { client in
            try await client.execute(uri: "/v1/events", method: .post, headers: fixture.headers(nil), body: Self.events)
            {
                response in
                #expect(response.status == .unauthorized)
                #expect(Self.json(response)?["error"]?["code"]?.stringValue == "unauthorized")
            }
            try await client.execute(
                uri: "/v1/events", method: .post, headers: fixture.headers(.read), body: Self.events
            ) {
                response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/v1/checkpoint", method: .get, headers: fixture.headers(nil)) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(Self.json(response)?["size"] == .number(1))
            }
            try await client.execute(
                uri: "/v1/events", method: .post, headers: fixture.headers(.ingest), body: Self.events)
            try await client.execute(uri: "/v1/events/1", method: .get, headers: fixture.headers(.read)) { response in
                let entry = Self.json(response)
                #expect(entry?["entry"] != nil)
                #expect(entry?["payload"] == nil)
            }
            try await client.execute(uri: "/v1/events/1", method: .get, headers: fixture.headers(.export)) { response in
                #expect(Self.json(response)?["payload"] != nil)
            }
        }
        await fixture.finish()
    }

    @Test("bad requests are 4xx with a JSON error that names the parameter or the event, and append nothing")
    func badRequests() async throws {
        let fixture = try Fixture()
        try await fixture.application.test(.router) { client in
            try await client.execute(uri: "/v1/proofs/inclusion?seq=abc", method: .get, headers: fixture.headers(.read))
            {
                response in
                #expect(response.status == .badRequest)
                #expect(Self.json(response)?["error"]?["message"]?.stringValue?.contains("seq") == true)
            }
            try await client.execute(uri: "/v1/events/99", method: .get, headers: fixture.headers(.read)) { response in
                #expect(response.status == .notFound)
            }
            // A schema error is found while parsing (400); a reference to what the log does not hold, by the
            // writer (422). Either way the other event of the request is not appended.
            for (update, status, named) in [
                (#"{"procedure":"2026-042","tender_deadline":"2026-05-01T12:00:00Z"}"#, 400, "data.reason"),
                (
                    #"{"procedure":"2026-099","tender_deadline":"2026-05-01T12:00:00Z","reason":"correction"}"#, 422,
                    "2026-099"
                ),
            ] {
                let body = ByteBuffer(
                    string: #"{"events":[{"type":"x-note","data":{}},{"type":"procedure.updated","data":"#
                        + update + "}]}")
                try await client.execute(
                    uri: "/v1/events", method: .post, headers: fixture.headers(.ingest), body: body
                ) {
                    response in
                    #expect(Int(response.status.code) == status)
                    let message =
                        Self.json(response)?["error"]?["message"]?.stringValue ?? String(buffer: response.body)
                    #expect(message.contains(named), "\(message)")
                }
            }
            try await client.execute(
                uri: "/v1/events", method: .post, headers: fixture.headers(.ingest), body: ByteBuffer(string: "{")
            ) {
                response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(Self.json(response)?["size"] == .number(1))
            }
        }
        await fixture.finish()
    }
}
