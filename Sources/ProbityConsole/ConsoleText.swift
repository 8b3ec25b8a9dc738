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
    ]
}
