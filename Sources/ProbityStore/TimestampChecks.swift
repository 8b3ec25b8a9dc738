import Foundation
import GRDB
import ProbityDomain
public import ProbityLog

/// The check of one `checkpoint.timestamped` entry: which checkpoint a TSA dated, when, and whether the
/// token holds (its SHA-256, the stamped checkpoint, the signature, the chain when a CA is given).
public struct TimestampCheck: Sendable {
    public let seq: UInt64
    public let treeSize: UInt64
    public let genTime: String
    public let tsa: String
    /// The signer's certificate chains to the CA given (with the `timeStamping` key usage).
    public let chainChecked: Bool
    /// Why the token does not hold; nil when it does.
    public let problem: String?
    /// Something to look at although the token holds (the log's clock ahead of the TSA's).
    public var warning: String? = nil

    /// A warning when the TSA's time is earlier than the log's time of the last entry it dates: the log's
    /// clock ran ahead of the TSA's (beyond the one-second resolution TSAs commonly give).
    public static func clockWarning(tsaTime: Timestamp, lastEntryTime: Timestamp, lastSeq: UInt64) -> String? {
        guard tsaTime.microseconds + 1_000_000 < lastEntryTime.microseconds else { return nil }
        return
            "the TSA's time \(tsaTime) is earlier than the log's time of entry \(lastSeq) (\(lastEntryTime)), which it dates: the log's clock ran ahead"
    }
}

extension LogReader {
    /// Checks every `checkpoint.timestamped` entry against the checkpoint it names: the token's SHA-256,
    /// that it stamps the SHA-256 of that checkpoint's signed note, and its signature — chained to
    /// `caPEM` when given, else with the token's own certificate only.
    public func checkTimestamps(caPEM: String?) throws -> [TimestampCheck] {
        let rows = try wrap("reading the timestamps") {
            try db.read { db -> [(UInt64, [UInt8], [UInt8]?)] in
                // A scan, not the derived type counts: verify trusts nothing the store derived.
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT e.seq, e.bytes, p.bytes AS payload FROM entries e LEFT JOIN payloads p ON p.seq = e.seq
                        WHERE e.type = 'checkpoint.timestamped' ORDER BY e.seq
                        """
                ).map {
                    (
                        UInt64($0["seq"] as Int64), [UInt8]($0["bytes"] as Data),
                        ($0["payload"] as Data?).map { [UInt8]($0) }
                    )
                }
            }
        }
        return try Self.checkTimestamps(
            rows, caPEM: caPEM, checkpoint: { try self.checkpoint(size: $0) },
            entryBytes: { try self.entry(seq: $0)?.bytes })
    }

    /// The checks of `checkTimestamps` on rows (seq, entry bytes, payload) that any store read; the
    /// checkpoint a token names and the entry before it are read through `checkpoint` and `entryBytes`.
    public static func checkTimestamps(
        _ rows: [(UInt64, [UInt8], [UInt8]?)], caPEM: String?,
        checkpoint readCheckpoint: (UInt64) throws -> SignedCheckpoint,
        entryBytes: (UInt64) throws -> [UInt8]?
    ) throws -> [TimestampCheck] {
        try rows.map { seq, bytes, payload in
            let entry = try Entry(bytes: bytes)
            let size = entry.data["tree_size"]?.uint64Value ?? 0
            let genTime = entry.data["gen_time"]?.stringValue ?? "?"
            let tsa = entry.data["tsa"]?.stringValue ?? "?"
            func check(_ problem: String?, chain: Bool = false) -> TimestampCheck {
                TimestampCheck(
                    seq: seq, treeSize: size, genTime: genTime, tsa: tsa, chainChecked: chain && problem == nil,
                    problem: problem)
            }
            guard let payload else { return check("the token was redacted; it cannot be checked") }
            guard let encoded = (try? JSONParser.parse(payload))?["token"]?.stringValue,
                let der = Base64.decode(encoded)
            else {
                return check("the payload does not hold a base64 token")
            }
            guard Hex.encode(SHA256.hash(der)) == entry.data["token_sha256"]?.stringValue else {
                return check("the token does not match its token_sha256")
            }
            let checkpoint: SignedCheckpoint
            do { checkpoint = try readCheckpoint(size) } catch {
                return check("no stored checkpoint of size \(size) to check the token against")
            }
            guard Base64.encode(checkpoint.checkpoint.root) == entry.data["root"]?.stringValue else {
                return check("the root it names is not the root of the checkpoint of size \(size)")
            }
            // The note the token imprinted: as the log signed it (witnesses' cosignatures may have been added
            // to the stored one since), else as stored; with neither, the check below says the imprint differs.
            let imprint = (try? TrustedTimestamp.parse(tokenDER: der))?.imprint ?? []
            let stamped = checkpoint.stamped(imprint: imprint) ?? checkpoint
            do {
                try TrustedTimestamp.verify(
                    tokenDER: der, sha256: SHA256.hash(Array(stamped.encoded.utf8)), caPEM: caPEM)
            } catch {
                return check("\(error)")
            }
            var checked = check(nil, chain: caPEM != nil)
            if size > 0,
                let tsaTime = (try? TrustedTimestamp.parse(tokenDER: der)).flatMap({ Timestamp(rfc3339: $0.genTime) }),
                let last = try entryBytes(size - 1), let lastTime = try? Entry(bytes: last).time
            {
                checked.warning = TimestampCheck.clockWarning(
                    tsaTime: tsaTime, lastEntryTime: lastTime, lastSeq: size - 1)
            }
            return checked
        }
    }
}
