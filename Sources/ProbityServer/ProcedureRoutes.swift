import Foundation
import Hummingbird
import ProbityDomain
import ProbityLog
import ProbityStore
import Synchronization

/// Read-only routes over the procurement projections (`read` role and above): procedures, their
/// timelines, disclosure coverage and findings. Header data only: no payload, so no personal data.
struct ProcedureRoutes: Sendable {
    let readers: StoreReaders
    let auth: Authenticator
    let projections: ProjectionCache

    /// Every route reads SQLite and folds entries: they run on the blocking pool (see `blocking`).
    func add(to router: Router<BasicRequestContext>) {
        router.get("/v1/procedures") { request, _ in try await blocking { try list(request) } }
        router.get("/v1/procedures/:ref") { request, context in
            let ref = try context.parameters.require("ref")
            return try await blocking { try show(request, ref) }
        }
        router.get("/v1/procedures/:ref/timeline") { request, context in
            let ref = try context.parameters.require("ref")
            return try await blocking { try timeline(request, ref) }
        }
        router.get("/v1/procedures/:ref/findings") { request, context in
            let ref = try context.parameters.require("ref")
            return try await blocking { try findings(request, ref) }
        }
        router.get("/v1/parties/:id/timeline") { request, context in
            let id = try context.parameters.require("id")
            return try await blocking { try partyTimeline(request, id) }
        }
    }

    private func state(_ request: Request) throws -> DomainState {
        _ = try auth.authorize(request, for: .readEntries)
        return try projections.current(readers.projections())
    }

    private func procedure(_ ref: String, in state: DomainState) throws -> DomainState.Procedure {
        guard let procedure = state.procedures[ref] else {
            throw APIError.notFound("no procedure \"\(ref)\" in the log")
        }
        return procedure
    }

    private func list(_ request: Request) throws -> Response {
        let state = try state(request)
        return .json(
            .object([
                "entries": .number(Double(state.entries)),
                "procedures": .array(
                    state.procedures.values.sorted { $0.ref < $1.ref }.map { DomainJSON.procedure($0) }),
            ]))
    }

    private func show(_ request: Request, _ ref: String) throws -> Response {
        let page = try Page(request, defaultLimit: ProbityAPI.maxPage)
        let state = try state(request)
        let p = try procedure(ref, in: state)
        let coverage = QuestionCoverage.page(p, in: state, after: page.after, limit: page.limit).coverage
        return .json(
            .object([
                "procedure": DomainJSON.procedure(p),
                "coverage": .array(coverage.map(DomainJSON.coverage)),
                "next_after": page.next(coverage.last?.question.seq),
            ]))
    }

    private func timeline(_ request: Request, _ ref: String) throws -> Response {
        let page = try Page(request, defaultLimit: ProbityAPI.maxPage)
        let state = try state(request)
        let (entries, next) = page.entries(state.records(of: try procedure(ref, in: state)), state)
        return .json(.object(["procedure": .string(ref), "entries": entries, "next_after": next]))
    }

    private func partyTimeline(_ request: Request, _ id: String) throws -> Response {
        let page = try Page(request, defaultLimit: ProbityAPI.maxPage)
        let state = try state(request)
        guard state.party(id) != nil else { throw APIError.notFound("no party \"\(id)\" is registered in the log") }
        let (entries, next) = page.entries(state.records(involving: id), state)
        return .json(.object(["party": .string(id), "entries": entries, "next_after": next]))
    }

    /// `?lang=en|fr` for the explanations, `?tz=ZONE` for their times (default: the buyer's zone, else UTC).
    private func findings(_ request: Request, _ ref: String) throws -> Response {
        let state = try state(request)
        let p = try procedure(ref, in: state)
        let langText = request.uri.queryParameters.get("lang") ?? "en"
        guard let lang = FindingText.Language(rawValue: langText) else {
            throw APIError.badParameter("lang", "must be en or fr, got \"\(langText)\"")
        }
        let time: LocalTime
        if let tz = request.uri.queryParameters.get("tz") {
            guard let zone = LocalTime(identifier: tz) else {
                throw APIError.badParameter("tz", "\"\(tz)\" is not an IANA time zone such as Europe/Paris")
            }
            time = zone
        } else {
            time = LocalTime.buyers(p, in: state)
        }
        return .json(
            .object([
                "procedure": .string(ref), "entries": .number(Double(state.entries)),
                "time_zone": .string(time.zone.identifier),
                "findings": .array(
                    FindingRules.evaluate(state, procedure: ref).map { FindingText.json($0, lang, time: time) }),
            ]))
    }
}

/// The projections kept up to date between requests: each request applies only the entries appended
/// since the last one (the first starts from the snapshot `probity replay` saved).
final class ProjectionCache: Sendable {
    private let state = Mutex<DomainState?>(nil)

    func current(_ reader: any ProjectionReads) throws -> DomainState {
        try state.withLock { state in
            // Taken out of the cache so that the update mutates the only copy: copying the records of a
            // million events to add a few would double the daemon's memory for a moment.
            var current = try state.take() ?? reader.domainState()
            defer { state = current }
            try reader.update(&current)
            return current
        }
    }
}
