import ArgumentParser
import Foundation
import ProbityDomain
import ProbityLog
import ProbityPostgres
import ProbityStore
import ProbityWire

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a store, its signing key, and the log.created entry.",
        discussion: """
            Generates an Ed25519 key (PEM, mode 0600) beside the store unless --key names one, writes the \
            public key as PEM, and prints the verifier key. Give the verifier key to auditors out of band:
            it is all they need to check the log.

            With --store postgres://USER@HOST:PORT/DATABASE the log is created in that PostgreSQL database, \
            which must be empty (its password comes from PGPASSFILE or the systemd credential \
            postgres-password, never from the URL); --key must then name the key, since nothing can be \
            written beside a URL.

            Example:
              probity init --db var/log.sqlite --origin achats.ville-exemple.fr/probity
              # writes var/log.sqlite, var/log.key.pem (private), var/log.pub.pem, var/log.vkey
              probity init --store postgres://probity@db.example:5432/probity --origin achats.ville-exemple.fr/probity --key /etc/probity/log.key.pem
            """
    )

    @OptionGroup var store: StoreOption
    @Option(
        help: ArgumentHelp(
            "The log's origin, also the key name (e.g. achats.ville-exemple.fr/probity).", valueName: "NAME"))
    var origin: String
    @Option(
        help: ArgumentHelp("Use this existing Ed25519 PEM private key instead of generating one.", valueName: "PEM"))
    var key: String?
    @Option(help: ArgumentHelp("The principal recorded as the entry's author.", valueName: "NAME"))
    var by: String?
    @OptionGroup var output: JSONFlag

    func validate() throws {
        guard !origin.isEmpty,
            !origin.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0 == "+" || $0.value < 0x20 })
        else {
            throw ValidationError(
                "--origin must be non-empty, without spaces or '+' (e.g. achats.ville-exemple.fr/probity)")
        }
    }

    func run() throws {
        if PostgresLocation.isURL(store.db) { return try createInPostgres() }
        try reporting {
            guard !FileManager.default.fileExists(atPath: store.db) else {
                throw CLIError.usage("\(store.db) already exists; choose another --db or remove it first")
            }
            let directory = (absolutePath(store.db) as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let privateKey: Ed25519PrivateKey
            let keyPath: String
            var generated = false
            if let key {
                privateKey = try loadPrivateKey(key)
                keyPath = absolutePath(key)
            } else {
                keyPath = absolutePath(siblingPath(of: store.db, suffix: ".key.pem"))
                guard !FileManager.default.fileExists(atPath: keyPath) else {
                    throw CLIError.usage("\(keyPath) already exists; pass it with --key to use it, or remove it")
                }
                privateKey = try Ed25519PrivateKey.generate()
                try writeFile(keyPath, privateKey.pem, mode: 0o600)
                generated = true
            }
            let signer = try NoteSigner(name: origin, privateKey: privateKey)
            let writer: LogWriter
            do {
                writer = try LogWriter.create(
                    path: store.db, origin: origin, signer: signer, keyPath: keyPath,
                    by: by ?? defaultPrincipal(), software: "probity \(Probity.version)")
            } catch {
                if generated { try? FileManager.default.removeItem(atPath: keyPath) }
                throw error
            }
            let publicPath = siblingPath(of: store.db, suffix: ".pub.pem")
            let vkeyPath = siblingPath(of: store.db, suffix: ".vkey")
            try writeFile(publicPath, privateKey.publicKey.pem, mode: 0o644)
            try writeFile(vkeyPath, signer.verifier.description + "\n", mode: 0o644)
            let checkpoint = try writer.checkpoint()
            if output.json {
                Output.json(
                    .object([
                        "db": .string(store.db), "db_mode": .string("0600"), "origin": .string(origin),
                        "verifier_key": .string(signer.verifier.description),
                        "private_key": .string(keyPath), "public_key_pem": .string(publicPath),
                        "vkey_file": .string(vkeyPath),
                        "checkpoint": .string(checkpoint.encoded),
                    ]))
            } else {
                Output.line(
                    "Created \(store.db) for \(origin) (mode 0600, like its -wal and -shm files: payloads hold personal data)."
                )
                Output.line(
                    "Signing key:  \(keyPath)\(generated ? " (new, mode 0600; keep it secret and backed up)" : "")")
                Output.line("Public key:   \(publicPath)")
                Output.line("Verifier key: \(signer.verifier)")
                Output.line("              (also in \(vkeyPath); give it to auditors out of band)")
            }
        }
    }

    /// `init --store postgres://…`: the tables and `log.created` in one transaction, with the key given.
    private func createInPostgres() throws {
        let location = try pgLocation(store.db)
        guard let key else {
            throw CLIError.usage(
                "with a PostgreSQL store, pass --key PEM: the log's signing key cannot be written beside a URL")
        }
        try reporting {
            let privateKey = try loadPrivateKey(key)
            let signer = try NoteSigner(name: origin, privateKey: privateKey)
            let writer = try PostgresLogWriter.create(
                location: location, origin: origin, signer: signer, keyPath: absolutePath(key),
                by: by ?? defaultPrincipal(), software: "probity \(Probity.version)",
                holder: "probity init pid \(getpid())")
            let checkpoint = try PostgresLogReader(location: writer.location).checkpoint()
            if output.json {
                Output.json(
                    .object([
                        "store": .string(location.description), "origin": .string(origin),
                        "verifier_key": .string(signer.verifier.description), "private_key": .string(absolutePath(key)),
                        "checkpoint": .string(checkpoint.encoded),
                    ]))
            } else {
                Output.line("Created the log \(origin) in \(location).")
                Output.line("Signing key:  \(absolutePath(key))")
                Output.line("Verifier key: \(signer.verifier)  (give it to auditors out of band)")
            }
        }
    }
}
