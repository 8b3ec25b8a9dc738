/// The generic projection: how many entries per type, per procedure and per party. A pure reducer,
/// so `replay` can rebuild it from the entries alone and compare it with what the store kept.
public struct CountsProjection: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable { case type, procedure, party }

    public private(set) var counts: [Kind: [String: Int]] = [:]

    public init() {}

    public init(rows: [(kind: Kind, key: String, count: Int)]) {
        for row in rows { counts[row.kind, default: [:]][row.key] = row.count }
    }

    public mutating func apply(_ entry: EntryHeader) { apply(type: entry.type, streams: entry.impliedStreams) }

    public mutating func apply(type: String, streams: some Sequence<String>) {
        counts[.type, default: [:]][type, default: 0] += 1
        for stream in streams {
            if stream.hasPrefix("procedure:") {
                counts[.procedure, default: [:]][String(stream.dropFirst(10)), default: 0] += 1
            } else if stream.hasPrefix("party:") {
                counts[.party, default: [:]][String(stream.dropFirst(6)), default: 0] += 1
            }
        }
    }

    public var rows: [(kind: Kind, key: String, count: Int)] {
        Kind.allCases.flatMap { kind in
            (counts[kind] ?? [:]).sorted { $0.key < $1.key }.map { (kind, $0.key, $0.value) }
        }
    }

    /// Differences between this (expected) projection and `stored`, as readable lines.
    public func drift(from stored: CountsProjection) -> [String] {
        var lines: [String] = []
        for kind in Kind.allCases {
            let expected = counts[kind] ?? [:], actual = stored.counts[kind] ?? [:]
            for key in Set(expected.keys).union(actual.keys).sorted() where expected[key] != actual[key] {
                lines.append("\(kind.rawValue) \"\(key)\": replay counts \(expected[key] ?? 0), the store holds \(actual[key] ?? 0)")
            }
        }
        return lines
    }
}
