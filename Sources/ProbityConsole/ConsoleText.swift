import Foundation

/// The console's languages: French first (the buyers' and the courts' language), English for the rest.
public enum ConsoleLanguage: String, Sendable, CaseIterable {
    case fr, en

    /// `?lang=` if given and known, else the first of `Accept-Language` Probity speaks, else French.
    public static func choose(query: String?, acceptLanguage: String?) -> ConsoleLanguage {
        if let query, let lang = ConsoleLanguage(rawValue: query) { return lang }
        for part in (acceptLanguage ?? "").split(separator: ",") {
            let tag = part.split(separator: ";").first.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
            if let lang = ConsoleLanguage(rawValue: String(tag.prefix(2)).lowercased()) { return lang }
        }
        return .fr
    }

    public var other: ConsoleLanguage { self == .fr ? .en : .fr }
}

/// Every label the templates show, by language. Templates never hold words of their own.
enum ConsoleText {
    static func labels(_ lang: ConsoleLanguage) -> [String: String] { lang == .fr ? french : english }

    private static let french: [String: String] = [
        "skip": "Aller au contenu", "navigation": "Navigation principale", "dashboard": "Tableau de bord",
        "procedures": "Procédures", "signOut": "Se déconnecter", "otherLanguage": "English",
        "footer": "Probity — journal d'audit infalsifiable des échanges acheteurs–fournisseurs. Lecture seule.",
        "signInTitle": "Connexion", "errorLabel": "Erreur :", "tokenLabel": "Jeton d'accès",
        "tokenHelp":
            "Un jeton de rôle read ou export, remis par l'administrateur (prb_…). Il n'est pas conservé par le navigateur.",
        "signIn": "Se connecter", "theLog": "Le journal", "origin": "Origine", "entries": "Entrées",
        "health": "État du stockage", "latestCheckpoint": "Dernier point de contrôle signé",
        "treeSize": "Taille de l'arbre",
        "signedAt": "Signé le", "rootHash": "Racine (SHA-256)", "cosignatures": "Cosignatures de témoins",
        "none": "aucune", "checkpointText": "Texte du point de contrôle (note signée C2SP)",
        "keyHistory": "Historique des clés", "entry": "Entrée", "event": "Événement", "date": "Date",
        "verifierKey": "Clé de vérification", "timestamps": "Horodatages RFC 3161",
        "noTimestamps": "Aucun horodatage qualifié n'est encore enregistré.", "search": "Rechercher",
        "kind": "Type", "any": "tous", "phase": "Phase", "withFindings": "avec constats seulement",
        "filter": "Filtrer", "reference": "Référence", "buyer": "Acheteur", "candidates": "Candidats",
        "findings": "Constats", "procedure": "Procédure", "timeZone": "Fuseau horaire", "phases": "Phases",
        "awardee": "attributaire", "legalBasis": "Fondement :", "noFindings": "Aucun constat.",
        "chronology": "Chronologie", "from": "De", "to": "À", "visibility": "Visibilité", "pages": "Pages",
        "previous": "Précédentes", "next": "Suivantes", "backToDashboard": "Retour au tableau de bord",
        "public": "Public", "private": "Privé", "restricted": "Restreint",
        "coverage": "Couverture des réponses",
        "coverageCaption": "Chaque question × chaque candidat : a-t-il reçu la réponse, et quand",
        "question": "Question", "status": "Statut",
        "loggedAt": "Inscrite au journal le", "leafHash": "Empreinte de la feuille (SHA-256)",
        "entryBytes": "Octets de l'entrée",
        "entryBytesHelp": "L'entrée telle qu'elle est hachée (JSON canonique RFC 8785).",
        "payload": "Contenu", "inclusionProof": "Preuve d'inclusion",
        "proofHelp":
            "La preuve (c2sp.org/tlog-proof) que l'entrée figure dans l'arbre du point de contrôle signé ci-dessous.",
        "verifyInBrowser": "Vérifier dans ce navigateur",
        "verifyHelp":
            "Le navigateur recalcule l'empreinte de l'entrée, remonte la preuve jusqu'à la racine et vérifie la signature du point de contrôle avec la clé que vous donnez, sans faire confiance au serveur qui affiche cette page.",
        "verifierKeyLabel": "Clé de vérification du journal",
        "verifierKeyHelp":
            "Celle que l'opérateur vous a remise par ailleurs (nom+identifiant+clé), par exemple le fichier log.vkey.",
        "keepKey": "Garder cette clé dans ce navigateur", "verify": "Vérifier",
        "verifyOK":
            "Vérifié : cette entrée figure dans le journal {origin}, dans le point de contrôle de taille {size} signé par la clé donnée. Le serveur n'a pas pu la modifier sans que ce calcul échoue.",
        "verifyLeafFailed": "Échec : l'empreinte des octets de l'entrée ne correspond pas à l'empreinte affichée.",
        "verifyPathFailed":
            "Échec : la preuve d'inclusion ne mène pas à la racine du point de contrôle signé ; cette entrée n'est pas prouvée.",
        "verifySignatureFailed": "Échec : le point de contrôle ne porte pas de signature valide de cette clé.",
        "verifyKeyInvalid": "Échec : ce n'est pas une clé de vérification Ed25519 valide (nom+identifiant+clé).",
        "verifyUnsupported": "Ce navigateur ne sait pas vérifier (WebCrypto Ed25519 indisponible).",
        "downloads": "Téléchargements",
        "downloadsHelp":
            "Le dossier de preuve contient les entrées, leurs preuves, le point de contrôle signé et deux vérificateurs (probity verify-bundle, ou le script Python joint).",
        "downloadsNeedExport": "Les exports demandent un jeton de rôle export.",
        "party": "Partie", "role": "Rôle", "organisation": "Organisation", "registered": "Enregistrée par",
        "downloadReceived": "Téléchargement en cours : {mb} Mo reçus…",
        "downloadDone": "Téléchargé : {name} ({mb} Mo).",
        "downloadFailed": "Le téléchargement a échoué", "period": "Exporter une période", "periodFrom": "Du (UTC)",
        "periodTo": "Au (UTC)", "periodWhat": "Quoi", "export": "Exporter",
        "candidateIn": "Candidate à", "lastVerify": "Dernière vérification (probity verify)",
    ]

    private static let english: [String: String] = [
        "skip": "Skip to content", "navigation": "Main navigation", "dashboard": "Dashboard",
        "procedures": "Procedures", "signOut": "Sign out", "otherLanguage": "Français",
        "footer": "Probity — tamper-evident audit log of buyer–supplier exchanges. Read only.",
        "signInTitle": "Sign in", "errorLabel": "Error:", "tokenLabel": "Access token",
        "tokenHelp":
            "A token of the read or export role, given by the administrator (prb_…). The browser does not keep it.",
        "signIn": "Sign in", "theLog": "The log", "origin": "Origin", "entries": "Entries",
        "health": "Store health", "latestCheckpoint": "Latest signed checkpoint", "treeSize": "Tree size",
        "signedAt": "Signed at", "rootHash": "Root (SHA-256)", "cosignatures": "Witness cosignatures",
        "none": "none", "checkpointText": "Checkpoint text (C2SP signed note)", "keyHistory": "Key history",
        "entry": "Entry", "event": "Event", "date": "Date", "verifierKey": "Verifier key",
        "timestamps": "RFC 3161 timestamps", "noTimestamps": "No qualified timestamp is recorded yet.",
        "search": "Search", "kind": "Kind", "any": "any", "phase": "Phase", "withFindings": "with findings only",
        "filter": "Filter", "reference": "Reference", "buyer": "Buyer", "candidates": "Candidates",
        "findings": "Findings", "procedure": "Procedure", "timeZone": "Time zone", "phases": "Phases",
        "awardee": "awardee", "legalBasis": "Legal basis:", "noFindings": "No findings.",
        "chronology": "Chronology", "from": "From", "to": "To", "visibility": "Visibility", "pages": "Pages",
        "previous": "Earlier", "next": "Later", "backToDashboard": "Back to the dashboard",
        "public": "Public", "private": "Private", "restricted": "Restricted",
        "coverage": "Disclosure coverage",
        "coverageCaption": "Each question × each candidate: did it get the answer, and when",
        "question": "Question", "status": "Status",
        "loggedAt": "Logged at", "leafHash": "Leaf hash (SHA-256)", "entryBytes": "Entry bytes",
        "entryBytesHelp": "The entry as it is hashed (RFC 8785 canonical JSON).", "payload": "Payload",
        "inclusionProof": "Inclusion proof",
        "proofHelp": "The proof (c2sp.org/tlog-proof) that the entry is in the tree of the signed checkpoint below.",
        "verifyInBrowser": "Verify in this browser",
        "verifyHelp":
            "The browser recomputes the entry's hash, follows the proof up to the root and checks the checkpoint's signature with the key you give, without trusting the server that shows this page.",
        "verifierKeyLabel": "The log's verifier key",
        "verifierKeyHelp": "The one the operator gave you out of band (name+keyid+key), e.g. the log.vkey file.",
        "keepKey": "Keep this key in this browser", "verify": "Verify",
        "verifyOK":
            "Verified: this entry is in the log {origin}, in the checkpoint of size {size} signed by the given key. The server could not have changed it without this check failing.",
        "verifyLeafFailed": "Failed: the hash of the entry bytes does not match the leaf hash shown.",
        "verifyPathFailed":
            "Failed: the inclusion proof does not lead to the signed checkpoint's root; this entry is not proven.",
        "verifySignatureFailed": "Failed: the checkpoint carries no valid signature by this key.",
        "verifyKeyInvalid": "Failed: this is not a valid Ed25519 verifier key (name+keyid+key).",
        "verifyUnsupported": "This browser cannot verify (no WebCrypto Ed25519).",
        "downloads": "Downloads",
        "downloadsHelp":
            "The evidence bundle holds the entries, their proofs, the signed checkpoint and two verifiers (probity verify-bundle, or the Python script inside).",
        "downloadsNeedExport": "Exports need a token of the export role.",
        "party": "Party", "role": "Role", "organisation": "Organisation", "registered": "Registered by",
        "downloadReceived": "Downloading: {mb} MB received…", "downloadDone": "Downloaded: {name} ({mb} MB).",
        "downloadFailed": "The download failed", "period": "Export a period", "periodFrom": "From (UTC)",
        "periodTo": "To (UTC)", "periodWhat": "What", "export": "Export",
        "candidateIn": "Candidate in", "lastVerify": "Last verification (probity verify)",
    ]
}
