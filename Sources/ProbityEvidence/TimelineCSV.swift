import Foundation
public import ProbityDomain
import ProbityLog

/// CSV for spreadsheets: UTF-8 with a byte-order mark (so that Excel reads the accents), CRLF line ends,
/// every cell quoted, and every cell a spreadsheet would take for a formula neutralised.
public enum TimelineCSV {
    public static func header(_ lang: FindingText.Language) -> [String] {
        switch lang {
        case .en: ["time", "procedure", "event", "channel", "visibility", "from", "to", "text", "seq", "leaf hash"]
        case .fr:
            [
                "heure", "procédure", "événement", "canal", "visibilité", "de", "à", "texte", "seq",
                "empreinte (leaf hash)",
            ]
        }
    }

    public static func render(_ events: [ExportedEvent], time: LocalTime, lang: FindingText.Language) -> [UInt8] {
        var out: [UInt8] = [0xEF, 0xBB, 0xBF]
        func row(_ cells: [String]) { out += Array((cells.map(quoted).joined(separator: ",") + "\r\n").utf8) }
        row(header(lang))
        for event in events {
            let r = event.record
            let text =
                event.redactedBy.map { lang == .fr ? "[caviardé, voir seq \($0)]" : "[redacted, see seq \($0)]" }
                ?? event.text ?? ""
            row([
                time.dateTime(r.at) + " " + time.abbreviation(r.at), r.procedure ?? "", r.type,
                r.channel?.rawValue ?? "",
                r.visibility?.rawValue ?? "", r.from ?? r.parties.first ?? "",
                (r.to + r.mentions).joined(separator: ", "), text,
                String(r.seq), Hex.encode(event.leafHash),
            ])
        }
        return out
    }

    /// A cell a spreadsheet would evaluate (`=`, `+`, `-`, `@`, tab, carriage return first) gets a leading `'`,
    /// which spreadsheets show as text (OWASP's advice for CSV injection).
    public static func neutralised(_ cell: String) -> String {
        guard let first = cell.unicodeScalars.first, ["=", "+", "-", "@", "\t", "\r"].contains(first) else {
            return cell
        }
        return "'" + cell
    }

    /// A quoted cell, neutralised against formulas and bidirectional reordering (see `DisplaySafety`).
    static func quoted(_ cell: String) -> String {
        let safe = neutralised(DisplaySafety.bidiNeutralised(cell))
        return "\""
            + (safe.utf8.contains(UInt8(ascii: "\"")) ? safe.replacingOccurrences(of: "\"", with: "\"\"") : safe) + "\""
    }
}
