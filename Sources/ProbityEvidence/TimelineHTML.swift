import Foundation
public import ProbityDomain
public import ProbityLog

/// One self-contained HTML page: inline CSS, no script, no fetch; prints on A4. A chronology by day,
/// public and private exchanges told apart, redacted entries shown as such, the findings, and the signed
/// checkpoint with how to verify it. Every text from the log is escaped.
public enum TimelineHTML {
    public struct Document: Sendable {
        public var scope: ExportScope
        public var events: [ExportedEvent]
        public var findings: [Finding]
        /// The signed checkpoint the export was made against, and the log's verifier key.
        public var checkpoint: String
        public var verifierKey: String
        public var generatedAt: Timestamp

        public init(
            scope: ExportScope, events: [ExportedEvent], findings: [Finding], checkpoint: String, verifierKey: String,
            generatedAt: Timestamp
        ) {
            self.scope = scope; self.events = events; self.findings = findings
            self.checkpoint = checkpoint; self.verifierKey = verifierKey; self.generatedAt = generatedAt
        }
    }

    static let style = """
        body{font-family:"DejaVu Sans",Arial,sans-serif;font-size:10.5pt;color:#111;margin:2em auto;max-width:60em;line-height:1.4}
        h1{font-size:16pt;margin-bottom:.2em}h2{font-size:13pt;border-bottom:1px solid #999;margin-top:1.6em}
        h3{font-size:11pt;margin:1.2em 0 .4em;color:#333}.meta{color:#555}
        .event{border-left:4px solid #bbb;padding:.3em .7em;margin:.4em 0;page-break-inside:avoid}
        .event.public{border-color:#2a7ab0;background:#eef6fb}.event.private{border-color:#c0392b;background:#fcefee}
        .event.redacted .text{font-style:italic;color:#777}.badge{display:inline-block;font-size:8.5pt;padding:0 .4em;border-radius:3px;margin-right:.4em;border:1px solid #999}
        .public .badge.vis{border-color:#2a7ab0;color:#2a7ab0}.private .badge.vis{border-color:#c0392b;color:#c0392b}
        .text{white-space:pre-wrap;margin-top:.2em}.seq{color:#777;font-size:8.5pt}
        .finding{border:1px solid #c0392b;padding:.5em .8em;margin:.6em 0;page-break-inside:avoid}.finding.medium{border-color:#d68910}
        pre{background:#f4f4f4;padding:.6em;white-space:pre-wrap;word-break:break-all;font-size:8.5pt}
        @page{size:A4;margin:18mm}@media print{body{margin:0;max-width:none}}
        """

    public static func render(_ doc: Document, time: LocalTime, lang: FindingText.Language) -> [UInt8] {
        let fr = lang == .fr
        var h = "<!DOCTYPE html>\n<html lang=\"\(lang.rawValue)\"><head><meta charset=\"utf-8\">"
        h += "<title>\(escape(doc.scope.title(lang, time: time)))</title><style>\(style)</style></head><body>\n"
        h += "<h1>\(escape(doc.scope.title(lang, time: time)))</h1>\n"
        h +=
            "<p class=\"meta\">"
            + escape(
                fr
                    ? "Chronologie exportée du journal Probity le \(time.dateTime(doc.generatedAt)) — \(doc.events.count) entrées, heures \(time.zone.identifier)."
                    : "Timeline exported from the Probity log on \(time.dateTime(doc.generatedAt)) — \(doc.events.count) entries, times \(time.zone.identifier)."
            ) + "</p>\n"
        h += "<h2>\(fr ? "Chronologie" : "Chronology")</h2>\n"
        var day = ""
        for event in doc.events.sorted(by: { ($0.record.at, $0.seq) < ($1.record.at, $1.seq) }) {
            let r = event.record
            if time.day(r.at) != day {
                day = time.day(r.at)
                h += "<h3>\(escape(day))</h3>\n"
            }
            let isPublic = r.visibility == .public
            let classes = [
                "event", r.isExchange ? (isPublic ? "public" : "private") : "",
                event.redactedBy != nil ? "redacted" : "",
            ].filter { !$0.isEmpty }
            h +=
                "<div class=\"\(classes.joined(separator: " "))\"><span class=\"seq\">seq \(r.seq) · \(escape(time.clock(r.at)))</span> "
            if r.isExchange {
                let visibility = isPublic ? (fr ? "public" : "public") : (fr ? "privé" : "private")
                h +=
                    "<span class=\"badge vis\">\(visibility)</span><span class=\"badge\">\(escape(r.channel?.rawValue ?? "?"))</span>"
                h +=
                    "<b>\(escape(r.from ?? "?"))</b>"
                    + ((r.to + r.mentions).isEmpty ? "" : " → " + escape((r.to + r.mentions).joined(separator: ", ")))
            } else {
                h += "<span class=\"badge\">\(escape(r.type))</span>" + escape(r.parties.joined(separator: ", "))
                if let phase = r.phase { h += " " + escape(phase.rawValue) }
            }
            if let by = event.redactedBy {
                h +=
                    "<div class=\"text\">\(escape(fr ? "[caviardé — voir l'entrée \(by)]" : "[redacted — see entry \(by)]"))</div>"
            } else if let text = event.text {
                h += "<div class=\"text\">\(escape(text))</div>"
            }
            h += "</div>\n"
        }
        h += "<h2>\(fr ? "Signalements" : "Findings")</h2>\n"
        if doc.findings.isEmpty { h += "<p>\(fr ? "Aucun signalement." : "No findings.")</p>\n" }
        for finding in doc.findings {
            h +=
                "<div class=\"finding \(finding.severity.rawValue)\"><b>[\(finding.rule.rawValue)] \(escape(FindingText.title(finding.rule, lang)))</b>"
            h +=
                "<div class=\"meta\">\(escape(FindingText.legalReference(finding.rule))) · seqs \(finding.seqs.map(String.init).joined(separator: ", "))</div>"
            h += "<div>\(escape(FindingText.explanation(finding, lang, time: time)))</div></div>\n"
        }
        h += "<h2>\(fr ? "Point de contrôle signé et vérification" : "Signed checkpoint and how to verify it")</h2>\n"
        h += "<pre>\(escape(doc.checkpoint))</pre>\n"
        h +=
            "<p>"
            + escape(
                fr
                    ? "Chaque entrée est une ligne du fichier JSONL de l'export ; son empreinte (leaf hash) figure dans le fichier CSV. Avec la clé de vérification du journal, obtenue par un autre canal, vérifiez le journal (probity verify --db JOURNAL --vkey CLÉ) ou une entrée (probity prove inclusion puis probity verify-proof). Clé de vérification :"
                    : "Each entry is a line of the export's JSONL file; its leaf hash is in the CSV file. With the log's verifier key, obtained out of band, verify the log (probity verify --db LOG --vkey KEY) or an entry (probity prove inclusion, then probity verify-proof). Verifier key:"
            ) + "</p>\n"
        h += "<pre>\(escape(doc.verifierKey))</pre>\n</body></html>\n"
        return Array(h.utf8)
    }

    /// HTML-escapes text for element content and attribute values; bidirectional formatting characters
    /// become visible `[U+XXXX]` marks (see `DisplaySafety`).
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case _ where DisplaySafety.isBidiControl(c): out += DisplaySafety.mark(c)
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
