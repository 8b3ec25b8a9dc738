/// The entry types the log itself writes (docs/FORMATS.md), as constants: the verifier and the writer
/// must agree on them byte for byte, and a misspelt constant does not compile where a literal would.
public enum LogEventType {
    /// Entry 0: the log's origin and first verifier key.
    public static let logCreated = "log.created"
    /// A new signing key, signed by the old one.
    public static let keyRotated = "key.rotated"
    /// An entry's payload erased; the entry and its hash stay.
    public static let redactionApplied = "redaction.applied"
    /// An RFC 3161 token from a timestamp authority for one checkpoint.
    public static let checkpointTimestamped = "checkpoint.timestamped"
}
