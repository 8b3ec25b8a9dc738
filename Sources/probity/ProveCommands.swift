import ArgumentParser
import Foundation
import ProbityDomain
import ProbityLog
import ProbityStore
import ProbityWire

struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Print the latest signed checkpoint (or the one of --size N).",
        discussion: """
            The output is a C2SP signed note; keep it to later prove the log was not truncated or rewritten \
            (probity verify --checkpoint FILE).

            Example:
              probity checkpoint --db var/log.sqlite > kept/$(date +%F).checkpoint
            """
    )
    @OptionGroup var target: LogTarget
    @Option(
        help: ArgumentHelp("The tree size of the checkpoint to print.", valueName: "N"), transform: logNumberArgument)
    var size: UInt64?
    @OptionGroup var output: JSONFlag

    func run() throws {
        try reporting {
            let cp = try target.service().checkpoint(size: size)
            if output.json {
                Output.json(
                    .object([
                        "origin": .string(cp.checkpoint.origin), "size": .number(Double(cp.checkpoint.size)),
                        "root": .string(Base64.encode(cp.checkpoint.root)), "note": .string(cp.encoded),
                    ]))
            } else {
                Output.raw(cp.encoded)
            }
        }
    }
}

struct ProveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prove",
        abstract: "Print inclusion, consistency and stream-head proofs.",
        subcommands: [Inclusion.self, Consistency.self, Stream.self]
    )

    struct Inclusion: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a .tlog-proof that entry SEQ is in the log.",
            discussion: """
                The proof is against the latest checkpoint, or the checkpoint of --size N (one exists per \
                committed batch). Check it offline with `probity verify-proof`.

                Example:
                  probity prove inclusion --db var/log.sqlite 12 > 12.tlog-proof
                """
        )
        @OptionGroup var target: LogTarget
        @Argument(help: "The entry's seq.", transform: logNumberArgument) var seq: UInt64
        @Option(
            help: ArgumentHelp("Prove against the checkpoint of this tree size.", valueName: "N"),
            transform: logNumberArgument)
        var size: UInt64?
        @OptionGroup var output: JSONFlag

        func run() throws {
            let receipt = try target.service().inclusionProof(seq: seq, size: size)
            if output.json {
                Output.json(receipt.json)
            } else {
                Output.raw(receipt.proof.encoded)
            }
        }
    }

    struct Consistency: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the consistency proof between tree sizes OLD and NEW (RFC 6962 §2.1.2).",
            discussion: """
                Prints one base64 hash per line (JSON with --json, including both roots). NEW defaults to the \
                latest checkpoint's size.

                Example:
                  probity prove consistency --db var/log.sqlite 100 250 --json
                """
        )
        @OptionGroup var target: LogTarget
        @Argument(help: "The older tree size.", transform: logNumberArgument) var old: UInt64
        @Argument(help: "The newer tree size (default: the latest checkpoint).", transform: logNumberArgument) var new:
            UInt64?
        @OptionGroup var output: JSONFlag

        func run() throws {
            let proof = try target.service().consistencyProof(old: old, new: new)
            if output.json {
                Output.json(proof.json)
            } else {
                for hash in proof.hashes { Output.line(Base64.encode(hash)) }
            }
        }
    }

    struct Stream: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a signed stream-head note: the last entry of a procedure's or party's stream.",
            discussion: """
                Needs the signing key. With the stream's entries, the note proves an export of the stream is \
                complete up to the note's tree size.

                Example:
                  probity prove stream --db var/log.sqlite procedure:2026-042
                """
        )
        @OptionGroup var target: LogTarget
        @Argument(help: "The stream id: procedure:<ref> or party:<id>.") var stream: String
        @Option(help: ArgumentHelp("Signing key (default: the one recorded by init).", valueName: "PEM")) var key:
            String?

        func run() throws {
            guard Identifier.isValidStream(stream) else {
                throw CLIError.usage(
                    "a stream id is procedure:<ref> or party:<id> (ids \(Identifier.rule)), got \"\(stream)\"")
            }
            Output.raw(try target.service(key: key).streamHead(stream).encoded)
        }
    }
}

struct VerifyProofCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-proof",
        abstract: "Check offline that an entry is in the log, from the entry, its .tlog-proof and the verifier key.",
        discussion: """
            Needs no store. Checks the entry is canonical, that its seq is the proof's index, the checkpoint's \
            signature, and the inclusion proof. After a key rotation, give every key of the chain \
            (`probity keys show`): the checkpoint must be signed by one of them.

            Exit codes: 0 proven, 1 not proven, 2 usage or I/O error.

            Example:
              probity show --db var/log.sqlite 12 > 12.json
              probity prove inclusion --db var/log.sqlite 12 > 12.tlog-proof
              probity verify-proof --entry 12.json --proof 12.tlog-proof --vkey "$(cat var/log.vkey)"
            """
    )
    @Option(help: ArgumentHelp("The entry bytes, exactly as stored (RFC 8785 JSON).", valueName: "FILE")) var entry:
        String
    @Option(help: ArgumentHelp("The .tlog-proof file.", valueName: "FILE")) var proof: String
    @Option(help: ArgumentHelp("The log's verifier key; repeat it for each key of a rotated chain.", valueName: "KEY"))
    var vkey: [String]
    @OptionGroup var witnessOptions: WitnessOptions
    @OptionGroup var output: JSONFlag

    func validate() throws {
        if vkey.isEmpty { throw ValidationError("give the log's verifier key with --vkey") }
    }

    func run() throws {
        var verifiers: [NoteVerifier] = []
        for key in vkey {
            do { verifiers.append(try NoteVerifier(key.trimmingCharacters(in: .whitespacesAndNewlines))) } catch {
                throw CLIError.usage("--vkey \(key): \(error)")
            }
        }
        var bytes = try readFile(entry, what: "the entry")
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }  // tolerate the newline `show` prints
        let tlogProof: TlogProof
        do { tlogProof = try TlogProof.parse(try readText(proof, what: "the proof")) } catch let e as CLIError {
            throw e
        } catch {
            throw CLIError.usage("\(proof) is not a .tlog-proof: \(error)")
        }
        func fail(_ message: String) throws -> Never {
            if output.json {
                Output.json(.object(["proven": .bool(false), "error": .string(message)]))
            } else {
                Output.line("NOT PROVEN: \(message)")
            }
            throw ExitCode(1)
        }
        let parsed: Entry
        do { parsed = try Entry(bytes: bytes) } catch { try fail("the entry is not a valid canonical entry: \(error)") }
        guard parsed.seq == tlogProof.index else {
            try fail("the entry is seq \(parsed.seq) but the proof is for index \(tlogProof.index)")
        }
        guard verifiers.contains(where: { $0.name == parsed.log }) else {
            try fail("the entry belongs to log \(parsed.log), not \(verifiers[0].name)")
        }
        guard let verifier = verifiers.first(where: { tlogProof.checkpoint.isSigned(by: $0) }) else {
            try fail("the proof's checkpoint is not signed by the key\(verifiers.count == 1 ? "" : "s") given")
        }
        do { try tlogProof.verify(leafHash: Merkle.leafHash(bytes), verifier: verifier) } catch {
            try fail(error.message)
        }
        let cp = tlogProof.checkpoint.checkpoint
        var cosigners: [(witness: CosignatureVerifier, time: UInt64)] = []
        if let quorum = try witnessOptions.rule() {
            cosigners = quorum.cosigners(of: tlogProof.checkpoint.note)
            guard cosigners.count >= quorum.quorum else {
                try fail(
                    "the proof's checkpoint is cosigned by \(cosigners.count) of the witnesses given, fewer than the \(quorum.quorum) required"
                )
            }
        }
        if output.json {
            Output.json(
                .object([
                    "proven": .bool(true), "seq": .number(Double(parsed.seq)), "origin": .string(cp.origin),
                    "size": .number(Double(cp.size)), "root": .string(Base64.encode(cp.root)),
                    "cosigners": WitnessOptions.json(cosigners),
                ]))
        } else {
            Output.line(
                "PROVEN: entry seq \(parsed.seq) (\(parsed.type), \(parsed.time)) is in log \(cp.origin) at tree size \(cp.size), under a checkpoint signed by \(verifier.name)+\(String(format: "%08x", verifier.keyID))"
            )
            if !cosigners.isEmpty { Output.line("cosigned by \(WitnessOptions.describe(cosigners))") }
        }
    }
}

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print an entry's bytes verbatim (or its payload with --payload).",
        discussion: """
            Example:
              probity show --db var/log.sqlite 12 > 12.json
              probity show --db var/log.sqlite 12 --payload
            """
    )
    @OptionGroup var store: StoreOption
    @Argument(help: "The entry's seq.", transform: logNumberArgument) var seq: UInt64
    @Flag(help: "Print the payload instead of the entry (with its salt on stderr).") var payload = false

    func run() throws {
        try reporting {
            guard let stored = try LogReader.open(path: store.db).entry(seq: seq) else {
                throw CLIError.usage("the log has no entry \(seq)")
            }
            if payload {
                guard let p = stored.payload else {
                    throw CLIError.usage("entry \(seq) has no payload (none was given, or it was redacted)")
                }
                Output.line(String(decoding: p.bytes, as: UTF8.self))
                Output.info("salt: \(Hex.encode(p.salt))")
            } else {
                Output.line(String(decoding: stored.bytes, as: UTF8.self))
            }
        }
    }
}
