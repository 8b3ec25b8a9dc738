import ArgumentParser
import Foundation
import ProbityClient
import ProbityDomain
import ProbityHTTP
import ProbityLog
import ProbityPostgres

/// Where a command finds the log: a store file (`--db`), or a running probityd (`--socket`, `--url`).
struct LogTarget: ParsableArguments {
    @Option(
        name: [.long, .customLong("store")],
        help: ArgumentHelp(
            "Path of the SQLite store, or postgres://USER@HOST:PORT/DATABASE (direct access).", valueName: "PATH|URL"))
    var db: String?
    @Option(
        name: .long, help: ArgumentHelp("probityd's Unix socket (e.g. /run/probity/probityd.sock).", valueName: "PATH"))
    var socket: String?
    @Option(name: .long, help: ArgumentHelp("probityd's URL (http://127.0.0.1:8787).", valueName: "URL"))
    var url: String?
    @Option(name: .long, help: ArgumentHelp("File holding the API token (default: $PROBITY_TOKEN).", valueName: "FILE"))
    var tokenFile: String?

    func validate() throws {
        let given = [db, socket, url].compactMap { $0 }.count
        guard given == 1 else {
            throw ValidationError(
                given == 0
                    ? "give the store with --db PATH, or a daemon with --socket PATH or --url URL"
                    : "give only one of --db, --socket and --url")
        }
        if db != nil && tokenFile != nil { throw ValidationError("--token-file is for --socket or --url") }
    }

    /// The log these options name: the store file, or the daemon. `key` (a signing key) and `author` are
    /// for a store opened here; through probityd both are the daemon's, so giving them is an error.
    func service(key: String? = nil, author: String? = nil) throws -> any LogService {
        if let db, PostgresLocation.isURL(db) {
            return PostgresLog(location: try pgLocation(db), key: key, author: author)
        }
        if let db { return LocalLog(db: db, key: key, author: author) }
        if key != nil { throw CLIError.usage("--key is for --db; probityd signs with its own key") }
        if author != nil { throw CLIError.usage("--by is for --db; through probityd, the token's name is the author") }
        return RemoteLog(daemon: try daemon())
    }

    private func daemon() throws -> DaemonClient {
        let endpoint: Endpoint
        do { endpoint = try socket.map { .unix(path: $0) } ?? Endpoint(url: url!) } catch {
            throw CLIError.usage("--url: \(error)")
        }
        var token = ProcessInfo.processInfo.environment["PROBITY_TOKEN"]
        if let tokenFile {
            token = try readText(tokenFile, what: "the token file").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let token, !token.isEmpty else {
            throw CLIError.usage(
                "no API token: set PROBITY_TOKEN or pass --token-file (create one with `probity tokens create`)")
        }
        return DaemonClient(endpoint, token: token)
    }
}

/// Runs a request against the daemon, turning its errors into CLI errors (exit 2) that say what went wrong.
func requesting<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as DaemonClient.APIFailure {
        throw CLIError.usage("probityd refused the request (\(error.status) \(error.code)): \(error.message)")
    } catch let error as ClientError {
        throw CLIError.usage(error.message)
    }
}

extension JSONValue {
    /// A member that the daemon's documented responses always carry.
    func required(_ key: String) throws -> JSONValue {
        guard let value = self[key] else { throw CLIError.usage("probityd's response lacks \"\(key)\"") }
        return value
    }
}
