import ArgumentParser
import Foundation
import ProbityDomain
import ProbityLog
import ProbityStore
import ProbityWire

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Show the log's key chain, or rotate the signing key.",
        subcommands: [Show.self, Rotate.self]
    )

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the key chain (log.created, then each key.rotated) and the current key.",
            discussion: """
                Example:
                  probity keys show --db var/log.sqlite --json
                """
        )
        @OptionGroup var store: StoreOption
        @OptionGroup var output: JSONFlag

        func run() throws {
            try reporting {
                let reader = try LogReader.open(path: store.db)
                let chain = try reader.keyChain()
                let current = try reader.meta("current_vkey") ?? ""
                if output.json {
                    Output.json(
                        .object([
                            "origin": .string(reader.origin), "current": .string(current),
                            "key_path": (try reader.meta("key_path")).map { .string($0) } ?? .null,
                            "chain": .array(
                                chain.map {
                                    .object([
                                        "seq": .number(Double($0.seq)), "type": .string($0.type),
                                        "verifier_key": .string($0.verifierKey), "time": .string($0.time),
                                    ])
                                }),
                        ]))
                } else {
                    Output.line("log \(reader.origin)")
                    for link in chain { Output.line("seq \(link.seq) \(link.type) \(link.time): \(link.verifierKey)") }
                    Output.line("current key: \(current)")
                    if let path = try reader.meta("key_path") { Output.line("private key file: \(path)") }
                }
            }
        }
    }

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace the signing key: appends key.rotated, signed under the old key.",
            discussion: """
                Generates a new key (or uses --new-key), appends key.rotated carrying it in a batch covered by a \
                checkpoint signed with the old key, and makes it the store's key. Auditors who trust the first \
                key follow the chain; they need nothing new.

                Example:
                  probity keys rotate --db var/log.sqlite --reason "annual rotation"
                """
        )
        @OptionGroup var store: StoreOption
        @Option(help: ArgumentHelp("Why the key changes (recorded in the log).", valueName: "TEXT")) var reason: String
        @Option(help: ArgumentHelp("Use this Ed25519 PEM private key as the new key.", valueName: "PEM")) var newKey:
            String?
        @Option(help: ArgumentHelp("The current signing key (default: the one recorded).", valueName: "PEM")) var key:
            String?
        @Option(help: ArgumentHelp("The principal recorded as the entry's author.", valueName: "NAME")) var by: String?
        @OptionGroup var output: JSONFlag

        func run() throws {
            try reporting {
                let writer = try openWriter(db: store.db, key: key)
                let newPrivate: Ed25519PrivateKey
                let newPath: String
                if let newKey {
                    newPrivate = try loadPrivateKey(newKey)
                    newPath = absolutePath(newKey)
                } else {
                    newPrivate = try Ed25519PrivateKey.generate()
                    let stamp = Timestamp.now().description.prefix(19).replacingOccurrences(of: ":", with: "")
                    newPath = absolutePath(siblingPath(of: store.db, suffix: ".key-\(stamp).pem"))
                    try writeFile(newPath, newPrivate.pem, mode: 0o600)
                }
                let signer = try NoteSigner(name: writer.origin, privateKey: newPrivate)
                let batch = try writer.rotateKey(
                    to: signer, newKeyPath: newPath, reason: reason, by: by ?? defaultPrincipal())
                let publicPath = siblingPath(of: store.db, suffix: ".pub.pem")
                if output.json {
                    Output.json(
                        .object([
                            "seq": .number(Double(batch.entries[0].seq)),
                            "verifier_key": .string(signer.verifier.description),
                            "private_key": .string(newPath), "checkpoint": .string(batch.checkpoint!.encoded),
                        ]))
                } else {
                    Output.line(
                        "rotated: key.rotated is seq \(batch.entries[0].seq), covered by a checkpoint signed with the old key"
                    )
                    Output.line("new verifier key: \(signer.verifier)")
                    Output.line("new private key:  \(newPath)")
                    Output.line("(\(publicPath) still holds the first key, the one auditors trust)")
                }
            }
        }
    }
}
