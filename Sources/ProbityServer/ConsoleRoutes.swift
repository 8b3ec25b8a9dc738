import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ProbityConsole
import ProbityDomain
import ProbityLog
import ProbityStore
import Synchronization

/// The web console under /ui/ (docs/CONSOLE.md): read-only pages for a token of the `read` role or above,
/// signed in once into a session cookie. Every response carries a strict Content-Security-Policy (nothing
/// inline, nothing from elsewhere); every state-changing request (sign-in, sign-out) carries a CSRF token.
struct ConsoleRoutes: Sendable {
    let readers: StoreReaders
    let auth: Authenticator
    let projections: ProjectionCache
    let sessions: ConsoleSessions
    /// The findings of the whole log, kept per log size: evaluating them reads every record.
    let findings = FindingsCache()
    /// The exports, shared with /v1/export: the console's downloads are the same files.
    let evidence: EvidenceRoutes
    let committerFailure: @Sendable () -> String?
    /// The log's origin (the signing key's name, checked against the store at start).
    let origin: String

    static let pages: ConsolePages = {
        do { return try ConsolePages() } catch { fatalError("the console's embedded templates do not parse: \(error)") }
    }()

    static let sessionCookie = "probity_session"
    static let signInCookie = "probity_signin"
    /// Sign-in forms are tiny: a token and a CSRF value.
    static let maxFormBytes = 4096

    func add(to router: Router<BasicRequestContext>) {
        router.get("/ui/static/console.css") { _, _ in
            var headers = Self.securityHeaders
            headers[.contentType] = "text/css; charset=utf-8"
            headers[.cacheControl] = "public, max-age=3600"
            return Response(
                status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: ConsolePages.stylesheet)))
        }
        for (name, script) in [
            ("verify.js", ConsolePages.verifierScript), ("download.js", ConsolePages.downloadScript),
        ] {
            router.get("/ui/static/\(name)") { _, _ in
                var headers = Self.securityHeaders
                headers[.contentType] = "text/javascript; charset=utf-8"
                headers[.cacheControl] = "public, max-age=3600"
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: script)))
            }
        }
        // A period from the dashboard's form: its browser-local times are read as UTC, as the form says.
        router.get("/ui/export/period") { request, _ in
            try await download(request) { request in
                let query = request.uri.queryParameters
                func utc(_ name: String) -> String {
                    let value = query.get(name) ?? ""
                    let seconds = value.count == 16 ? value + ":00" : value  // datetime-local omits seconds
                    return (seconds.hasSuffix("Z") ? seconds : seconds + "Z")
                        .addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                }
                let what = query.get("what") ?? "csv"
                let scope = "from=\(utc("from"))&to=\(utc("to"))&lang=\(Self.language(request).rawValue)"
                var head = request.head
                head.path =
                    what == "bundle" ? "/v1/export/bundle?\(scope)" : "/v1/export/timeline?format=\(what)&\(scope)"
                let rewritten = Request(head: head, body: RequestBody(buffer: ByteBuffer()))
                return what == "bundle"
                    ? try await evidence.bundle(rewritten, tokenChecked: true)
                    : try await evidence.timeline(rewritten, tokenChecked: true)
            }
        }
        router.get("/ui/parties/:id") { request, context in
            let segment = try context.parameters.require("id")
            let id = segment.removingPercentEncoding ?? segment
            return try await page(request) { viewer, lang in try party(request, id, viewer, lang) }
        }
        router.get("/ui/entries/:seq") { request, context in
            let text = try context.parameters.require("seq")
            return try await page(request) { viewer, lang in try entry(text, viewer, lang) }
        }
        // Downloads for sessions of the export role: the timeline (format=csv|html|jsonl) and the evidence
        // bundle of a procedure, as GET /v1/export/… makes them.
        router.get("/ui/export/timeline") { request, _ in
            try await download(request) { try await evidence.timeline($0, tokenChecked: true) }
        }
        router.get("/ui/export/bundle") { request, _ in
            try await download(request) { try await evidence.bundle($0, tokenChecked: true) }
        }
        router.get("/ui/sign-in") { request, _ in try signInForm(request, error: nil, status: .ok) }
        router.post("/ui/sign-in") { request, _ in try await signIn(request) }
        router.post("/ui/sign-out") { request, _ in try await signOut(request) }
        router.get("/ui/") { request, _ in
            try await page(request) { viewer, lang in try dashboard(viewer, lang) }
        }
        router.get("/ui/procedures") { request, _ in
            try await page(request) { viewer, lang in try procedures(request, viewer, lang) }
        }
        router.get("/ui/procedures/:ref") { request, context in
            let segment = try context.parameters.require("ref")
            let ref = segment.removingPercentEncoding ?? segment
            return try await page(request) { viewer, lang in try procedure(request, ref, viewer, lang) }
        }
    }

    // MARK: Headers, cookies, forms

    /// Sent with every console response: no script or style but the console's own, no framing, no
    /// referrer, no caching of pages that show the log.
    static let securityHeaders: HTTPFields = [
        HTTPField.Name("Content-Security-Policy")!:
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "no-referrer",
        HTTPField.Name("X-Frame-Options")!: "DENY",
        .cacheControl: "no-store",
    ]

    static func html(_ text: String, status: HTTPResponse.Status = .ok, cookies: [String] = []) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func redirect(_ location: String, cookies: [String] = []) -> Response {
        var headers = securityHeaders
        headers[.location] = location
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: .seeOther, headers: headers)
    }

    /// A cookie only this console's pages send back, never to scripts or other sites.
    static func cookie(_ name: String, _ value: String) -> String {
        "\(name)=\(value); Path=/ui; HttpOnly; SameSite=Strict; Secure"
    }

    static func expired(_ name: String) -> String { "\(name)=; Path=/ui; HttpOnly; SameSite=Strict; Secure; Max-Age=0" }

    static func cookies(_ request: Request) -> [String: String] {
        var cookies: [String: String] = [:]
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                guard let equals = pair.firstIndex(of: "=") else { continue }
                let name = pair[..<equals].trimmingCharacters(in: .whitespaces)
                if cookies[name] == nil { cookies[name] = String(pair[pair.index(after: equals)...]) }
            }
        }
        return cookies
    }

    /// An `application/x-www-form-urlencoded` body.
    static func form(_ bytes: [UInt8]) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in String(decoding: bytes, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            if let name = parts.first { fields[decode(name)] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return fields
    }

    static func language(_ request: Request) -> ConsoleLanguage {
        ConsoleLanguage.choose(
            query: request.uri.queryParameters.get("lang"), acceptLanguage: request.headers[.acceptLanguage])
    }

    // MARK: Sign-in and sign-out

    private func signInForm(_ request: Request, error: String?, status: HTTPResponse.Status) throws -> Response {
        // A fresh value in a cookie and in the form: a sign-in posted from another site carries neither.
        let csrf = try ConsoleSessions.secret()
        let lang = Self.language(request)
        return Self.html(
            Self.pages.signIn(lang: lang, csrf: csrf, error: error, origin: origin), status: status,
            cookies: [Self.cookie(Self.signInCookie, csrf)])
    }

    private func signIn(_ request: Request) async throws -> Response {
        let lang = Self.language(request)
        let fr = lang == .fr
        let fields = Self.form(try await ProbityAPI.body(of: request, limit: Self.maxFormBytes, setting: nil))
        guard let expected = Self.cookies(request)[Self.signInCookie], let sent = fields["csrf"],
            ConstantTime.equal(Array(expected.utf8), Array(sent.utf8))
        else {
            return try signInForm(
                request,
                error: fr
                    ? "le formulaire a expiré ou ne vient pas de cette page ; saisissez le jeton à nouveau."
                    : "the form expired or did not come from this page; enter the token again.",
                status: .forbidden)
        }
        let token: TokenInfo
        do {
            token = try auth.authorize(authorization: "Bearer " + (fields["token"] ?? ""), for: .readEntries)
        } catch let error as APIError {
            let message =
                error.status == .forbidden
                ? (fr
                    ? "ce jeton n'a pas accès à la console (il faut le rôle read, export ou admin)."
                    : "this token may not use the console (it needs the read, export or admin role).")
                : (fr ? "jeton inconnu, révoqué ou mal formé." : "unknown, revoked or malformed token.")
            return try signInForm(request, error: message, status: error.status)
        }
        let (id, _) = try sessions.open(token: token)
        return Self.redirect(
            "/ui/?lang=\(lang.rawValue)",
            cookies: [Self.cookie(Self.sessionCookie, id), Self.expired(Self.signInCookie)])
    }

    private func signOut(_ request: Request) async throws -> Response {
        let fields = Self.form(try await ProbityAPI.body(of: request, limit: Self.maxFormBytes, setting: nil))
        let lang = Self.language(request)
        guard let id = Self.cookies(request)[Self.sessionCookie], let session = sessions.use(id) else {
            return Self.redirect("/ui/sign-in?lang=\(lang.rawValue)", cookies: [Self.expired(Self.sessionCookie)])
        }
        guard let sent = fields["csrf"], ConstantTime.equal(Array(session.csrf.utf8), Array(sent.utf8)) else {
            let viewer = ConsoleViewer(user: session.user, role: session.role.rawValue, csrf: session.csrf)
            return Self.html(
                Self.pages.error(
                    heading: lang == .fr ? "Requête refusée" : "Request refused",
                    message: lang == .fr
                        ? "Le jeton anti-falsification (CSRF) manque ou ne correspond pas à votre session."
                        : "The anti-forgery (CSRF) token is missing or does not match your session.",
                    lang: lang, viewer: viewer, origin: origin), status: .forbidden)
        }
        sessions.close(id)
        return Self.redirect("/ui/sign-in?lang=\(lang.rawValue)", cookies: [Self.expired(Self.sessionCookie)])
    }

    // MARK: Pages

    /// Runs `body` for a signed-in viewer whose token is still valid; else back to the sign-in page.
    private func page(
        _ request: Request, _ body: @escaping @Sendable (ConsoleViewer, ConsoleLanguage) throws -> Response
    ) async throws -> Response {
        let lang = Self.language(request)
        guard let id = Self.cookies(request)[Self.sessionCookie], let session = sessions.use(id) else {
            return Self.redirect("/ui/sign-in?lang=\(lang.rawValue)", cookies: [Self.expired(Self.sessionCookie)])
        }
        guard let token = try auth.valid(id: session.tokenID), token.role.allows(.readEntries) else {
            sessions.close(id)
            return Self.redirect("/ui/sign-in?lang=\(lang.rawValue)", cookies: [Self.expired(Self.sessionCookie)])
        }
        let viewer = ConsoleViewer(user: session.user, role: session.role.rawValue, csrf: session.csrf)
        return try await blocking { try body(viewer, lang) }
    }

    /// An export for a live session whose token may export; refusals and bad parameters as pages.
    private func download(
        _ request: Request, _ export: @escaping @Sendable (Request) async throws -> Response
    ) async throws -> Response {
        let lang = Self.language(request)
        guard let id = Self.cookies(request)[Self.sessionCookie], let session = sessions.use(id),
            let token = try auth.valid(id: session.tokenID)
        else {
            return Self.redirect("/ui/sign-in?lang=\(lang.rawValue)", cookies: [Self.expired(Self.sessionCookie)])
        }
        let viewer = ConsoleViewer(user: session.user, role: session.role.rawValue, csrf: session.csrf)
        guard token.role.allows(.export) else {
            return Self.html(
                Self.pages.error(
                    heading: lang == .fr ? "Accès refusé" : "Access refused",
                    message: lang == .fr
                        ? "Les exports demandent un jeton de rôle export ; le vôtre a le rôle \(token.role.rawValue)."
                        : "Exports need a token of the export role; yours has the role \(token.role.rawValue).",
                    lang: lang, viewer: viewer, origin: origin), status: .forbidden)
        }
        do {
            var response = try await export(request)
            response.headers[.cacheControl] = "no-store"
            return response
        } catch let error as APIError {
            return Self.html(
                Self.pages.error(
                    heading: lang == .fr ? "Export impossible" : "Export failed", message: error.message, lang: lang,
                    viewer: viewer, origin: origin), status: error.status)
        }
    }

    private func notFound(_ message: String, _ viewer: ConsoleViewer, _ lang: ConsoleLanguage) -> Response {
        Self.html(
            Self.pages.error(
                heading: lang == .fr ? "Introuvable" : "Not found", message: message, lang: lang, viewer: viewer,
                origin: origin), status: .notFound)
    }

    private func dashboard(_ viewer: ConsoleViewer, _ lang: ConsoleLanguage) throws -> Response {
        let reader = try readers.projections()
        var facts = DashboardFacts()
        facts.origin = origin
        let checkpoint = try reader.checkpoint(size: nil)
        facts.checkpoint = checkpoint
        facts.checkpointTime = try reader.checkpointTime(size: checkpoint.checkpoint.size).flatMap {
            Timestamp(rfc3339: $0)
        }
        facts.keys = try reader.keyChain().map {
            DashboardFacts.Key(
                seq: $0.seq, type: $0.type, time: Timestamp(rfc3339: $0.time), verifierKey: $0.verifierKey)
        }
        facts.timestamps = try reader.timestampEntries(below: checkpoint.checkpoint.size).count
        facts.failure = committerFailure()
        facts.lastVerify = try reader.lastVerification().map {
            (Timestamp(rfc3339: $0.time), $0.size, $0.intact, $0.failures, $0.trust)
        }
        // The dashboard's times are in the zone of the first procedure's buyer, else UTC.
        let state = try projections.current(reader)
        let zone = state.procedures.values.min { $0.ref < $1.ref }.map { LocalTime.buyers($0, in: state) } ?? .utc
        return Self.html(Self.pages.dashboard(facts, zone: zone, lang: lang, viewer: viewer))
    }

    private func entry(_ text: String, _ viewer: ConsoleViewer, _ lang: ConsoleLanguage) throws -> Response {
        let reader = try readers.projections()
        guard let seq = UInt64(text), let stored = try reader.entry(seq: seq), seq < (try reader.size()) else {
            return notFound(
                lang == .fr ? "Aucune entrée « \(text) » dans le journal." : "No entry \"\(text)\" in the log.", viewer,
                lang)
        }
        let mayReadPayloads = Role(rawValue: viewer.role)?.allows(.readPayloads) == true
        let facts = ConsolePages.EntryFacts(
            seq: seq, bytes: stored.bytes, leafHash: stored.leafHash.bytes,
            payload: mayReadPayloads ? stored.payload?.bytes : nil, mayReadPayloads: mayReadPayloads,
            proof: try reader.tlogProof(seq: seq, size: nil))
        let state = try projections.current(reader)
        return Self.html(Self.pages.entry(facts, in: state, lang: lang, viewer: viewer, origin: origin))
    }

    private func party(
        _ request: Request, _ id: String, _ viewer: ConsoleViewer, _ lang: ConsoleLanguage
    ) throws -> Response {
        let state = try projections.current(readers.projections())
        guard let party = state.party(id) else {
            return notFound(
                lang == .fr ? "Aucune partie « \(id) » n'est enregistrée." : "No party \"\(id)\" is registered.",
                viewer,
                lang)
        }
        let page = request.uri.queryParameters.get("page").flatMap { Int($0) } ?? 0
        return Self.html(Self.pages.party(party, in: state, page: page, lang: lang, viewer: viewer, origin: origin))
    }

    private func procedures(_ request: Request, _ viewer: ConsoleViewer, _ lang: ConsoleLanguage) throws -> Response {
        let query = request.uri.queryParameters
        var filter = ConsolePages.ProcedureFilter()
        filter.query = query.get("q") ?? ""
        filter.kind = query.get("kind").flatMap(EventCatalogue.ProcedureKind.init(rawValue:))
        filter.phase = query.get("phase").flatMap(EventCatalogue.Phase.init(rawValue:))
        filter.onlyWithFindings = query.get("findings") == "1"
        let state = try projections.current(readers.projections())
        return Self.html(
            Self.pages.procedures(
                state, findings: findings.current(state), filter: filter, lang: lang, viewer: viewer, origin: origin))
    }

    private func procedure(
        _ request: Request, _ ref: String, _ viewer: ConsoleViewer, _ lang: ConsoleLanguage
    ) throws -> Response {
        let state = try projections.current(readers.projections())
        guard let procedure = state.procedures[ref] else {
            return notFound(
                lang == .fr ? "Aucune procédure « \(ref) » dans le journal." : "No procedure \"\(ref)\" in the log.",
                viewer, lang)
        }
        let page = request.uri.queryParameters.get("page").flatMap { Int($0) } ?? 0
        let own = findings.current(state).filter { $0.procedure == ref }
        return Self.html(
            Self.pages.procedure(
                procedure, in: state, findings: own, page: page, lang: lang, viewer: viewer, origin: origin))
    }
}

/// `FindingRules.evaluate` of the latest state, recomputed only when the log has grown.
final class FindingsCache: Sendable {
    private let cached = Mutex<(entries: UInt64, findings: [Finding])?>(nil)

    func current(_ state: DomainState) -> [Finding] {
        if let hit = cached.withLock({ $0 }), hit.entries == state.entries { return hit.findings }
        let findings = FindingRules.evaluate(state)
        cached.withLock { $0 = (state.entries, findings) }
        return findings
    }
}
