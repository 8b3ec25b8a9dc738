import ArgumentParser
import Foundation
import ProbityClient
import ProbityCore
import ProbityStore

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
    @Option(help: ArgumentHelp("PEM certificates of the CA the TSA's certificate must chain to.", valueName: "FILE")) var ca: String?
    @Option(help: ArgumentHelp("Signing key (default: the one recorded by init).", valueName: "PEM")) var key: String?
    @Option(help: ArgumentHelp("Seconds to wait for the TSA.", valueName: "SECONDS")) var timeout: Int = 30
    @OptionGroup var output: JSONFlag

    func run() throws {
        let caPEM = try ca.map { try readText($0, what: "the CA file") }
        let (endpoint, path) = try tsaEndpoint(tsa)
        let checkpoint = try reporting { try LogReader.open(path: store.db).checkpoint() }
        let writer = try openWriter(db: store.db, key: key)
        let token = try requestToken(for: checkpoint, endpoint: endpoint, path: path, caPEM: caPEM)
        let batch = try reporting { try writer.appendTimestamp(of: checkpoint, token: token, by: defaultPrincipal()) }
        let receipt = batch.receipts[0]
        if output.json {
            Output.json(.object(["tree_size": .number(Double(checkpoint.checkpoint.size)), "root": .string(Base64.encode(checkpoint.checkpoint.root)),
                                 "gen_time": .string(token.genTime), "tsa": .string(token.signer), "chain_checked": .bool(caPEM != nil),
                                 "timestamp": receipt.json]))
        } else {
            Output.line("the TSA \(token.signer) dated the checkpoint of size \(checkpoint.checkpoint.size) at \(token.genTime)\(caPEM == nil ? " (chain not checked: give --ca)" : ""); checkpoint.timestamped is seq \(receipt.seq)")
        }
    }

    func tsaEndpoint(_ url: String) throws -> (Endpoint, String) {
        guard url.hasPrefix("http://") else {
            throw CLIError.usage("--tsa must be an http:// URL (RFC 3161 over HTTP, as TSAs serve it), got \(url)")
        }
        let endpoint: Endpoint
        do { endpoint = try Endpoint(url: url) } catch { throw CLIError.usage("--tsa: \(error)") }
        let afterScheme = url.dropFirst(7)
        let path = afterScheme.firstIndex(of: "/").map { String(afterScheme[$0...]) } ?? "/"
        return (endpoint, path)
    }

    func requestToken(for checkpoint: SignedCheckpoint, endpoint: Endpoint, path: String, caPEM: String?) throws -> TrustedTimestamp.Token {
        let digest = SHA256.hash(Array(checkpoint.encoded.utf8))
        let nonce = UInt64.random(in: 1...UInt64.max)
        let request = try reporting { try TrustedTimestamp.request(sha256: digest, nonce: nonce) }
        let connection = HTTPConnection(endpoint, timeout: timeout)
        defer { connection.close() }
        let response: HTTPResponse
        do {
            response = try connection.request("POST", path, headers: [("Content-Type", "application/timestamp-query"), ("Accept", "application/timestamp-reply")], body: request)
        } catch {
            throw CLIError.usage("cannot reach the TSA at \(tsa): \(error.message)")
        }
        guard response.status == 200 else { throw CLIError.usage("the TSA at \(tsa) answered HTTP \(response.status): \(response.text.prefix(200))") }
        let token: TrustedTimestamp.Token
        do { token = try TrustedTimestamp.token(fromResponse: response.body) } catch { throw CLIError.usage("the TSA at \(tsa): \(error.message)") }
        do { try TrustedTimestamp.verify(tokenDER: token.der, sha256: digest, nonce: nonce, caPEM: caPEM) } catch {
            throw CLIError.integrity("the TSA's token does not verify, nothing appended: \(error.message)")
        }
        return token
    }
}
