import ArgumentParser
import Foundation
import ProbityDomain
import ProbityLog
import ProbityPostgres
import ProbityStore
import ProbityWire

struct TokensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens",
        abstract: "Create, list and revoke probityd's API tokens.",
        discussion: """
            Roles: ingest (append; read checkpoints and proofs), read (entries without payloads, checkpoints, \
            proofs), export (read, plus payloads and exports), admin (everything). Only the SHA-256 of a \
            token is stored; works while probityd runs (revocation takes effect within a second). On a \
            PostgreSQL store (--store postgres://…) the tokens are kept in the database, for every probityd \
            that serves it; they are changed on the primary.
            """,
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token and print its secret (shown once, never stored).",
            discussion: """
                Example:
                  probity tokens create --db /var/lib/probity/log.sqlite --name crm-connector --role ingest > ingest.token
                  chmod 600 ingest.token
                """
        )
        @OptionGroup var store: StoreOption
        @Option(
            help: ArgumentHelp("A unique name; entries appended with the token are by token:NAME.", valueName: "NAME"))
        var name: String
        @Option(help: ArgumentHelp("ingest, read, export or admin.", valueName: "ROLE")) var role: String
        @OptionGroup var output: JSONFlag

        func run() throws {
            guard let role = Role(rawValue: role) else {
                throw CLIError.usage(
                    "--role must be one of \(Role.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(self.role)\""
                )
            }
            try reporting {
                let (info, token) = try tokenRegistry(store.db).create(name: name, role: role)
                if output.json {
                    Output.json(
                        .object([
                            "id": .string(info.id), "name": .string(info.name), "role": .string(info.role.rawValue),
                            "token": .string(token.text),
                        ]))
                } else {
                    Output.line(token.text)
                    Output.info(
                        "created token \(info.id) (\(info.name), role \(info.role.rawValue)); its secret is printed above and cannot be shown again"
                    )
                }
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List tokens (ids, names, roles, dates; never secrets).",
            discussion: "Example:\n  probity tokens list --db /var/lib/probity/log.sqlite"
        )
        @OptionGroup var store: StoreOption
        @Flag(help: "Include revoked tokens.") var all = false
        @OptionGroup var output: JSONFlag

        func run() throws {
            try reporting {
                let tokens = try tokenRegistry(store.db).list().filter { all || $0.revoked == nil }
                if output.json {
                    Output.json(
                        .array(
                            tokens.map { t in
                                .object([
                                    "id": .string(t.id), "name": .string(t.name), "role": .string(t.role.rawValue),
                                    "created": .string(t.created), "revoked": t.revoked.map { .string($0) } ?? .null,
                                ])
                            }))
                } else if tokens.isEmpty {
                    Output.info("no tokens; create one with `probity tokens create`")
                } else {
                    for t in tokens {
                        Output.line(
                            "\(t.id)  \(t.role.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0))  \(t.name)  created \(t.created)"
                                + (t.revoked.map { "  REVOKED \($0)" } ?? ""))
                    }
                }
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a token by id or name.",
            discussion: "Example:\n  probity tokens revoke --db /var/lib/probity/log.sqlite crm-connector"
        )
        @OptionGroup var store: StoreOption
        @Argument(help: "The token's id or name.") var token: String
        @OptionGroup var output: JSONFlag

        func run() throws {
            try reporting {
                let info = try tokenRegistry(store.db).revoke(token)
                if output.json {
                    Output.json(
                        .object([
                            "id": .string(info.id), "name": .string(info.name), "revoked": .string(info.revoked ?? ""),
                        ]))
                } else {
                    Output.line("revoked token \(info.id) (\(info.name))")
                }
            }
        }
    }
}

/// The tokens of the store `db` names: the SQLite file's, or the PostgreSQL database's.
func tokenRegistry(_ db: String) throws -> any TokenRegistry {
    if PostgresLocation.isURL(db) { return try PostgresTokens(location: try pgLocation(db)) }
    return try TokenStore.open(path: db)
}
