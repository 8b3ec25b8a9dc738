public import ProbityLog

extension Receipt {
    /// The receipt as `probity append --json` prints it and `probityd` returns it.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "seq": .number(Double(seq)),
            "leaf_hash": .string(Hex.encode(leafHash)),
            "checkpoint": .string(proof.checkpoint.encoded),
            "proof": .string(proof.encoded),
        ]
        if duplicate { members["duplicate"] = .bool(true) }
        return .object(members)
    }
}
