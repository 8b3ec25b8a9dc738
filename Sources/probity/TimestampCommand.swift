import ArgumentParser
import Foundation
import ProbityClient
import ProbityDomain
import ProbityHTTP
import ProbityLog
import ProbityStore
import ProbityTSA
import ProbityWire

struct TimestampCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timestamp",
        abstract: "Have a Time Stamping Authority (RFC 3161) date the latest checkpoint, and record its token.",
        discussion: """
            Sends the SHA-256 of the latest signed checkpoint to the TSA (HTTP POST, application/timestamp-query, \
            with a random nonce), checks the reply with OpenSSL's TS API — the imprint, the nonce, the signature \
            and, with --ca, the TSA certificate's chain and its timeStamping key usage — and appends \
            checkpoint.timestamped with the token. The token then dates every entry below the checkpoint's size: \
            `probity verify --tsa-ca FILE` checks every token again, and bundles tell a court expert so.

            Exit codes: 0 timestamped, 1 the TSA's reply does not verify (nothing appended), 2 usage or I/O \
            error, the TSA unreachable or refusing (nothing appended).

            Example:
              probity timestamp --db var/log.sqlite --tsa http://timestamp.example.eu/tsa --ca tsa-ca.pem
            """
    )
    @OptionGroup var store: StoreOption
    @Option(help: ArgumentHelp("The TSA's URL (http://HOST[:PORT]/PATH).", valueName: "URL")) var tsa: String
    @Option(help: ArgumentHelp("PEM certificates of the CA the TSA's certificate must chain to.", valueName: "FILE"))
    var ca: String?
    @Option(help: ArgumentHelp("Signing key (default: the one recorded by init).", valueName: "PEM")) var key: String?
    @Option(help: ArgumentHelp("Seconds to wait for the TSA.", valueName: "SECONDS")) var timeout: Int = 30
    @OptionGroup var output: JSONFlag

    func run() throws {
        let caPEM = try ca.map { try readText($0, what: "the CA file") }
        let authority: TimestampAuthority
        guard (1...3600).contains(timeout) else {
            throw CLIError.usage("--timeout must be between 1 and 3600 seconds, got \(timeout)")
        }
        do { authority = try TimestampAuthority(url: tsa, caPEM: caPEM, timeout: timeout) } catch {
            throw CLIError.usage("--tsa: \(error.message)")
        }
        let checkpoint = try reporting { try LogReader.open(path: store.db).checkpoint() }
        let writer = try openWriter(db: store.db, key: key)
        let token: TrustedTimestamp.Token
        do { token = try authority.stamp(checkpoint.logSigned) } catch {
            throw error.kind == .untrusted
                ? CLIError.integrity(error.message + "; nothing appended") : CLIError.usage(error.message)
        }
        let batch = try reporting { try writer.appendTimestamp(of: checkpoint, token: token, by: defaultPrincipal()) }
        let receipt = batch.receipts[0]
        if output.json {
            Output.json(
                .object([
                    "tree_size": .number(Double(checkpoint.checkpoint.size)),
                    "root": .string(Base64.encode(checkpoint.checkpoint.root)),
                    "gen_time": .string(token.genTime), "tsa": .string(token.signer),
                    "chain_checked": .bool(caPEM != nil),
                    "timestamp": receipt.json,
                ]))
        } else {
            Output.line(
                "the TSA \(token.signer) dated the checkpoint of size \(checkpoint.checkpoint.size) at \(token.genTime)\(caPEM == nil ? " (chain not checked: give --ca)" : ""); checkpoint.timestamped is seq \(receipt.seq)"
            )
        }
    }
}
