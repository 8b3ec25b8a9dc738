import ArgumentParser
import Foundation
import ProbityDomain
import ProbityLog
import ProbityPostgres
import ProbityStore
import ProbityWire

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the whole log: canonical entries, hash chains, streams, checkpoints, keys, payloads, time.",
        discussion: """
            Recomputes everything from the entry bytes; trusts nothing the store derived. Names the first \
            failing seq and the kind of failure, then a summary. Pass the verifier key you were given \
            (--vkey) or the PEM public key (--pubkey); without either, the key in log.created is trusted. \
            Pass checkpoints you kept from earlier (--checkpoint) to catch truncation, rollback and forks. \
            Every RFC 3161 timestamp (checkpoint.timestamped) is checked against the checkpoint it dates; with \
            --tsa-ca, the TSA's certificate must chain to that CA. With --witness (and --quorum), the largest \
            checkpoint that enough of those witnesses cosigned is named, and none is an integrity failure. \
            Reads the log without changing it: it works on a read-only copy and while the log is being written. \
            When the store is writable, the outcome (time, size, intact or not, the key trusted) is recorded \
            beside the log for the web console's dashboard.

            Exit codes: 0 intact, 1 integrity failure, 2 usage or I/O error.

            Example:
              probity verify --db var/log.sqlite --vkey "$(cat var/log.vkey)" --checkpoint kept/2026-11-01.checkpoint
            """
    )

    @OptionGroup var store: StoreOption
    @OptionGroup var trusted: TrustedKey
    @Option(help: ArgumentHelp("A signed checkpoint kept from earlier; repeatable.", valueName: "FILE"))
    var checkpoint: [String] = []
    @Option(
        help: ArgumentHelp(
            "PEM certificates of the CA that RFC 3161 timestamp tokens must chain to.", valueName: "FILE"))
    var tsaCa: String?
    @OptionGroup var witnessOptions: WitnessOptions
    @OptionGroup var output: JSONFlag

    func run() throws {
        let witnesses = try witnessOptions.rule()
        let trust = try trusted.trust()
        var kept: [SignedCheckpoint] = []
        for path in checkpoint {
            do { kept.append(try SignedCheckpoint(parsing: try readText(path, what: "the checkpoint"))) } catch let e
                as CLIError
            { throw e } catch {
                throw CLIError.usage("--checkpoint \(path) is not a signed checkpoint: \(error)")
            }
        }
        let caPEM = try tsaCa.map { try readText($0, what: "the TSA CA file") }
        // A PostgreSQL store (the primary or a standby) is verified in one snapshot, with the same checks.
        let postgres = try PostgresLocation.isURL(store.db) ? pgLocation(store.db) : nil
        let (report, timestamps, largestWitnessed) = try reporting {
            () -> (VerifyReport, [TimestampCheck], SignedCheckpoint??) in
            var bar = ProgressBar(label: "verifying")
            defer { bar.finish() }
            if let postgres {
                let reader = try PostgresLogReader(location: postgres)
                let report = try reader.verify(trust: trust, auditorCheckpoints: kept) { bar.update($0, $1) }
                return (
                    report, try reader.checkTimestamps(caPEM: caPEM),
                    try witnesses.map { quorum in try reader.largestCheckpoint { quorum.isMet(by: $0.note) } }
                )
            }
            let reader = try LogReader.open(path: store.db)
            let report = try reader.verify(trust: trust, auditorCheckpoints: kept) { bar.update($0, $1) }
            return (
                report, try reader.checkTimestamps(caPEM: caPEM),
                try witnesses.map { quorum in try reader.largestCheckpoint { quorum.isMet(by: $0.note) } }
            )
        }
        // The largest checkpoint the quorum cosigned (its log signature was checked with the others).
        let witnessed = witnesses.map { quorum in
            largestWitnessed!.map { ($0, quorum.cosigners(of: $0.note)) }
        }
        let unwitnessed: Bool = if case .some(.none) = witnessed { true } else { false }
        let badTimestamps = timestamps.filter { $0.problem != nil }
        // For the console's dashboard; a read-only copy (a file, a standby) keeps no record.
        let record = VerificationRecord(
            time: Timestamp.now().description, size: report.size,
            intact: report.intact && badTimestamps.isEmpty && !unwitnessed,
            failures: report.failureCount + badTimestamps.count,
            trust: trusted.vkey != nil
                ? "vkey given" : trusted.pubkey != nil ? "public key given" : "key in log.created"
        )
        if let postgres { record.record(in: postgres) } else { record.record(path: store.db) }
        if output.json {
            guard case .object(var object) = Self.json(report) else { return }
            object["timestamps"] = .array(timestamps.map(Self.json))
            object["intact"] = .bool(report.intact && badTimestamps.isEmpty && !unwitnessed)
            if let witnessed {
                object["witnessed"] =
                    witnessed.map { checkpoint, cosigners in
                        .object([
                            "size": .number(Double(checkpoint.checkpoint.size)),
                            "cosigners": WitnessOptions.json(cosigners),
                        ])
                    } ?? .null
            }
            Output.json(.object(object))
        } else {
            for check in timestamps {
                if let problem = check.problem {
                    Output.line("FAILED timestamp seq \(check.seq) (checkpoint of size \(check.treeSize)): \(problem)")
                } else {
                    Output.line(
                        "timestamp seq \(check.seq): the checkpoint of size \(check.treeSize) existed at \(check.genTime), says \(check.tsa)"
                            + (check.chainChecked
                                ? " (certificate chain checked)"
                                : " (signature checked; give --tsa-ca to check who the TSA is)"))
                    if let warning = check.warning { Output.line("warning: timestamp seq \(check.seq): \(warning)") }
                }
            }
            var witnessLine: String?
            if let witnessed, let quorum = witnesses {
                if let (checkpoint, cosigners) = witnessed {
                    let size = checkpoint.checkpoint.size
                    witnessLine =
                        "witnessed: the checkpoint of size \(size) is cosigned by \(WitnessOptions.describe(cosigners)) (quorum \(quorum.quorum) of \(quorum.witnesses.count))"
                        + (size < report.size
                            ? "; the \(report.size - size) entries after it are not witnessed yet" : "")
                } else {
                    witnessLine =
                        "NOT WITNESSED: no checkpoint of the log is cosigned by \(quorum.quorum) of the \(quorum.witnesses.count) witnesses given"
                }
            }
            Self.printReport(report, beforeSummary: witnessLine)
            if !badTimestamps.isEmpty {
                Output.line(
                    "summary: \(badTimestamps.count) timestamp token\(badTimestamps.count == 1 ? "" : "s") do not verify"
                )
            }
        }
        if !report.intact || !badTimestamps.isEmpty || unwitnessed { throw ExitCode(1) }
    }

    static func json(_ check: TimestampCheck) -> JSONValue {
        .object([
            "seq": .number(Double(check.seq)), "tree_size": .number(Double(check.treeSize)),
            "gen_time": .string(check.genTime),
            "tsa": .string(check.tsa), "chain_checked": .bool(check.chainChecked),
            "problem": check.problem.map { .string($0) } ?? .null,
            "warning": check.warning.map { .string($0) } ?? .null,
        ])
    }

    /// The report, `beforeSummary` (if any) just above its summary line.
    static func printReport(_ report: VerifyReport, beforeSummary: String? = nil) {
        Output.line(
            "log \(report.origin): \(report.size) entries, \(report.checkpointsChecked) checkpoints, \(report.streams) streams, \(report.keys.count) key\(report.keys.count == 1 ? "" : "s")"
        )
        for warning in report.warnings { Output.line("warning: \(warning)") }
        if let first = report.failures.first {
            Output.line("FAILED at seq \(first.seq): \(first.kind.rawValue): \(first.message)")
            for failure in report.failures.dropFirst().prefix(19) {
                Output.line("  also seq \(failure.seq): \(failure.kind.rawValue): \(failure.message)")
            }
            if report.failureCount > 20 { Output.line("  … and \(report.failureCount - 20) more") }
            if let beforeSummary { Output.line(beforeSummary) }
            Output.line(
                "summary: NOT intact, \(report.failureCount) failure\(report.failureCount == 1 ? "" : "s"), the first at seq \(first.seq)"
            )
        } else {
            if !report.redacted.isEmpty {
                Output.line(
                    "redacted payloads: "
                        + report.redacted.sorted { $0.key < $1.key }.map { "seq \($0.key) (by seq \($0.value))" }
                        .joined(separator: ", "))
            }
            if report.auditorCheckpoints > 0 {
                Output.line("consistent with the \(report.auditorCheckpoints) checkpoint(s) you kept")
            }
            Output.line("root at size \(report.size): \(Base64.encode(report.root))")
            if let beforeSummary { Output.line(beforeSummary) }
            Output.line(
                String(
                    format: "summary: intact (%.2f s, %.0f entries/s)", report.seconds,
                    Double(report.size) / max(report.seconds, 1e-9)))
        }
    }

    static func json(_ report: VerifyReport) -> JSONValue {
        func failure(_ f: LogVerifier.Failure) -> JSONValue {
            .object(["seq": .number(Double(f.seq)), "kind": .string(f.kind.rawValue), "message": .string(f.message)])
        }
        var object: [String: JSONValue] = [
            "intact": .bool(report.intact),
            "origin": .string(report.origin),
            "size": .number(Double(report.size)),
            "root": .string(Base64.encode(report.root)),
            "checkpoints_checked": .number(Double(report.checkpointsChecked)),
            "kept_checkpoints": .number(Double(report.auditorCheckpoints)),
            "streams": .number(Double(report.streams)),
            "keys": .array(report.keys.map { .string($0) }),
            "redacted": .array(
                report.redacted.sorted { $0.key < $1.key }.map {
                    .object(["seq": .number(Double($0.key)), "redaction_seq": .number(Double($0.value))])
                }),
            "failure_count": .number(Double(report.failureCount)),
            "failures": .array(report.failures.map(failure)),
            "warnings": .array(report.warnings.map { .string($0) }),
            "seconds": .number((report.seconds * 1000).rounded() / 1000),
        ]
        object["first_failure"] = report.failures.first.map(failure) ?? .null
        return .object(object)
    }
}

/// The key a verification trusts: `--vkey` or `--pubkey`, or (neither) the one `log.created` names.
struct TrustedKey: ParsableArguments {
    @Option(help: ArgumentHelp("The verifier key you trust (name+keyid+base64key).", valueName: "KEY"))
    var vkey: String?
    @Option(help: ArgumentHelp("The Ed25519 public key you trust, as PEM.", valueName: "PEM"))
    var pubkey: String?

    func validate() throws {
        if vkey != nil && pubkey != nil { throw ValidationError("give either --vkey or --pubkey, not both") }
    }

    func trust() throws -> LogVerifier.Trust {
        if let vkey {
            do { return .verifier(try NoteVerifier(vkey.trimmingCharacters(in: .whitespacesAndNewlines))) } catch {
                throw CLIError.usage("--vkey: \(error)")
            }
        }
        if let pubkey {
            do { return .publicKey(try Ed25519PublicKey(pem: try readText(pubkey, what: "the public key"))) } catch let
                e as CLIError
            { throw e } catch {
                throw CLIError.usage("--pubkey \(pubkey): \(error)")
            }
        }
        return .firstUse
    }
}
