import ProbityDomain
import ProbityLog

/// `00_README_LISEZMOI.txt`: what the bundle proves and how a court expert checks it, in English then in
/// French, whatever the export language (the bundle may travel).
enum BundleReadme {
    static func text(_ bundle: EvidenceBundle) -> String {
        let cp = bundle.checkpoint.checkpoint
        let scopeCount = bundle.exhibits.filter { $0.role == .scope }.count
        let redacted = bundle.exhibits.filter { $0.redactedBy != nil }.count
        let streams = bundle.streamHeads.map(\.stream)
        let key = bundle.verifierKeys.first ?? ""
        let utc = LocalTime.utc
        let (scopeEN, scopeFR) = (bundle.scope.title(.en, time: utc), bundle.scope.title(.fr, time: utc))
        let stamp = bundle.timestamps.first?.checkpoint.checkpoint.size
        let datingEN =
            stamp.map {
                "\n- timestamps/: an RFC 3161 token from a Time Stamping Authority (in the payload of a\n  checkpoint.timestamped entry) dates the checkpoint of size \($0); the consistency proof beside it shows\n  the bundle's checkpoint extends it. Every entry below that size existed at the TSA's time."
            } ?? ""
        let datingFR =
            stamp.map {
                "\n- timestamps/ : un jeton RFC 3161 d'une autorité d'horodatage (contenu d'une entrée\n  checkpoint.timestamped) date le point de contrôle de taille \($0) ; la preuve de cohérence jointe montre\n  que celui du dossier le prolonge. Toute entrée de numéro inférieur existait à l'heure de l'autorité."
            } ?? ""
        let completenessEN =
            streams.isEmpty
            ? "Completeness: the entries of the period are a contiguous range of seqs, each linked to the previous one by its `prev` hash; the entries just before and just after the range are included and lie outside the period. Since the log's time never decreases along seq, no entry of the period can have been left out."
            : "Completeness: for each stream listed (\(streams.joined(separator: ", "))), every entry of the stream names the previous one by its hash, and a note signed with the log key states the stream's last entry at tree size \(cp.size). A missing entry breaks the chain; a cut tail contradicts the signed note."
        let completenessFR =
            streams.isEmpty
            ? "Exhaustivité : les entrées de la période forment une suite continue de numéros (seq), chacune liée à la précédente par son empreinte `prev` ; les entrées juste avant et juste après sont jointes et sont hors de la période. L'heure du journal ne décroissant jamais, aucune entrée de la période n'a pu être omise."
            : "Exhaustivité : pour chaque flux listé (\(streams.joined(separator: ", "))), chaque entrée désigne la précédente du flux par son empreinte, et une note signée par la clé du journal indique la dernière entrée du flux à la taille \(cp.size). Une entrée manquante rompt la chaîne ; une fin tronquée contredit la note signée."
        return """
            PROBITY EVIDENCE BUNDLE — \(scopeEN)
            Log: \(cp.origin) · tree size \(cp.size) · generated \(bundle.generatedAt.description) (UTC)
            Entries in scope: \(scopeCount)\(redacted > 0 ? " (\(redacted) redacted)" : "") · files: see 01_manifest.json

            WHAT THIS BUNDLE PROVES
            - Each file entries/E*.json is, byte for byte, an entry of the log: its .tlog-proof (RFC 6962
              inclusion proof) leads to the root of 03_checkpoint.txt, a checkpoint signed with the log key
              (Ed25519, C2SP signed note).
            - Each entries/E*.payload.json (the message text and personal data) matches the salted SHA-256
              committed in its entry. Redacted entries have no payload file: their payload was erased
              (GDPR, business secrets) by the redaction.applied entry named in the manifest, also included.
            - \(completenessEN)
            - 01_manifest.json lists the SHA-256 of every other file and is signed with the log key
              (02_manifest_signature.txt): no file can be changed, added or removed unnoticed.
            - If the log's key was rotated, keys/ holds, for each rotation, the checkpoint the old key signed
              over it: the first key, given below, vouches for the key that signed 03_checkpoint.txt.
            - 06_earlier_checkpoint.txt is the first checkpoint that held all these entries; the
              consistency proof 07 shows that the log only grew from it to 03_checkpoint.txt.\(datingEN)
            It does not prove that what the entries record is true, nor, by itself, when they were
            recorded: the time in each entry is the log's clock. An RFC 3161 timestamp of a checkpoint
            (checkpoint.timestamped entries in the log) dates every entry below its tree size.

            HOW TO CHECK IT
            1. Obtain the log's verifier key from the buyer by another channel (letter, website). The key
               this bundle carries is:
                 \(key)
            2. With Python 3 and OpenSSL only:
                 python3 10_verify_bundle.py BUNDLE.zip --vkey 'KEY'
               or with Probity:
                 probity verify-bundle BUNDLE.zip --vkey 'KEY'
               Both print what they proved, or the first thing found wrong (exit status 1). Add
               --tsa-ca CA.pem (the TSA's certification authority) to check who dated the checkpoint.
            3. By hand, any signature: the note's text (before the blank line) is the message; the last 64
               bytes of the base64 after the name are the Ed25519 signature, checked with
                 openssl pkeyutl -verify -pubin -inkey 05_public_key.pem -rawin -in TEXT -sigfile SIG
            08_timeline.csv and 09_timeline.html are readable views of the same entries.

            ────────────────────────────────────────────────────────────────────────────

            DOSSIER DE PREUVE PROBITY — \(scopeFR)
            Journal : \(cp.origin) · taille \(cp.size) · produit le \(bundle.generatedAt.description) (UTC)
            Entrées du périmètre : \(scopeCount)\(redacted > 0 ? " (dont \(redacted) occultées)" : "") · fichiers : voir 01_manifest.json

            CE QUE CE DOSSIER PROUVE
            - Chaque fichier entries/E*.json est, octet pour octet, une entrée du journal : sa preuve
              .tlog-proof (preuve d'inclusion RFC 6962) mène à la racine de 03_checkpoint.txt, point de
              contrôle signé par la clé du journal (Ed25519, note signée C2SP).
            - Chaque entries/E*.payload.json (texte du message, données personnelles) correspond à
              l'empreinte SHA-256 salée inscrite dans son entrée. Les entrées occultées n'ont pas de
              fichier de contenu : il a été effacé (RGPD, secret des affaires) par l'entrée
              redaction.applied indiquée dans le manifeste, elle aussi jointe.
            - \(completenessFR)
            - 01_manifest.json donne l'empreinte SHA-256 de chaque autre fichier et est signé par la clé
              du journal (02_manifest_signature.txt) : aucun fichier ne peut être modifié, ajouté ou retiré
              sans que cela se voie.
            - Si la clé du journal a changé, keys/ contient, pour chaque changement, le point de contrôle
              signé par l'ancienne clé qui le couvre : la première clé, indiquée ci-dessous, garantit celle
              qui a signé 03_checkpoint.txt.
            - 06_earlier_checkpoint.txt est le premier point de contrôle contenant toutes ces entrées ; la
              preuve de cohérence 07 montre que le journal n'a fait que croître jusqu'à 03_checkpoint.txt.\(datingFR)
            Il ne prouve ni la véracité de ce que les entrées relatent, ni à lui seul leur date : l'heure
            de chaque entrée est celle du journal. Un horodatage RFC 3161 d'un point de contrôle (entrées
            checkpoint.timestamped) date toutes les entrées de numéro inférieur à sa taille.

            COMMENT LE VÉRIFIER
            1. Obtenez la clé de vérification du journal auprès de l'acheteur par un autre canal
               (courrier, site internet). Celle que porte ce dossier est :
                 \(key)
            2. Avec Python 3 et OpenSSL seulement :
                 python3 10_verify_bundle.py DOSSIER.zip --vkey 'CLÉ'
               ou avec Probity :
                 probity verify-bundle DOSSIER.zip --vkey 'CLÉ'
               Les deux affichent ce qu'ils ont prouvé, ou la première anomalie trouvée (code de sortie 1).
               Ajoutez --tsa-ca AC.pem (l'autorité de certification de l'horodateur) pour vérifier qui a daté.
            3. À la main, toute signature : le texte de la note (avant la ligne vide) est le message ; les
               64 derniers octets du base64 suivant le nom sont la signature Ed25519, vérifiable avec
                 openssl pkeyutl -verify -pubin -inkey 05_public_key.pem -rawin -in TEXTE -sigfile SIG
            08_timeline.csv et 09_timeline.html présentent les mêmes entrées sous une forme lisible.

            """
    }
}
