import Hummingbird
import ProbityDomain
import ProbityLog

/// `?after=SEQ&limit=N` of a paged route (`GET /v1/events`, a procedure's coverage, the timelines): the
/// items after entry SEQ, at most N (1 to `ProbityAPI.maxPage`). A log or a procedure may hold millions of
/// them: an answer never holds more than one page.
struct Page {
    let after: UInt64?
    let limit: Int

    init(_ request: Request, defaultLimit: Int) throws {
        after = try ProbityAPI.number(request, "after", required: false)
        let limit = try ProbityAPI.number(request, "limit", required: false) ?? UInt64(defaultLimit)
        guard limit >= 1, limit <= UInt64(ProbityAPI.maxPage) else {
            throw APIError.badParameter("limit", "must be between 1 and \(ProbityAPI.maxPage), got \(limit)")
        }
        self.limit = Int(limit)
    }

    /// `next_after`: the last seq of this page (or `after` when it is empty); a page shorter than the
    /// limit is the last one for now.
    func next(_ last: UInt64?) -> JSONValue { (last ?? after).map { .number(Double($0)) } ?? .null }

    /// This page of `records`, as the timeline routes send it.
    func entries(_ records: RecordList, _ state: DomainState) -> (JSONValue, JSONValue) {
        let start = records.index(after: after)
        let end = min(records.count, start + limit)
        let page = records[start..<end]
        return (
            .array(page.map { DomainJSON.record($0, redactedBy: state.redactions[$0.seq]) }),
            next(end > start ? records.seq(at: end - 1) : nil)
        )
    }
}
