import Foundation
import Hummingbird
import NIOCore
import NIOPosix
import ProbityDomain
import ProbityEvidence
import ProbityLog
import ProbityStore
import ProbityWire

/// Evidence for legal teams (docs/API.md): timeline exports and evidence bundles for the `export` role,
/// streamed as they are written, and redactions for the `admin` role. Same parameters and checks as
/// `probity export` and `probity redact`.
struct EvidenceRoutes: Sendable {
    let readers: StoreReaders
    let auth: Authenticator
    let projections: ProjectionCache
    let committer: GroupCommitter
    let signer: NoteSigner

    func add(to router: Router<BasicRequestContext>) {
        router.get("/v1/export/timeline") { request, _ in try await timeline(request) }
        router.get("/v1/export/bundle") { request, _ in try await bundle(request) }
        router.post("/v1/redactions") { request, _ in try await redact(request) }
    }

    // MARK: Exports

    /// `procedure=REF`, `party=ID`, or `from=TIME&to=TIME` (RFC 3339): exactly one scope.
    static func scope(_ request: Request) throws -> ExportScope {
        let query = request.uri.queryParameters
        let procedure = query.get("procedure"), party = query.get("party"), from = query.get("from"),
            to = query.get("to")
        guard [procedure != nil, party != nil, from != nil || to != nil].filter({ $0 }).count == 1 else {
            throw APIError.badParameter("procedure", "give one scope: procedure=REF, party=ID, or from=TIME&to=TIME")
        }
        if let procedure { return .procedure(procedure) }
        if let party { return .party(party) }
        guard let from, let start = Timestamp(rfc3339: from) else {
            throw APIError.badParameter("from", "must be an RFC 3339 time such as 2026-03-01T00:00:00Z")
        }
        guard let to, let end = Timestamp(rfc3339: to) else {
            throw APIError.badParameter("to", "must be an RFC 3339 time such as 2026-04-01T00:00:00Z")
        }
        guard start < end else { throw APIError.badParameter("from", "must be before to") }
        return .period(from: start, to: end)
    }

    /// The projections, the scope checked against them, the language and the time zone of a request.
    /// `tokenChecked`: the caller (the console, with a session of the export role) has authorized it.
    private func source(
        _ request: Request, tokenChecked: Bool
    ) throws -> (EvidenceSource, ExportScope, FindingText.Language, LocalTime) {
        if !tokenChecked { _ = try auth.authorize(request, for: .export) }
        let scope = try Self.scope(request)
        let reader = try readers.projections()
        let source = EvidenceSource(reader: reader, state: try projections.current(reader))
        let procedure: DomainState.Procedure?
        do { procedure = try source.check(scope) } catch {
            // Only a period can be malformed here.
            throw error.code == .notFound
                ? APIError.notFound(error.message) : APIError.badParameter("from", error.message)
        }
        let query = request.uri.queryParameters
        let langText = query.get("lang") ?? "en"
        guard let lang = FindingText.Language(rawValue: langText) else {
            throw APIError.badParameter("lang", "must be en or fr, got \"\(langText)\"")
        }
        var time = procedure.map { LocalTime.buyers($0, in: source.state) } ?? .utc
        if let tz = query.get("tz") {
            guard let zone = LocalTime(identifier: tz) else {
                throw APIError.badParameter("tz", "\"\(tz)\" is not an IANA time zone such as Europe/Paris")
            }
            time = zone
        }
        return (source, scope, lang, time)
    }

    func timeline(_ request: Request, tokenChecked: Bool = false) async throws -> Response {
        let formatText = request.uri.queryParameters.get("format") ?? "jsonl"
        guard let format = EvidenceSource.TimelineFormat(rawValue: formatText) else {
            throw APIError.badParameter("format", "must be jsonl, csv or html, got \"\(formatText)\"")
        }
        let (source, scope, lang, time) = try source(request, tokenChecked: tokenChecked)
        let bytes = try await blocking {
            try source.timeline(scope, format: format, time: time, lang: lang, generatedAt: .now())
        }
        let type = [
            "jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8",
        ][formatText]!
        return Self.streamed(contentType: type, filename: "timeline.\(formatText)") { write in
            for start in stride(from: 0, to: bytes.count, by: 1 << 20) {
                try write(Array(bytes[start..<min(start + (1 << 20), bytes.count)]))
            }
        }
    }

    func bundle(_ request: Request, tokenChecked: Bool = false) async throws -> Response {
        let (source, scope, lang, time) = try source(request, tokenChecked: tokenChecked)
        let signer = self.signer
        let bundle = try await blocking {
            try source.bundle(scope, time: time, lang: lang, signer: signer, generatedAt: .now())
        }
        return Self.streamed(contentType: "application/zip", filename: "bundle.zip") { write in
            try bundle.write(signManifest: { try signer.sign(text: $0) }, to: write)
        }
    }

    /// A response whose body `produce` writes, in chunks, from the blocking-work pool: the ZIP is sent as it
    /// is written. An error once the body has started can only cut the response short; the client's ZIP
    /// reader then fails on the missing central directory.
    static func streamed(
        contentType: String, filename: String,
        _ produce: @escaping @Sendable (_ write: @escaping ([UInt8]) throws -> Void) throws -> Void
    ) -> Response {
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream(bufferingPolicy: .unbounded)
        NIOThreadPool.singleton.submit { state in
            if state == .active { try? produce { continuation.yield(ByteBuffer(bytes: $0)) } }
            continuation.finish()
        }
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.contentDisposition] = "attachment; filename=\"\(filename)\""
        return Response(status: .ok, headers: headers, body: ResponseBody(asyncSequence: stream))
    }

    // MARK: Redaction

    /// `{"seq": N, "legal_basis": "…", "requested_by": "…"}`: erases the payload of entry N and appends
    /// `redaction.applied`, unless an open legal hold covers it. Checked and written between two commits.
    private func redact(_ request: Request) async throws -> Response {
        let token = try auth.authorize(request, for: .administer)
        let body = try await ProbityAPI.body(of: request, limit: 64 * 1024, setting: nil)
        let json: JSONValue
        do { json = try JSONParser.parse(body, numbers: .exact) } catch {
            throw APIError(.badRequest, "bad_json", "the body is not JSON: \(error)")
        }
        guard let seq = json["seq"]?.uint64Value else {
            throw APIError(.badRequest, "bad_field", "seq must be the entry's seq (a whole number)", field: "seq")
        }
        var fields: [String: String] = [:]
        for name in ["legal_basis", "requested_by"] {
            guard let value = json[name]?.stringValue else {
                throw APIError(.badRequest, "bad_field", "\(name) is required (a string)", field: name)
            }
            do throws(EventInputError) { try EventSchema.check(.string(value), as: .code, at: name) } catch {
                throw APIError(.badRequest, "bad_field", error.message, field: name)
            }
            fields[name] = value
        }
        let (readers, projections, by) = (self.readers, self.projections, "token:\(token.name)")
        let (legalBasis, requestedBy) = (fields["legal_basis"]!, fields["requested_by"]!)
        let batch = try await committer.exclusive { writer -> LogWriter.Batch in
            if let by = try projections.current(try readers.projections()).redactions[seq] {
                throw APIError(
                    .conflict, "already_redacted", "entry \(seq) is already redacted (by seq \(by))", field: "seq")
            }
            return try writer.redact(seq: seq, legalBasis: legalBasis, requestedBy: requestedBy, by: by)
        }
        return .json(
            .object(["redacted_seq": .number(Double(seq)), "redaction": batch.receipts[0].json]), status: .created)
    }
}

/// Runs blocking work (SQLite reads, hashing a bundle, a TSA round trip) on NIO's blocking-work pool,
/// off the cooperative pool and the event loops (docs/ARCHITECTURE.md, "Concurrency").
func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await NIOThreadPool.singleton.runIfActive { try work() }
}
