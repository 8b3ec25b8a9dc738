import Foundation
import ProbityDomain
import ProbityLog

/// The buyer, its 50 agents, 5,000 suppliers and 1,000 procedures (`2026-0000` … `2026-0999`) that the
/// benchmarks' synthetic exchanges refer to: appended first, since the writer checks references.
public func registrations() -> [EventInput] {
    func party(_ id: String, _ role: String) -> EventInput {
        EventInput(type: "party.registered", data: ["party": .string(id), "role": .string(role)])
    }
    return [party("buyer", "buyer_org")] + (0..<50).map { party("agent-\($0)", "buyer_agent") }
        + (0..<5000).map { party("sup-\($0)", "supplier_org") }
        + (0..<1000).map { i in
            EventInput(
                type: "procedure.opened",
                data: [
                    "procedure": .string("2026-\(String(format: "%04d", i))"), "kind": .string("open_tender"),
                    "buyer": .string("buyer"), "tender_deadline": .string("2026-04-07T12:00:00Z"),
                ])
        }
}
