public import ProbityLog

/// `{"receipts":[…]}`, the body `probityd` answers appends with, written straight to bytes. The same
/// bytes as encoding `Receipt.json` canonically (a test holds it to that), but a batch's receipts share
/// one checkpoint, whose escaped note is written once and copied, rather than re-encoded per receipt.
public enum ReceiptsJSON {
    public static func encode(_ receipts: [Receipt]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(receipts.count * 1400 + 16)
        out += Array(#"{"receipts":["#.utf8)
        var escapedNotes: [UInt64: [UInt8]] = [:]
        for (index, receipt) in receipts.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            let checkpoint = receipt.proof.checkpoint
            let note: [UInt8]
            if let cached = escapedNotes[checkpoint.checkpoint.size] {
                note = cached
            } else {
                var escaped: [UInt8] = []
                CanonicalJSON.writeString(checkpoint.encoded, into: &escaped)
                escaped.removeFirst()
                escaped.removeLast()
                escapedNotes[checkpoint.checkpoint.size] = escaped
                note = escaped
            }
            out += Array(#"{"checkpoint":""#.utf8) + note
            if receipt.duplicate { out += Array(#"","duplicate":true"#.utf8) } else { out.append(UInt8(ascii: "\"")) }
            out += Array(#","leaf_hash":""#.utf8)
            Hex.append(receipt.leafHash, to: &out)
            // The .tlog-proof (TlogProof.encoded), with its newlines escaped.
            out +=
                Array(#"","proof":"c2sp.org/tlog-proof@v1\nindex "#.utf8) + Array(String(receipt.seq).utf8)
                + Array(#"\n"#.utf8)
            precondition(receipt.proof.extra == nil, "receipts carry no extra data")
            for hash in receipt.proof.proof {
                Base64.append(hash, to: &out)
                out += Array(#"\n"#.utf8)
            }
            out += Array(#"\n"#.utf8) + note
            out += Array(#"","seq":"#.utf8) + Array(String(receipt.seq).utf8) + [UInt8(ascii: "}")]
        }
        out += Array("]}".utf8)
        return out
    }
}
