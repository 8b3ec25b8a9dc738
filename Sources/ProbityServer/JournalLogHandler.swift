import Foundation
public import Logging

/// Writes one line per message to stderr with the `<N>` priority prefix journald reads (sd-daemon(3)),
/// so that `journalctl -p warning -u probityd` works. Metadata follows as key=value pairs.
public struct JournalLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    /// The logger's label is not written: journald already tags every line with the unit.
    public init(label: String) {}

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// syslog priorities: 2 critical, 3 error, 4 warning, 5 notice, 6 info, 7 debug.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .critical: return 2
        case .error: return 3
        case .warning: return 4
        case .notice: return 5
        case .info: return 6
        case .debug, .trace: return 7
        }
    }

    public func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let extra =
            all.isEmpty
            ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        // One line per message: journald splits on newlines, so they are escaped.
        let text = "\(event.message)\(extra)".replacingOccurrences(of: "\n", with: "\\n")
        FileHandle.standardError.write(Data("<\(Self.priority(event.level))>\(text)\n".utf8))
    }
}
