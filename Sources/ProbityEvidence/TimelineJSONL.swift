import ProbityDomain
import ProbityLog

/// JSONL: one line per event, `{"entry": <the entry bytes verbatim>, "leaf_hash", "payload"?, "redacted_by"?, "seq"}`.
/// The entry is spliced in byte for byte (it is canonical JSON), so each line's `entry` hashes to its leaf hash.
public enum TimelineJSONL {
    public static func render(_ events: [ExportedEvent]) -> [UInt8] {
        var out: [UInt8] = []
        for event in events {
            out += Array(#"{"entry":"#.utf8)
            out += event.entryBytes
            out += Array(#","leaf_hash":""#.utf8) + Array(Hex.encode(event.leafHash).utf8) + [UInt8(ascii: "\"")]
            if let payload = event.payload { out += Array(#","payload":"#.utf8) + CanonicalJSON.encode(payload) }
            if let by = event.redactedBy { out += Array(",\"redacted_by\":\(by)".utf8) }
            out += Array(",\"seq\":\(event.seq)}\n".utf8)
        }
        return out
    }
}
