import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ProbityDomain
import ProbityLog
import ProbityStore
import ProbityWire
import Prometheus

/// The HTTP API (docs/API.md): routes, access control and the mapping of store results to JSON.
struct ProbityAPI: Sendable {
    let committer: GroupCommitter
    let readers: StoreReaders
    let auth: Authenticator
    let metrics: ServerMetrics
    let maxBodyBytes: Int
    let maxBatchEvents: Int
    let signer: NoteSigner
    let tilesPrefix: String
    /// The witness policy and what it has cosigned so far (nil without `[witness]`).
    let witnesses: (policy: WitnessPolicy, witnessed: WitnessedCheckpoints)?
    /// The procurement projections, shared by the procedure routes and the evidence routes.
    let projections = ProjectionCache()
    /// The web console's sign-in sessions.
    let consoleSessions: ConsoleSessions

    init(
        committer: GroupCommitter, readers: StoreReaders, metrics: ServerMetrics, settings: DaemonSettings,
        signer: NoteSigner, witnesses: (policy: WitnessPolicy, witnessed: WitnessedCheckpoints)? = nil
    ) {
        self.witnesses = witnesses
        self.committer = committer
        self.signer = signer
        self.readers = readers
        auth = Authenticator(token: readers.token(id:))
        self.metrics = metrics
        maxBodyBytes = settings.maxBodyBytes
        maxBatchEvents = settings.maxBatchEvents
        tilesPrefix = settings.tilesPrefix
        consoleSessions = ConsoleSessions(idle: .seconds(60 * settings.consoleSessionMinutes))
    }

    /// Checkpoints, proofs and entries, on either store.
    private var log: any LogReads { get throws { try readers.log() } }

    /// Most entries one `GET /v1/events` returns.
    static let maxPage = 1_000

    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: JSONErrorMiddleware(metrics: metrics))
        router.post("/v1/events") { request, _ in try await append(request) }
        router.post("/v1/events/validate") { request, _ in try await validate(request) }
        // Reads run SQLite on the blocking pool, never on the cooperative pool (see `blocking`).
        router.get("/v1/events") { request, _ in try await blocking { try listEvents(request) } }
        router.get("/v1/events/:seq") { request, context in
            let seq = try context.parameters.require("seq")
            return try await blocking { try event(request, seq: seq) }
        }
        // `EventLoopRoutes` answers these three first; the router has them for what it passes on.
        router.get("/v1/checkpoint") { request, _ in
            guard request.uri.queryParameters.get("witnessed") == nil else {
                return try await witnessed(request, seq: nil)
            }
            return try await blocking { try checkpoint(request).response }
        }
        router.get("/v1/proofs/inclusion") { request, _ in
            guard request.uri.queryParameters.get("witnessed") == nil else {
                return try await witnessed(request, seq: try Self.number(request, "seq", required: true)!)
            }
            return try await blocking { try inclusionProof(request).response }
        }
        router.get("/v1/proofs/consistency") { request, _ in
            try await blocking { try consistencyProof(request).response }
        }
        router.get("/v1/proofs/stream") { request, _ in try await blocking { try streamHead(request) } }
        ProcedureRoutes(readers: readers, auth: auth, projections: projections).add(to: router)
        let evidence = EvidenceRoutes(
            readers: readers, auth: auth, projections: projections, committer: committer, signer: signer)
        evidence.add(to: router)
        TileRoutes(readers: readers, auth: auth, prefix: tilesPrefix, witnessed: witnesses?.witnessed).add(to: router)
        let committer = committer
        ConsoleRoutes(
            readers: readers, auth: auth, projections: projections, sessions: consoleSessions, evidence: evidence,
            committerFailure: { committer.failure }, origin: signer.verifier.name
        ).add(to: router)
        // Inline, the one read that is: health must answer while long exports fill the blocking pool, and
        // it reads one index entry (MAX(seq)).
        let readers = readers
        router.get("/healthz") { _, _ in readers.isPostgres ? try await blocking { health() } : health() }
        router.get("/metrics") { _, _ in
            Response.bytes(metrics.registry.emitToBuffer(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        return router
    }

    /// The public tile listener's router: the tiles API alone, without tokens.
    func publicTileRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: JSONErrorMiddleware(metrics: metrics))
        TileRoutes(readers: readers, auth: nil, prefix: tilesPrefix, witnessed: witnesses?.witnessed).add(to: router)
        return router
    }

    // MARK: Appending

    /// Reads the body, refusing it before reading when its declared length is over the limit.
    private func body(_ request: Request) async throws -> [UInt8] {
        try await Self.body(of: request, limit: maxBodyBytes, setting: "limits.max_body_bytes")
    }

    /// The one way a route reads a body: refused with 413 (before reading when `Content-Length` says so,
    /// else as soon as it passes `limit`), never buffered past the limit.
    static func body(of request: Request, limit: Int, setting: String?) async throws -> [UInt8] {
        let named = setting.map { " (\($0))" } ?? ""
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError(
                .contentTooLarge, "body_too_large", "the body is \(length) bytes; the limit is \(limit)\(named)")
        }
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "body_too_large", "the body is larger than \(limit) bytes\(named)")
        }
    }

    private func parseEvents(_ body: [UInt8]) throws(APIError) -> [EventInput] {
        do { return try EventsRequest.parse(body, maxEvents: maxBatchEvents) } catch { throw APIError(error) }
    }

    private func append(_ request: Request) async throws -> Response {
        let submission = try appendSubmission(
            authorization: request.headers[.authorization], body: try await body(request))
        // Refused before anything is appended.
        let witnesses = try request.uri.queryParameters.get("witnessed") == nil ? nil : witnessPolicy(request)
        let batch: LogWriter.Batch
        do { batch = try await committer.submit(submission) } catch {
            throw Self.appendFailure(error, submission: submission)
        }
        guard let (policy, witnessed) = witnesses else { return Self.appendAnswer(batch).response }
        return try await witnessedAnswer(batch, policy: policy, witnessed: witnessed)
    }

    /// `POST /v1/events?witnessed=1`: the receipts proven against a checkpoint the witnesses' quorum
    /// cosigned, once there is one covering the batch (up to `[witness] wait_seconds`). The events are
    /// durable either way: after the wait, the ordinary receipts are answered, and `Probity-Witnessed`
    /// says which the caller got.
    private func witnessedAnswer(
        _ batch: LogWriter.Batch, policy: WitnessPolicy, witnessed: WitnessedCheckpoints
    ) async throws -> Response {
        var answer = Self.appendAnswer(batch)
        let receipts = batch.receipts
        guard await witnessed.wait(atLeast: (receipts.map(\.seq).max() ?? 0) + 1, for: policy.wait) else {
            answer.extraHeaders[Self.witnessedHeader] = "false"
            return answer.response
        }
        let size = witnessed.size
        let readers = readers
        let cosigned = try await blocking {
            let reader = try readers.log()
            return try receipts.map { receipt in
                let again = try reader.receipt(seq: receipt.seq, size: size)
                return LogWriter.Receipt(
                    seq: again.seq, leafHash: again.leafHash, proof: again.proof, duplicate: receipt.duplicate)
            }
        }
        return Answer(
            status: answer.status, contentType: answer.contentType, body: ReceiptsJSON.encode(cosigned),
            extraHeaders: [Self.witnessedHeader: "true"]
        ).response
    }

    /// Tells a caller of `POST /v1/events?witnessed=1` whether its receipts are cosigned.
    static let witnessedHeader = HTTPField.Name("Probity-Witnessed")!

    /// What `POST /v1/events` hands the writer: the caller's events, if its token may append and the body
    /// parses. Shared by the route and `EventLoopRoutes`, so that both give the same answers.
    func appendSubmission(authorization: String?, body: [UInt8]) throws -> LogWriter.Submission {
        let token = try auth.authorize(authorization: authorization, for: .append)
        return LogWriter.Submission(events: try parseEvents(body), by: "token:\(token.name)")
    }

    /// The error a failed submission is answered with: a refused reference names the event it is in.
    static func appendFailure(_ error: any Error, submission: LogWriter.Submission) -> any Error {
        guard let rejection = error as? EventRejection else { return error }
        return APIError.rejected(rejection, inBatch: submission.events.count > 1)
    }

    /// 201 with the receipts when something was appended; 200 when every event was already in the log.
    /// The receipts are proven here, on the caller's thread, not on the writer's.
    static func appendAnswer(_ batch: LogWriter.Batch) -> Answer {
        let receipts = batch.receipts
        return Answer(
            status: receipts.contains { !$0.duplicate } ? .created : .ok, contentType: "application/json",
            body: ReceiptsJSON.encode(receipts))
    }

    /// Validates events as `POST /v1/events` would, and appends nothing.
    private func validate(_ request: Request) async throws -> Response {
        _ = try auth.authorize(request, for: .append)
        let events = try parseEvents(try await body(request))
        // References are checked against the log as it is now; an append later may still find it changed.
        if let rejection = try await blocking({ try log.checkReferences(events) }) {
            throw APIError.rejected(rejection, inBatch: events.count > 1)
        }
        return .json(.object(["valid": .number(Double(events.count))]))
    }

    // MARK: Reading

    func checkpoint(_ request: Request) throws -> Answer {
        _ = try auth.authorize(request, for: .readProofs)
        let size = try Self.number(request, "size", required: false)
        return Answer(
            contentType: "text/plain; charset=utf-8", body: Array(try log.checkpoint(size: size).encoded.utf8))
    }

    /// `?witnessed=1`: waits (up to `[witness] wait_seconds`) until the witnesses' quorum cosigned a
    /// checkpoint covering the log as it is now (or entry `seq`), then answers that checkpoint, or the
    /// inclusion proof of `seq` against it, with the cosignatures in its note.
    private func witnessed(_ request: Request, seq: UInt64?) async throws -> Response {
        _ = try auth.authorize(request, for: .readProofs)
        let (policy, witnessed) = try witnessPolicy(request)
        let readers = readers
        let target = try await blocking { try seq.map { $0 + 1 } ?? readers.log().size() }
        guard await witnessed.wait(atLeast: target, for: policy.wait) else {
            throw APIError(
                .serviceUnavailable, "not_witnessed",
                "no checkpoint of \(target) entries or more was cosigned by \(policy.quorum) of the \(policy.witnesses.count) witnesses within \(policy.wait) (the largest so far: \(witnessed.size)); see probity_witness_requests_total in /metrics"
            )
        }
        let size = witnessed.size
        return try await blocking {
            guard let seq else {
                return Answer(
                    contentType: "text/plain; charset=utf-8",
                    body: Array(try readers.log().checkpoint(size: size).encoded.utf8)
                ).response
            }
            return try inclusionProof(seq: seq, size: size).response
        }
    }

    /// The policy a `?witnessed=1` request waits for: refused when the parameter is not 1 or when
    /// probityd has no witnesses.
    private func witnessPolicy(_ request: Request) throws -> (WitnessPolicy, WitnessedCheckpoints) {
        guard request.uri.queryParameters.get("witnessed") == "1" else {
            throw APIError.badParameter("witnessed", "must be 1 (wait for a checkpoint the witnesses cosigned)")
        }
        guard let witnesses else {
            throw APIError(
                .notFound, "no_witnesses", "probityd sends its checkpoints to no witness; configure [witness] witnesses"
            )
        }
        return witnesses
    }

    func inclusionProof(_ request: Request) throws -> Answer {
        _ = try auth.authorize(request, for: .readProofs)
        let seq = try Self.number(request, "seq", required: true)!
        let size = try Self.number(request, "size", required: false)
        return try inclusionProof(seq: seq, size: size)
    }

    private func inclusionProof(seq: UInt64, size: UInt64?) throws -> Answer {
        // Proof and leaf hash from the tiles, in one read: no entry to read from a large store.
        let receipt = try log.receipt(seq: seq, size: size)
        let proof = receipt.proof
        return .json(
            .object([
                "seq": .number(Double(seq)),
                "size": .number(Double(proof.checkpoint.checkpoint.size)),
                "leaf_hash": .string(Hex.encode(receipt.leafHash)),
                "hashes": .array(proof.proof.map { .string(Base64.encode($0)) }),
                "checkpoint": .string(proof.checkpoint.encoded),
                "proof": .string(proof.encoded),
            ]))
    }

    func consistencyProof(_ request: Request) throws -> Answer {
        _ = try auth.authorize(request, for: .readProofs)
        let old = try Self.number(request, "old", required: true)!
        let size = try Self.number(request, "new", required: false)
        let answer: (checkpoint: SignedCheckpoint, oldRoot: Merkle.Hash, proof: [Merkle.Hash])
        do { answer = try log.consistency(from: old, toCheckpoint: size) } catch let error as StoreError
            where error.code == .badArgument
        {
            throw APIError.badParameter("old", error.message)  // outside 1...new: the store says which new
        }
        return .json(
            .object([
                "old_size": .number(Double(old)),
                "new_size": .number(Double(answer.checkpoint.checkpoint.size)),
                "old_root": .string(Base64.encode(answer.oldRoot)),
                "new_root": .string(Base64.encode(answer.checkpoint.checkpoint.root)),
                "proof": .array(answer.proof.map { .string(Base64.encode($0)) }),
                "checkpoint": .string(answer.checkpoint.encoded),
            ]))
    }

    /// A signed stream-head note for `?stream=procedure:<ref>|party:<id>` at the current size.
    private func streamHead(_ request: Request) throws -> Response {
        _ = try auth.authorize(request, for: .readProofs)
        guard let stream = request.uri.queryParameters.get("stream") else {
            throw APIError.badParameter("stream", "missing; add ?stream=procedure:<ref> or party:<id>")
        }
        guard Identifier.isValidStream(stream) else {
            throw APIError.badParameter(
                "stream", "must be procedure:<ref> or party:<id> (ids \(Identifier.rule)), got \"\(stream)\"")
        }
        // Read, then signed here: the writer's connection is the writer thread's alone.
        let note = try LogReader.signedStreamHead(
            stream, at: log.streamPosition(stream), origin: signer.verifier.name, signer: signer)
        return .bytes(Array(note.encoded.utf8), contentType: "text/plain; charset=utf-8")
    }

    private func listEvents(_ request: Request) throws -> Response {
        let token = try auth.authorize(request, for: .readEntries)
        let page = try Page(request, defaultLimit: 100)
        let entries = try log.entries(from: page.after.map { $0 + 1 } ?? 0, limit: page.limit)
        let withPayloads = token.role.allows(.readPayloads)
        var body: [UInt8] = Array(#"{"entries":["#.utf8)
        for (index, entry) in entries.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            Self.appendEntryJSON(entry, withPayload: withPayloads, to: &body)
        }
        body += Array("],\"next_after\":".utf8)
        // Written exactly, not through JSONValue's Double: a seq may pass 2^53.
        body += Array((entries.last.map { String($0.seq) } ?? page.after.map(String.init) ?? "null").utf8)
        body += Array("}".utf8)
        return .bytes(body, contentType: "application/json")
    }

    private func event(_ request: Request, seq text: String) throws -> Response {
        let token = try auth.authorize(request, for: .readEntries)
        guard let seq = LogNumber.parse(text) else {
            throw APIError.badParameter("seq", "\(LogNumber.expectation), got \"\(text)\"")
        }
        guard let entry = try log.entry(seq: seq) else {
            throw APIError.notFound("no entry \(seq); the log has \(try log.size()) entries")
        }
        var body: [UInt8] = []
        Self.appendEntryJSON(entry, withPayload: token.role.allows(.readPayloads), to: &body)
        return .bytes(body, contentType: "application/json")
    }

    /// `{"seq", "leaf_hash", "entry": <entry bytes verbatim>, "payload": <payload bytes verbatim>, "salt"}`.
    /// The entry and payload are spliced in byte for byte: they are RFC 8785 JSON already, so any JCS
    /// implementation re-encodes the parsed values to exactly the hashed bytes.
    static func appendEntryJSON(_ entry: LogReader.StoredEntry, withPayload: Bool, to body: inout [UInt8]) {
        body += Array(#"{"seq":\#(entry.seq),"leaf_hash":""#.utf8)
        Hex.append(entry.leafHash, to: &body)
        body += Array(#"","entry":"#.utf8)
        body += entry.bytes
        if withPayload, let payload = entry.payload {
            body += Array(#","payload":"#.utf8)
            body += payload.bytes
            body += Array(#","salt":""#.utf8)
            Hex.append(payload.salt, to: &body)
            body.append(UInt8(ascii: "\""))
        }
        body.append(UInt8(ascii: "}"))
    }

    // MARK: Health

    private func health() -> Response {
        let size = (try? log.size()).map { JSONValue.number(Double($0)) } ?? .null
        if let writer = committer.otherWriter {
            // Reads are served; appends go to the writer (a load balancer sends them there on this 503).
            return .json(
                .object(["status": .string("standby"), "size": size, "error": .string(writer)]),
                status: .serviceUnavailable)
        }
        if let failure = committer.failure {
            return .json(
                .object(["status": .string("degraded"), "size": size, "error": .string(failure)]),
                status: .serviceUnavailable)
        }
        return .json(.object(["status": .string("ok"), "size": size]))
    }

    static func number(_ request: Request, _ name: String, required: Bool) throws(APIError) -> UInt64? {
        guard let text = request.uri.queryParameters.get(name) else {
            if required { throw APIError.badParameter(name, "missing; add ?\(name)=N") }
            return nil
        }
        guard let value = LogNumber.parse(text) else {
            throw APIError.badParameter(name, "\(LogNumber.expectation), got \"\(text)\"")
        }
        return value
    }
}
