import ProbityLog

// The last stage: the bundle holds every entry of its scope (a procedure's or a party's streams, or a
// period), which its signed stream heads or the prev chain at the period's bounds prove.
extension BundleVerifier {
    func checkCompleteness(_ bundle: Authenticated, _ exhibits: Exhibits) throws(BundleVerificationError) -> [String] {
        let scope = try object(bundle.manifest, "scope")
        switch try string(scope, "kind") {
        case let kind where kind == "procedure" || kind == "party":
            return try checkStreams(bundle, scope, kind: kind, exhibits.list)
        case "period":
            return [try checkPeriod(bundle, scope, exhibits)]
        case let kind:
            throw .init("unknown scope kind \"\(kind)\"")
        }
    }

    /// Each stream's chain, from the head its signed note names back to its first entry, is in the bundle.
    func checkStreams(
        _ bundle: Authenticated, _ scope: JSONValue, kind: String, _ exhibits: [Exhibit]
    ) throws(BundleVerificationError) -> [String] {
        let (manifest, signer, origin, size) = (bundle.manifest, bundle.signer, bundle.origin, bundle.size)
        var proven: [String] = []
        let wanted = kind + ":" + (try string(scope, kind))
        guard Identifier.isValidStream(wanted) else {
            throw .init("\(Names.manifest): the scope \"\(wanted)\" is not a Probity identifier")
        }
        let streams = try array(manifest, "streams")
        for stream in streams where !Identifier.isValidStream(try string(stream, "id")) {
            throw .init(
                "\(Names.manifest): the stream \"\(try string(stream, "id"))\" is not procedure:<id> or party:<id>")
        }
        guard streams.contains(where: { $0["id"]?.stringValue == wanted }) else {
            throw .init("the bundle has no stream-head note for \(wanted), its scope")
        }
        for stream in streams {
            let id = try string(stream, "id"), noteFile = try string(stream, "note")
            let head: StreamHead
            do { head = try StreamHead(text: try signedText(noteFile, by: [signer])) } catch let e
                as BundleVerificationError
            { throw e } catch {
                throw .init("\(noteFile) is not a stream head: \(error)")
            }
            guard head.origin == origin, head.treeSize == size, head.stream == id else {
                throw .init("\(noteFile) is not the head of \(id) at size \(size)")
            }
            var members: [Merkle.Hash: Exhibit] = [:]
            for exhibit in exhibits where exhibit.entry.streams[id] != nil { members[exhibit.leafHash] = exhibit }
            var cursor = Entry.zeroHash, count = 0
            if let lastSeq = head.lastSeq {
                guard let last = members[head.lastLeafHash], last.seq == lastSeq else {
                    throw .init("the last entry of \(id) (seq \(lastSeq)) is missing from the bundle (a cut tail)")
                }
                cursor = head.lastLeafHash
            } else if !members.isEmpty {
                throw .init("\(noteFile) says \(id) is empty, but the bundle has entries of it")
            }
            while cursor != Entry.zeroHash {
                guard let member = members[cursor] else {
                    throw .init(
                        "an entry of \(id) is missing from the bundle: the chain breaks after \(count) entries")
                }
                count += 1
                cursor = member.entry.streams[id]!
            }
            guard count == members.count else { throw .init("\(id) has entries off its chain") }
            proven.append(
                "the bundle holds all \(count) entries of \(id) up to tree size \(size) (stream chain and signed stream head)"
            )
        }
        return proven
    }

    /// A period's entries are a contiguous seq range, bound by the prev chain to its neighbours, whose
    /// times fall inside the period while the neighbours' fall outside.
    func checkPeriod(
        _ bundle: Authenticated, _ scope: JSONValue, _ entries: Exhibits
    ) throws(BundleVerificationError) -> String {
        let (manifest, size, exhibits, bySeq) = (bundle.manifest, bundle.size, entries.list, entries.bySeq)
        let range = try object(manifest, "range")
        let first = try number(range, "first"), count = try number(range, "count")
        let inside = exhibits.filter { $0.role == EvidenceBundle.Role.scope.rawValue }.map(\.seq)
        // Compared without building the range: `count` comes from the manifest.
        guard UInt64(inside.count) == count,
            inside.enumerated().allSatisfy({ $0.element == first + UInt64($0.offset) })
        else {
            throw .init(
                "the period's entries are not the contiguous range \(count > 0 ? "\(first)..\(first + count - 1)" : "(empty) at \(first)")"
            )
        }
        let bounds = (first > 0 ? [first - 1] : []) + inside + (first + count < size ? [first + count] : [])
        for seq in bounds where bySeq[seq] == nil {
            throw .init("entry \(seq), needed to bound the period, is missing")
        }
        for (a, b) in zip(bounds, bounds.dropFirst())
        where exhibits[bySeq[b]!].entry.prev != exhibits[bySeq[a]!].leafHash {
            throw .init("entry \(b) does not follow entry \(a) (prev chain broken)")
        }
        let start = try string(scope, "from"), end = try string(scope, "to")
        let insideSet = Set(inside)
        for seq in bounds {
            let time = exhibits[bySeq[seq]!].entry.time.description
            if insideSet.contains(seq) != (start <= time && time < end) {
                throw .init(
                    "entry \(seq) (appended \(time)) is \(insideSet.contains(seq) ? "outside" : "inside, but not in") the period"
                )
            }
        }
        return
            ("the bundle holds all \(count) entries appended from \(start) to \(end) (contiguous seqs bound by the prev chain)")
    }
}
