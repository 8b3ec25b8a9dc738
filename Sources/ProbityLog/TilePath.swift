/// A resource of the C2SP tlog-tiles read API (https://c2sp.org/tlog-tiles), as its path below the log's
/// prefix: `checkpoint`, `tile/<L>/<N>[.p/<W>]` (hashes) or `tile/entries/<N>[.p/<W>]` (an entry bundle).
/// Parsing is strict (no leading zeros, `x` on every index group but the last, W in 1…255), so that one
/// resource has exactly one path, the one a static file tree holds.
public enum TilePath: Equatable, Sendable, CustomStringConvertible {
    case checkpoint
    /// Hash tile `index` of tile level `level`; `width` nil for a full tile.
    case hashes(level: Int, index: UInt64, width: Int?)
    /// The entries under leaf tile `index`; `width` nil for a full bundle.
    case entries(index: UInt64, width: Int?)

    /// Tile levels a tree of at most 2^63 leaves can have (8 bits each): 0…7.
    public static let maxLevel = 7

    public var description: String {
        switch self {
        case .checkpoint: "checkpoint"
        case .hashes(let level, let index, let width): "tile/\(level)/" + Self.indexPath(index) + Self.suffix(width)
        case .entries(let index, let width): "tile/entries/" + Self.indexPath(index) + Self.suffix(width)
        }
    }

    /// `1234067` → `x001/x234/067`.
    public static func indexPath(_ index: UInt64) -> String {
        var groups: [String] = []
        var rest = index
        repeat {
            let group = String(rest % 1000)
            groups.append(String(repeating: "0", count: 3 - group.count) + group)
            rest /= 1000
        } while rest > 0
        return groups.reversed().enumerated().map { $0.offset == groups.count - 1 ? $0.element : "x" + $0.element }
            .joined(separator: "/")
    }

    private static func suffix(_ width: Int?) -> String { width.map { ".p/\($0)" } ?? "" }

    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public let message: String
        public var description: String { message }
        init(_ message: String) { self.message = message }
    }

    /// Parses a path below the prefix (no leading slash).
    public init(parsing path: Substring) throws(Invalid) {
        if path == "checkpoint" {
            self = .checkpoint
            return
        }
        var parts = path.split(separator: "/", omittingEmptySubsequences: false)[...]
        guard parts.first == "tile", parts.count >= 3 else {
            throw Invalid("\"\(path)\" is not a tlog-tiles path (checkpoint, tile/<L>/<N>, tile/entries/<N>)")
        }
        parts.removeFirst()
        let kind = parts.removeFirst()
        var width: Int?
        if parts.count >= 2, parts[parts.endIndex - 2].hasSuffix(".p") {
            let text = parts.removeLast()
            guard let w = Self.decimal(text), (1...255).contains(w) else {
                throw Invalid("the width in \"\(path)\" must be 1…255 without leading zeros, got \"\(text)\"")
            }
            width = w
            let last = parts.removeLast()
            parts.append(last.dropLast(2))
        }
        let index = try Self.index(parts, in: path)
        if kind == "entries" {
            self = .entries(index: index, width: width)
        } else {
            guard let level = Self.decimal(kind), level <= Self.maxLevel else {
                throw Invalid(
                    "the level in \"\(path)\" must be 0…\(Self.maxLevel) without leading zeros, got \"\(kind)\"")
            }
            self = .hashes(level: Int(level), index: index, width: width)
        }
    }

    private static func index(_ groups: ArraySlice<Substring>, in path: Substring) throws(Invalid) -> UInt64 {
        guard !groups.isEmpty, groups.count <= 7 else { throw Invalid("\"\(path)\" has no valid tile index") }
        var index: UInt64 = 0
        for (position, group) in groups.enumerated() {
            let last = position == groups.count - 1
            let digits = last ? group : group.dropFirst()
            guard last || group.first == "x", digits.count == 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
                let value = UInt64(digits)
            else {
                throw Invalid(
                    "the tile index in \"\(path)\" must be groups of three digits, each but the last prefixed with x (x001/x234/067)"
                )
            }
            let (scaled, overflow) = index.multipliedReportingOverflow(by: 1000)
            guard !overflow, scaled <= UInt64.max - value else {
                throw Invalid("the tile index in \"\(path)\" is too large")
            }
            index = scaled + value
        }
        // One index, one path: x000/001 would also read as 1.
        guard groups.count == 1 || groups.first != "x000" else {
            throw Invalid("the tile index in \"\(path)\" has a leading zero group")
        }
        return index
    }

    private static func decimal(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 3, text.allSatisfy({ $0.isASCII && $0.isNumber }),
            text == "0" || text.first != "0"
        else { return nil }
        return Int(text)
    }
}

/// Entry bundles (C2SP tlog-tiles): the entries of one leaf tile, each as a big-endian uint16 length then
/// its bytes.
public enum EntryBundle {
    /// The largest entry a bundle can carry.
    public static let maxEntryBytes = Int(UInt16.max)

    public struct TooLarge: Error, CustomStringConvertible, Equatable {
        public let seq: UInt64
        public let count: Int
        public var description: String {
            "entry \(seq) is \(count) bytes, more than an entry bundle can carry (\(EntryBundle.maxEntryBytes))"
        }
    }

    /// Appends `entry` (entry `seq` of the log) to `bundle`.
    public static func append(_ entry: [UInt8], seq: UInt64, to bundle: inout [UInt8]) throws(TooLarge) {
        guard entry.count <= maxEntryBytes else { throw TooLarge(seq: seq, count: entry.count) }
        bundle.append(UInt8(entry.count >> 8))
        bundle.append(UInt8(entry.count & 0xFF))
        bundle.append(contentsOf: entry)
    }

    /// The entries of `bundle`, or nil if it is not a sequence of length-prefixed entries.
    public static func entries(_ bundle: [UInt8]) -> [ArraySlice<UInt8>]? {
        var entries: [ArraySlice<UInt8>] = []
        var at = bundle.startIndex
        while at < bundle.endIndex {
            guard bundle.endIndex - at >= 2 else { return nil }
            let count = Int(bundle[at]) << 8 | Int(bundle[at + 1])
            at += 2
            guard bundle.endIndex - at >= count else { return nil }
            entries.append(bundle[at..<at + count])
            at += count
        }
        return entries
    }
}
