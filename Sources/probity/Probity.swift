import ArgumentParser
import CMalloc
import Foundation
import ProbityLog

@main
struct Probity: ParsableCommand {
    static let version = ProbityVersion.current

    static let configuration = CommandConfiguration(
        commandName: "probity",
        abstract: "A tamper-evident audit log of buyer–supplier exchanges in public procurement.",
        discussion: """
            Every event is an RFC 8785 entry in a hash chain and an RFC 6962 Merkle tree; every committed \
            batch is covered by a signed C2SP checkpoint. Auditors need only the verifier key printed by `init`.

            Exit codes: 0 success (for verify: the log is intact), 1 integrity failure, 2 usage or I/O error.

            Example:
              probity init --db var/log.sqlite --origin achats.ville-exemple.fr/probity
              probity append --db var/log.sqlite examples/conversation.jsonl
              probity verify --db var/log.sqlite --vkey "$(cat var/log.vkey)"
            """,
        version: version,
        subcommands: [
            InitCommand.self, AppendCommand.self, ImportCommand.self, VerifyCommand.self, CheckpointCommand.self,
            ProveCommand.self,
            VerifyProofCommand.self, VerifyBundleCommand.self, ShowCommand.self, ReplayCommand.self,
            FindingsCommand.self, TimelineCommand.self, ExportCommand.self, RedactCommand.self, KeysCommand.self,
            TokensCommand.self, TimestampCommand.self, RetentionCommand.self, MigrateCommand.self, WitnessCommand.self,
            MonitorCommand.self, CaptureCommand.self,
        ]
    )

    static func main() {
        // The data-parallel commands (append, verify, replay) allocate on one thread and free on another;
        // with glibc's default of eight arenas per core, memory freed into each is kept apart, and the
        // resident size of a million-entry replay grows by about ten megabytes. Two arenas suffice.
        _ = probity_limit_malloc_arenas(2)
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let exit as ExitCode {
            Foundation.exit(exit.rawValue)
        } catch let error as CLIError {
            printError(error.message)
            Foundation.exit(error.exitCode)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                Self.exit(withError: error)  // --help, --version
            }
            // Usage errors exit 2, not ArgumentParser's 64, as documented.
            printError(fullMessage(for: error))
            Foundation.exit(2)
        }
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data(("probity: error: " + message + "\n").utf8))
}
