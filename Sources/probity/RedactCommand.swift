import ArgumentParser
import Foundation
import ProbityDomain
import ProbityLog
import ProbityPostgres
import ProbityStore
import ProbityWire

struct RedactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redact",
        abstract: "Erase the payload of an entry (GDPR erasure, business secrets), keeping every proof valid.",
        discussion: """
            Deletes the entry's payload and its salt and appends `redaction.applied` naming the entry, the legal \
            basis and who asked, in one transaction. The entry itself stays: the chain, the Merkle tree and every \
            proof still verify, and `verify`, `replay`, `timeline` and exports show the entry as redacted, pointing \
            at the redaction. An entry under an open legal hold (its procedure, or a party it names) cannot be \
            redacted until the hold is released. There is no undo.

            With --store postgres://…, the payloads table is then rewritten (VACUUM FULL), so that the erased \
            bytes leave its files on the primary and its standbys; the server's WAL and any WAL archive or base \
            backup still hold them until they are recycled or expire (docs/POSTGRES.md).

            Exit codes: 0 redacted, 2 usage or I/O error (nothing changed).

            Example:
              probity redact --db var/log.sqlite 21 --legal-basis "RGPD art. 17, durée de conservation échue" --requested-by "DPO"
            """
    )
    @OptionGroup var store: StoreOption
    @Argument(help: ArgumentHelp("The seq of the entry whose payload to erase.", valueName: "SEQ")) var seq: String
    @Option(help: ArgumentHelp("Why the payload may be erased (a legal reference).", valueName: "TEXT")) var legalBasis:
        String
    @Option(help: ArgumentHelp("Who asked (an office or role, not an e-mail address).", valueName: "NAME"))
    var requestedBy: String
    @Option(help: ArgumentHelp("Signing key (default: the one recorded by init).", valueName: "PEM")) var key: String?
    @Option(help: ArgumentHelp("The principal recorded as the redaction's author.", valueName: "NAME")) var by: String?
    @OptionGroup var output: JSONFlag

    func run() throws {
        let seq = try parseSeq(seq, what: "SEQ")
        for (name, value) in [("--legal-basis", legalBasis), ("--requested-by", requestedBy)] {
            do throws(EventInputError) { try EventSchema.check(.string(value), as: .code, at: name) } catch {
                throw CLIError.usage("\(error)")
            }
        }
        if PostgresLocation.isURL(store.db) {
            // An entry already redacted has no payload left: the writer says so.
            let batch = try reporting {
                try openPostgresWriter(pgLocation(store.db), key: key).redact(
                    seq: seq, legalBasis: legalBasis, requestedBy: requestedBy, by: by ?? defaultPrincipal())
            }
            return report(seq: seq, batch.receipts[0])
        }
        let (_, state) = try loadDomain(store.db)
        if let by = state.redactions[seq] { throw CLIError.usage("entry \(seq) is already redacted (by seq \(by))") }
        let batch = try reporting {
            try openWriter(db: store.db, key: key).redact(
                seq: seq, legalBasis: legalBasis, requestedBy: requestedBy, by: by ?? defaultPrincipal())
        }
        report(seq: seq, batch.receipts[0])
    }

    private func report(seq: UInt64, _ redaction: Receipt) {
        if output.json {
            Output.json(.object(["redacted_seq": .number(Double(seq)), "redaction": redaction.json]))
        } else {
            Output.line("redacted the payload of seq \(seq); redaction.applied is seq \(redaction.seq)")
        }
    }
}
