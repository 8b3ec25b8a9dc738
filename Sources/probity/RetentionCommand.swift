import ArgumentParser
import Foundation
import ProbityDomain
import ProbityLog
import ProbityStore
import ProbityWire

struct RetentionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention",
        abstract: "Plan the erasure of payloads past their retention period.",
        subcommands: [Plan.self]
    )

    struct Plan: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List which payloads are past their retention period, without deleting anything.",
            discussion: """
                A procedure's documents are kept --years (default 5) after the contract's signature, works \
                contracts (contract_type "works" in procedure.opened) --works-years (default 10). The signature \
                date is the effective date of the procedure's `awarded` phase. Payloads under an open legal hold, \
                of procedures not yet awarded, or tied to no procedure are listed apart. Nothing is deleted: erase \
                what you decide with `probity redact`, which records why.

                Exit codes: 0 the plan was made, 2 usage or I/O error.

                Example:
                  probity retention plan --db var/log.sqlite
                  probity retention plan --db var/log.sqlite --as-of 2032-01-01T00:00:00Z --json
                """
        )
        @OptionGroup var store: StoreOption
        @Option(help: ArgumentHelp("Years to keep a procedure's documents after signature.", valueName: "N")) var years:
            Int = 5
        @Option(help: ArgumentHelp("Years to keep a works contract's documents after signature.", valueName: "N"))
        var worksYears: Int = 10
        @Option(help: ArgumentHelp("Plan as of this time (RFC 3339; default: now).", valueName: "TIME")) var asOf:
            String?
        @OptionGroup var output: JSONFlag

        func validate() throws {
            guard (1...100).contains(years), (1...100).contains(worksYears) else {
                throw ValidationError("--years and --works-years must be between 1 and 100")
            }
        }

        func run() throws {
            let asOf: Timestamp
            if let text = self.asOf {
                guard let time = Timestamp(rfc3339: text) else {
                    throw CLIError.usage("--as-of must be an RFC 3339 time such as 2032-01-01T00:00:00Z, got \(text)")
                }
                asOf = time
            } else {
                asOf = .now()
            }
            let (reader, state) = try loadDomain(store.db)
            let plan = try reporting {
                var contractTypes: [String: EventCatalogue.ContractType] = [:]
                for procedure in state.procedures.values {
                    guard let stored = try reader.entry(seq: procedure.openedSeq),
                        let entry = try? Entry(bytes: stored.bytes),
                        let type = entry.data["contract_type"]?.stringValue.flatMap(
                            EventCatalogue.ContractType.init(rawValue:))
                    else { continue }
                    contractTypes[procedure.ref] = type
                }
                return RetentionPlan(
                    state: state, payloadSeqs: try reader.payloadSeqs(), contractTypes: contractTypes,
                    policy: .init(years: years, worksYears: worksYears), asOf: asOf)
            }
            output.json ? Output.json(json(plan)) : print(plan)
        }

        func json(_ plan: RetentionPlan) -> JSONValue {
            .object([
                "as_of": .string(plan.asOf.description),
                "policy": .object(["years": .number(Double(years)), "works_years": .number(Double(worksYears))]),
                "due": .number(Double(plan.items.filter { if case .due = $0.status { true } else { false } }.count)),
                "items": .array(
                    plan.items.map { item in
                        var object: [String: JSONValue] = [
                            "seq": .number(Double(item.seq)), "type": .string(item.type),
                            "procedure": item.procedure.map { .string($0) } ?? .null,
                        ]
                        switch item.status {
                        case .due(let since):
                            object["status"] = .string("due"); object["since"] = .string(since.description)
                        case .kept(let until):
                            object["status"] = .string("kept"); object["until"] = .string(until.description)
                        case .held(let hold): object["status"] = .string("held"); object["hold"] = .string(hold)
                        case .undetermined(let reason):
                            object["status"] = .string("undetermined"); object["reason"] = .string(reason)
                        }
                        return .object(object)
                    }),
            ])
        }

        func print(_ plan: RetentionPlan) {
            let day = LocalTime.utc
            Output.line(
                "retention plan as of \(day.day(plan.asOf)) (procedure documents \(years) years after signature, works contracts \(worksYears) years); nothing was deleted"
            )
            var due: [String] = [], kept: [String: (count: Int, until: Timestamp)] = [:], held: [String] = [],
                undetermined: [String] = []
            for item in plan.items {
                let what = "seq \(item.seq) (\(item.type)\(item.procedure.map { ", procedure \($0)" } ?? ""))"
                switch item.status {
                case .due(let since): due.append("  \(what): past retention since \(day.day(since))")
                case .kept(let until): kept[item.procedure ?? "", default: (0, until)].count += 1
                case .held(let hold): held.append("  \(what): under legal hold \(hold)")
                case .undetermined(let reason): undetermined.append("  \(what): \(reason)")
                }
            }
            Output.line("past retention, may be redacted (\(due.count)):")
            due.forEach(Output.line)
            Output.line("kept (\(kept.values.map(\.count).reduce(0, +))):")
            for (procedure, group) in kept.sorted(by: { $0.key < $1.key }) {
                Output.line(
                    "  procedure \(procedure): \(group.count) payload\(group.count == 1 ? "" : "s") until \(day.day(group.until))"
                )
            }
            if !held.isEmpty { Output.line("under legal hold (\(held.count)):"); held.forEach(Output.line) }
            if !undetermined.isEmpty {
                Output.line("to decide case by case (\(undetermined.count)):"); undetermined.forEach(Output.line)
            }
            if !due.isEmpty {
                Output.line(
                    "to erase one: probity redact --db \(store.db) SEQ --legal-basis \"RGPD art. 5(1)(e), durée de conservation échue\" --requested-by \"DPO\""
                )
            }
        }
    }
}
