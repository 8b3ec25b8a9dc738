import ArgumentParser
import Foundation
import ProbityLog

/// `--witness VKEY` (repeatable) and `--quorum K`: the witnesses whose cosignatures a verification asks
/// for, and how many of them must have cosigned.
struct WitnessOptions: ParsableArguments {
    @Option(
        name: .customLong("witness"),
        help: ArgumentHelp(
            "A witness's verifier key (cosignature/v1, from `probity witness init`); repeatable.", valueName: "VKEY"))
    var keys: [String] = []

    @Option(help: ArgumentHelp("How many of the --witness keys must have cosigned (default: all).", valueName: "K"))
    var quorum: Int?

    func validate() throws {
        if keys.isEmpty, quorum != nil { throw ValidationError("--quorum needs the witnesses' keys (--witness VKEY)") }
        if let quorum, !(1...keys.count).contains(quorum) {
            throw ValidationError(
                "--quorum must be between 1 and the \(keys.count) --witness keys given, got \(quorum)")
        }
    }

    /// The quorum asked for, or nil when no witness was given.
    func rule() throws -> WitnessQuorum? {
        guard !keys.isEmpty else { return nil }
        var witnesses: [CosignatureVerifier] = []
        for key in keys {
            do { witnesses.append(try CosignatureVerifier(key.trimmingCharacters(in: .whitespacesAndNewlines))) } catch
            {
                throw CLIError.usage("--witness \(key): \(error)")
            }
        }
        return WitnessQuorum(witnesses: witnesses, quorum: quorum ?? witnesses.count)
    }

    static func json(_ cosigners: [(witness: CosignatureVerifier, time: UInt64)]) -> JSONValue {
        .array(
            cosigners.map {
                .object([
                    "witness": .string($0.witness.name), "key": .string($0.witness.description),
                    "time": .string(Cosignature.describe(time: $0.time)),
                ])
            })
    }

    static func describe(_ cosigners: [(witness: CosignatureVerifier, time: UInt64)]) -> String {
        cosigners.map { "\($0.witness.name) at \(Cosignature.describe(time: $0.time))" }.joined(separator: ", ")
    }
}
