import ArgumentParser
import Foundation
import Logging
import ProbityLog
import ProbityStore
import ProbityWitness
import Synchronization

struct WitnessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "witness",
        abstract: "Run a C2SP tlog-witness: cosign a log's checkpoints after checking they extend the last one.",
        discussion: """
            A witness is run by someone other than the log's operator (an audit chamber, a prefecture, a \
            neighbouring authority). It keeps the latest checkpoint it cosigned for each log and cosigns a new \
            one only with a valid log signature and a consistency proof from that checkpoint: a log that shows \
            two histories cannot get both cosigned. Give the witness's verifier key (printed by `init`) to the \
            log's operator ([witness] in probityd.toml) and to auditors (`probity verify --witness`).

            Example:
              probity witness init --state /var/lib/probity-witness --name witness.cour-des-comptes.example/w1
              probity witness serve --state /var/lib/probity-witness --tcp 127.0.0.1:8788 \\
                --log "achats.ville-exemple.fr/probity=$(cat log.vkey)"
            """,
        subcommands: [Init.self, Serve.self])

    struct StateOption: ParsableArguments {
        @Option(name: .long, help: ArgumentHelp("The witness's state directory.", valueName: "DIR"))
        var state: String
    }

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a witness state directory with a new Ed25519 key, and print its verifier key.",
            discussion: """
                Writes DIR/witness.key.pem (mode 0600; back it up with the rest of DIR) and DIR/witness.vkey, \
                the cosignature/v1 verifier key (type 0x04) to give the log's operator and auditors.

                Example:
                  probity witness init --state /var/lib/probity-witness --name witness.cour-des-comptes.example/w1
                """)

        @OptionGroup var state: StateOption

        @Option(
            name: .long,
            help: ArgumentHelp(
                "The witness's name: a schema-less URL naming who runs it (example.org/witness).", valueName: "NAME"))
        var name: String

        @Option(
            name: .long,
            help: ArgumentHelp("Use this Ed25519 PEM private key instead of generating one.", valueName: "PEM"))
        var key: String?

        @OptionGroup var output: JSONFlag

        func run() throws {
            try reporting {
                let directory = state.state
                let keyPath = directory + "/" + WitnessState.keyFile
                guard !FileManager.default.fileExists(atPath: keyPath) else {
                    throw CLIError.usage(
                        "\(directory) already holds a witness key (\(keyPath)); choose another --state")
                }
                let privateKey = try key.map(loadPrivateKey) ?? Ed25519PrivateKey.generate()
                let signer: CosignatureSigner
                do { signer = try CosignatureSigner(name: name, privateKey: privateKey) } catch {
                    throw CLIError.usage("--name: \(error)")
                }
                try FileManager.default.createDirectory(
                    atPath: directory + "/logs", withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o750])
                try writeFile(keyPath, privateKey.pem, mode: 0o600)
                let vkeyPath = directory + "/" + WitnessState.vkeyFile
                try writeFile(vkeyPath, signer.verifier.description + "\n", mode: 0o644)
                if output.json {
                    Output.json(
                        .object([
                            "state": .string(directory), "name": .string(name), "private_key": .string(keyPath),
                            "verifier_key": .string(signer.verifier.description), "vkey_file": .string(vkeyPath),
                        ]))
                } else {
                    Output.line("Created the witness state \(directory) for \(name).")
                    Output.line("Signing key:  \(keyPath) (mode 0600; keep it secret and backed up)")
                    Output.line("Verifier key: \(signer.verifier)")
                    Output.line("              (also in \(vkeyPath); give it to the log's operator and to auditors)")
                }
            }
        }
    }

    struct Serve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve POST /add-checkpoint (C2SP tlog-witness) until SIGTERM or SIGINT.",
            discussion: """
                Answers 200 with the cosignature line; 400 for a malformed body or an old size above the \
                checkpoint's; 403 when no trusted key signed the checkpoint; 404 for a log not given with \
                --log; 409 (body: the size held, Content-Type text/x.tlog.size) when the old size is not the \
                one held, or the same size comes with another root; 422 when the consistency proof fails. \
                Each cosigned checkpoint is on disk (fsynced, replaced atomically) before the answer.
                Exit codes: 0 after SIGTERM or SIGINT, 2 for a bad flag or state.

                Example:
                  probity witness serve --state /var/lib/probity-witness --tcp 127.0.0.1:8788 \\
                    --log "achats.ville-exemple.fr/probity=$(cat log.vkey)"
                """)

        @OptionGroup var state: StateOption

        @Option(
            name: .long,
            help: ArgumentHelp(
                "The witness's Ed25519 PEM private key (default: witness.key.pem in the state directory).",
                valueName: "PEM"))
        var key: String?

        @Option(
            name: .customLong("log"),
            help: ArgumentHelp(
                "A log to witness: its origin and the verifier key of its checkpoints (repeat for more logs or keys).",
                valueName: "ORIGIN=VKEY"))
        var logs: [String] = []

        @Option(name: .long, help: ArgumentHelp("Listen on this Unix socket.", valueName: "PATH"))
        var socket: String?

        @Option(name: .long, help: ArgumentHelp("Listen on TCP HOST:PORT.", valueName: "HOST:PORT"))
        var tcp: String?

        func validate() throws {
            guard (socket == nil) != (tcp == nil) else {
                throw ValidationError("give exactly one of --socket PATH and --tcp HOST:PORT")
            }
            guard !logs.isEmpty else {
                throw ValidationError("give at least one --log ORIGIN=VKEY: the logs to witness")
            }
        }

        func run() throws {
            let (witness, address, socketLock) = try reporting { try prepare() }
            var logger = Logger(label: "probity.witness")
            logger.logLevel = .info
            let name = witness.signer.verifier.name
            let server = WitnessServer(witness: witness, address: address, logger: logger) { [socket, tcp] in
                Output.info(
                    "probity witness \(name) serving \(witness.trusted.count) log(s) on \(socket.map { "unix:\($0)" } ?? "tcp:\(tcp!)")"
                )
            }
            let failure = Mutex<(any Error)?>(nil)
            let done = DispatchSemaphore(value: 0)
            Task {
                do { try await server.run() } catch { failure.withLock { $0 = error } }
                done.signal()
            }
            done.wait()
            withExtendedLifetime(socketLock) {}
            if let socket { unlink(socket) }
            if let error = failure.withLock({ $0 }) { throw CLIError.usage("the witness stopped: \(error)") }
        }

        private func prepare() throws -> (Witness, WitnessServer.Address, FileLock?) {
            var trusted: [String: [NoteVerifier]] = [:]
            for log in logs {
                guard let equals = log.firstIndex(of: "="), equals != log.startIndex else {
                    throw CLIError.usage("--log \(log): must be ORIGIN=VKEY")
                }
                let origin = String(log[..<equals])
                do {
                    trusted[origin, default: []].append(try NoteVerifier(String(log[log.index(after: equals)...])))
                } catch {
                    throw CLIError.usage("--log \(origin): the verifier key is not valid: \(error.message)")
                }
            }
            let directory = state.state
            let vkeyPath = directory + "/" + WitnessState.vkeyFile
            guard let vkeyText = try? String(contentsOfFile: vkeyPath, encoding: .utf8) else {
                throw CLIError.usage(
                    "no witness verifier key at \(vkeyPath); create the state with `probity witness init --state \(directory) --name NAME`"
                )
            }
            let recorded: CosignatureVerifier
            do { recorded = try CosignatureVerifier(vkeyText.trimmingCharacters(in: .whitespacesAndNewlines)) } catch {
                throw CLIError.usage("\(vkeyPath): \(error.message)")
            }
            let privateKey = try loadPrivateKey(key ?? directory + "/" + WitnessState.keyFile)
            let signer = try CosignatureSigner(name: recorded.name, privateKey: privateKey)
            guard signer.verifier == recorded else {
                throw CLIError.usage("the key does not match the witness's verifier key in \(vkeyPath)")
            }
            let state = try WitnessState(directory: directory)
            let address: WitnessServer.Address
            var socketLock: FileLock?
            if let socket {
                // Binding deletes an existing socket file: take its lock first, as probityd does.
                socketLock = try FileLock(path: socket + ".lock") { holder in
                    "\(holder) is serving the socket \(socket); stop it first, or choose another --socket"
                }
                address = .socket(socket)
            } else {
                address = try Self.tcpAddress(tcp!)
            }
            return (Witness(signer: signer, trusted: trusted, state: state), address, socketLock)
        }

        static func tcpAddress(_ text: String) throws -> WitnessServer.Address {
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
                (1...65535).contains(port), colon != text.startIndex
            else { throw CLIError.usage("--tcp must be HOST:PORT with a port 1–65535, got \"\(text)\"") }
            var host = String(text[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            return .tcp(host: host, port: port)
        }
    }
}
