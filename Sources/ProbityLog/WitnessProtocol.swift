/// The C2SP tlog-witness `add-checkpoint` call (https://c2sp.org/tlog-witness): the request body a log
/// sends, and the checks a witness makes before it cosigns. Pure: the witness's state and clock are passed
/// in, and the caller persists what `check` accepts before it answers.
public struct AddCheckpointRequest: Sendable, Equatable {
    /// The size of the checkpoint the log believes the witness holds (0 for none).
    public let oldSize: UInt64
    /// The RFC 6962 consistency proof from `oldSize` to the checkpoint's size.
    public let proof: [Merkle.Hash]
    public let checkpoint: SignedCheckpoint

    /// Most proof lines a request may carry (the spec's limit).
    public static let maxProofLines = 63

    public init(oldSize: UInt64, proof: [Merkle.Hash], checkpoint: SignedCheckpoint) {
        self.oldSize = oldSize
        self.proof = proof
        self.checkpoint = checkpoint
    }

    /// `old <size>\n`, one base64 hash per line, an empty line, then the signed checkpoint.
    public var body: [UInt8] {
        var text = "old \(oldSize)\n"
        for hash in proof { text += Base64.encode(hash) + "\n" }
        return Array((text + "\n" + checkpoint.encoded).utf8)
    }

    public struct Malformed: Error, CustomStringConvertible, Equatable {
        public let message: String
        public var description: String { message }
        init(_ message: String) { self.message = message }
    }

    public init(parsing body: [UInt8]) throws(Malformed) {
        guard let text = String(validating: body, as: UTF8.self) else { throw Malformed("the body is not UTF-8") }
        var rest = Substring(text)
        func line() throws(Malformed) -> Substring {
            guard let end = rest.firstIndex(of: "\n") else { throw Malformed("a line of the body has no newline") }
            defer { rest = rest[rest.index(after: end)...] }
            return rest[..<end]
        }
        let first = try line()
        let digits = first.dropFirst(4)
        guard first.hasPrefix("old "), let old = LogNumber.parse(digits), digits == "0" || digits.first != "0" else {
            throw Malformed("the first line must be \"old <size>\" (a decimal without leading zeros), got \"\(first)\"")
        }
        var proof: [Merkle.Hash] = []
        while case let next = try line(), !next.isEmpty {
            guard proof.count < Self.maxProofLines else {
                throw Malformed("the consistency proof has more than \(Self.maxProofLines) lines")
            }
            guard let hash = Base64.digest(String(next)) else {
                throw Malformed("proof line \(proof.count + 1) is not base64 of a 32-byte hash: \"\(next)\"")
            }
            proof.append(hash)
        }
        let checkpoint: SignedCheckpoint
        do { checkpoint = try SignedCheckpoint(parsing: String(rest)) } catch {
            throw Malformed("the checkpoint is not a signed checkpoint: \(error)")
        }
        self.init(oldSize: old, proof: proof, checkpoint: checkpoint)
    }
}

/// What a witness answers an `add-checkpoint` request, before it signs anything.
public enum WitnessVerdict: Equatable, Sendable {
    /// Every check passed: persist the checkpoint as the log's latest, then cosign it.
    case cosign
    /// Refused, with the HTTP status the spec gives the case and why; `knownSize` for 409 (its body).
    case refuse(status: Int, reason: String, knownSize: UInt64?)

    /// Checks `request` against the logs the witness trusts (origin → verifier keys) and the checkpoint it
    /// holds for that origin, in the order the spec lists the checks.
    public static func check(
        _ request: AddCheckpointRequest, trusted: [String: [NoteVerifier]], latest: Checkpoint?
    ) -> WitnessVerdict {
        let checkpoint = request.checkpoint.checkpoint
        guard let keys = trusted[checkpoint.origin] else {
            return .refuse(status: 404, reason: "unknown log origin \(checkpoint.origin)", knownSize: nil)
        }
        guard keys.contains(where: { $0.verifies(request.checkpoint.note) }) else {
            return .refuse(
                status: 403,
                reason: "no signature on the checkpoint verifies with a key trusted for \(checkpoint.origin)",
                knownSize: nil)
        }
        guard request.oldSize <= checkpoint.size else {
            return .refuse(
                status: 400,
                reason: "old size \(request.oldSize) is larger than the checkpoint's size \(checkpoint.size)",
                knownSize: nil)
        }
        let known = latest?.size ?? 0
        guard request.oldSize == known else {
            return .refuse(
                status: 409, reason: "old size \(request.oldSize) is not the size this witness holds (\(known))",
                knownSize: known)
        }
        guard let latest, latest.size > 0 else {
            guard request.proof.isEmpty else {
                return .refuse(status: 422, reason: "a proof from size 0 must be empty", knownSize: nil)
            }
            return .cosign
        }
        if latest.size == checkpoint.size {
            guard latest.root == checkpoint.root else {
                return .refuse(
                    status: 409,
                    reason: "this witness holds another root at size \(latest.size): the log has forked",
                    knownSize: known)
            }
            guard request.proof.isEmpty else {
                return .refuse(status: 422, reason: "the sizes are equal but the proof is not empty", knownSize: nil)
            }
            return .cosign
        }
        do {
            try Merkle.verifyConsistency(
                oldSize: latest.size, newSize: checkpoint.size, oldRoot: latest.root, newRoot: checkpoint.root,
                proof: request.proof)
        } catch {
            return .refuse(
                status: 422, reason: "the consistency proof from \(latest.size) to \(checkpoint.size) fails: \(error)",
                knownSize: nil)
        }
        return .cosign
    }
}
