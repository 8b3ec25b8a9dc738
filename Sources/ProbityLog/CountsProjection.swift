/// The generic projection: how many entries per type, per procedure and per party. A pure reducer,
/// so `replay` can rebuild it from the entries alone and compare it with what the store kept.
public struct CountsProjection: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable { case type, procedure, party }

    /// Entries per type, and per stream id (`procedure:<ref>`, `party:<id>`): kept by stream id so that
    /// counting, which runs on every append and replayed entry, never slices strings.
    public private(set) var typeCounts: [String: Int] = [:]
    public private(set) var streamCounts: [String: Int] = [:]

    public init() {}

    public init(typeCounts: [String: Int], streamCounts: [String: Int]) {
        self.typeCounts = typeCounts
        self.streamCounts = streamCounts
    }

    public mutating func apply(_ entry: EntryHeader) { apply(type: entry.type, streams: entry.impliedStreams) }

    public mutating func apply(type: String, streams: some Sequence<String>) {
        typeCounts[type, default: 0] += 1
        for stream in streams { streamCounts[stream, default: 0] += 1 }
    }

    /// The counts by kind, keyed by type, procedure ref or party id.
    public var counts: [Kind: [String: Int]] {
        var result: [Kind: [String: Int]] = [.type: typeCounts, .procedure: [:], .party: [:]]
        for (stream, n) in streamCounts {
            if stream.hasPrefix("procedure:") {
                result[.procedure]![String(stream.dropFirst(10))] = n
            } else if stream.hasPrefix("party:") {
                result[.party]![String(stream.dropFirst(6))] = n
            }
        }
        return result
    }

    /// Differences between this (expected) projection and `stored`, as readable lines.
    public func drift(from stored: CountsProjection) -> [String] {
        var lines: [String] = []
        let counts = self.counts, storedCounts = stored.counts
        for kind in Kind.allCases {
            let expected = counts[kind] ?? [:], actual = storedCounts[kind] ?? [:]
            for key in Set(expected.keys).union(actual.keys).sorted() where expected[key] != actual[key] {
                lines.append(
                    "\(kind.rawValue) \"\(key)\": replay counts \(expected[key] ?? 0), the store holds \(actual[key] ?? 0)"
                )
            }
        }
        return lines
    }
}
