/// Seqs, tree sizes and counts as the outside world writes them (query parameters, path segments, CLI
/// arguments). The store keeps them in SQLite's signed 64-bit integers, so no entry or tree can be
/// numbered past 2^63 − 1: a larger number is refused where it enters, with the range in the message,
/// instead of trapping later in a conversion.
public enum LogNumber {
    /// The largest seq or size the log can hold.
    public static let max = UInt64(Int64.max)

    /// What a refused number is told: "must be an integer from 0 to 9223372036854775807".
    public static let expectation = "must be an integer from 0 to \(max)"

    /// Decimal digits only (no sign, no spaces, at most 19 of them), with a value ≤ `max`; nil otherwise.
    public static func parse(_ text: some StringProtocol) -> UInt64? {
        let utf8 = text.utf8
        guard !utf8.isEmpty, utf8.count <= 19 else { return nil }
        var value: UInt64 = 0
        for byte in utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + UInt64(byte - UInt8(ascii: "0"))  // 19 digits fit in UInt64
        }
        return value <= max ? value : nil
    }
}
