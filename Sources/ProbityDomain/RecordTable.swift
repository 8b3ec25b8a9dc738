import ProbityLog

/// The records of `DomainState`, stored compactly: a million exchanges must fit in the memory of a small
/// daemon (issue 13: under 150 MB at 1,000,000 events), and a `Record` with its `String`s and arrays
/// costs several hundred bytes. Each record here is one 48-byte row whose strings are ids in a table of
/// interned strings and whose lists lie in one shared pool; fields few records have (thread, reply,
/// reason, answers) sit in a side table, and a record that does not fit a row at all (hundreds of
/// recipients, more than 65,535 distinct kinds or platforms) is kept whole. Reading gives back the
/// `Record` exactly as it was appended.
public struct RecordTable: RandomAccessCollection, Sendable, Equatable {
    /// One record. Strings are `Symbols` ids (0: none); enums are 1 + their index in `allCases` (0: none).
    struct Row: Sendable {
        var seq: UInt64
        var at: Int64
        /// Index in `times` of the log's time (one per batch, shared by its records).
        var loggedAt: UInt32
        var procedure: UInt32
        var from: UInt32
        /// An id in `sourceIDs` (not `symbols`: each is named once).
        var sourceID: UInt32
        /// Where the record's parties, then `to`, then `mentions` start in `lists`.
        var lists: UInt32
        var kind: UInt16
        var sourcePlatform: UInt16
        var partyCount: UInt8
        var toCount: UInt8
        var mentionCount: UInt8
        /// Index in `typeNames`.
        var type: UInt8
        var channel: UInt8
        /// The one of visibility, phase and disclosure kind the record has: `Detail` in the top two bits.
        var detail: UInt8
        var flags: Flags
    }

    struct Flags: OptionSet, Sendable {
        let rawValue: UInt8
        /// The parties are `from`, `to` and `mentions` (an exchange's), so they are not stored twice.
        static let partiesAreCorrespondents = Flags(rawValue: 1)
        /// The record has fields in `extras`.
        static let extra = Flags(rawValue: 2)
        /// The record is kept whole in `unusual`; the row holds only its seq.
        static let unusual = Flags(rawValue: 4)
    }

    enum Detail: UInt8 { case absent, visibility, phase, disclosureKind }

    /// What few records have.
    struct Extra: Sendable {
        var thread: String?
        var replyTo: DomainState.SourceRef?
        var reason: String?
        var answers: [DomainState.SourceRef]
    }

    private var rows: [Row] = []
    private var lists: [UInt32] = []
    private var times: [Int64] = []
    /// By row index.
    private var extras: [UInt32: Extra] = [:]
    private var unusual: [UInt32: DomainState.Record] = [:]
    private var symbols = Symbols()
    /// The source ids of exchanges, stored without an index of their own: the log holds each source once,
    /// so interning them would cost an index slot each and save nothing; `exchanges` finds them.
    private var sourceIDs = Symbols()
    /// 1 + record index of each recorded exchange, by its source (platform and id symbols).
    private var exchanges = OpenIndex()
    /// The types of the records (few: the catalogue's).
    private var typeNames: [String] = []
    private var lastType = 0

    public init() {}

    public var startIndex: Int { 0 }
    public var endIndex: Int { rows.count }

    public subscript(index: Int) -> DomainState.Record {
        let row = rows[index]
        if row.flags.contains(.unusual) { return unusual[UInt32(index)]! }
        return record(row, extra: row.flags.contains(.extra) ? extras[UInt32(index)] : nil)
    }

    public static func == (a: RecordTable, b: RecordTable) -> Bool { a.elementsEqual(b) }

    /// Record `index`'s event type, without building the record (to pick records before reading them).
    func type(at index: Int) -> String {
        let row = rows[index]
        return row.flags.contains(.unusual) ? unusual[UInt32(index)]!.type : typeNames[Int(row.type)]
    }

    /// Record `index`'s seq, without building the record.
    func seq(at index: Int) -> UInt64 { rows[index].seq }

    /// Room for `count` records in all, so that a replay of known size does not grow the rows by copying.
    mutating func reserveCapacity(_ count: Int) { rows.reserveCapacity(count) }

    /// Appends `record`; an exchange becomes the one `exchange(_:)` finds for its source.
    mutating func append(_ record: DomainState.Record) {
        let index = UInt32(rows.count)
        if let row = compactRow(record) {
            rows.append(row)
            if row.flags.contains(.extra) {
                extras[index] = Extra(
                    thread: record.thread, replyTo: record.replyTo, reason: record.reason, answers: record.answers)
            }
        } else {
            rows.append(
                Row(
                    seq: record.seq, at: 0, loggedAt: 0, procedure: 0, from: 0, sourceID: 0, lists: 0, kind: 0,
                    sourcePlatform: 0, partyCount: 0, toCount: 0, mentionCount: 0, type: 0, channel: 0, detail: 0,
                    flags: .unusual))
            unusual[index] = record
        }
        if record.isExchange, let source = record.source { indexExchange(Int(index), source) }
    }

    /// Assigns the record at `index` to `procedure` (`exchange.tagged`).
    mutating func setProcedure(_ procedure: String, at index: Int) {
        if rows[index].flags.contains(.unusual) {
            unusual[UInt32(index)]?.procedure = procedure
        } else {
            rows[index].procedure = symbols.intern(procedure)
        }
    }

    /// The row of `record`, or nil if it does not fit one. Interns its strings.
    private mutating func compactRow(_ record: DomainState.Record) -> Row? {
        let derived = record.isExchange && Self.partiesAreCorrespondents(record)
        var detail: UInt8 = 0, details = 0
        if let v = record.visibility { detail = Detail.visibility.rawValue << 6 | Self.code(v); details += 1 }
        if let p = record.phase { detail = Detail.phase.rawValue << 6 | Self.code(p); details += 1 }
        if let k = record.disclosureKind { detail = Detail.disclosureKind.rawValue << 6 | Self.code(k); details += 1 }
        guard details <= 1, record.to.count <= Int(UInt8.max), record.mentions.count <= Int(UInt8.max),
            derived || record.parties.count <= Int(UInt8.max)
        else { return nil }
        let kind = symbols.intern(record.kind), platform = symbols.intern(record.source?.platform)
        guard kind <= UInt32(UInt16.max), platform <= UInt32(UInt16.max) else { return nil }
        // Records come in runs of one type: the last one found is tried first.
        var typeIndex =
            lastType < typeNames.count && typeNames[lastType] == record.type
            ? lastType : typeNames.firstIndex(of: record.type)
        if typeIndex == nil, typeNames.count < Int(UInt8.max) - 1 {
            typeNames.append(record.type)
            typeIndex = typeNames.count - 1
        }
        guard let typeIndex else { return nil }
        lastType = typeIndex
        if times.last != record.loggedAt.microseconds { times.append(record.loggedAt.microseconds) }
        let start = UInt32(lists.count)
        if !derived { for party in record.parties { lists.append(symbols.intern(party)) } }
        for party in record.to { lists.append(symbols.intern(party)) }
        for party in record.mentions { lists.append(symbols.intern(party)) }
        var flags: Flags = derived ? .partiesAreCorrespondents : []
        if record.thread != nil || record.replyTo != nil || record.reason != nil || !record.answers.isEmpty {
            flags.insert(.extra)
        }
        return Row(
            seq: record.seq, at: record.at.microseconds, loggedAt: UInt32(times.count - 1),
            procedure: symbols.intern(record.procedure), from: symbols.intern(record.from),
            sourceID: record.source.map { sourceIDs.add($0.id) } ?? 0, lists: start, kind: UInt16(kind),
            sourcePlatform: UInt16(platform),
            partyCount: derived ? 0 : UInt8(record.parties.count), toCount: UInt8(record.to.count),
            mentionCount: UInt8(record.mentions.count), type: UInt8(typeIndex), channel: Self.code(record.channel),
            detail: detail, flags: flags)
    }

    /// Whether the parties are `from`, then `to`, then `mentions` (as `DomainState` sets an exchange's).
    private static func partiesAreCorrespondents(_ record: DomainState.Record) -> Bool {
        let offset = record.from == nil ? 0 : 1
        guard record.parties.count == offset + record.to.count + record.mentions.count else { return false }
        if let from = record.from, record.parties[0] != from { return false }
        return record.parties[offset..<(offset + record.to.count)].elementsEqual(record.to)
            && record.parties[(offset + record.to.count)...].elementsEqual(record.mentions)
    }

    /// Calls `body` with record `index`'s source (platform symbol, id bytes), wherever the record keeps it;
    /// nil if it has none.
    private func withSource<T>(_ index: Int, _ body: (UInt32, UnsafeBufferPointer<UInt8>) -> T) -> T? {
        let row = rows[index]
        if row.flags.contains(.unusual) {
            guard var source = unusual[UInt32(index)]?.source else { return nil }
            let platform = symbols.id(of: source.platform) ?? 0
            return source.id.withUTF8 { body(platform, $0) }
        }
        return row.sourceID == 0 ? nil : sourceIDs.withBytes(row.sourceID) { body(UInt32(row.sourcePlatform), $0) }
    }

    /// Whether record `index` is an exchange with source (`platform`, `id`).
    private func hasSource(_ index: Int, platform: UInt32, id: UnsafeBufferPointer<UInt8>) -> Bool {
        withSource(index) { $0 == platform && $1.elementsEqual(id) } ?? false
    }

    /// The hash `exchanges` files record `index` under.
    private func sourceHash(ofRow index: Int) -> Int { withSource(index, Self.sourceHash) ?? 0 }

    /// Makes exchange `index` the one `exchangeIndex` finds for `source`.
    private mutating func indexExchange(_ index: Int, _ source: DomainState.SourceRef) {
        let platform = symbols.intern(source.platform)
        var id = source.id
        id.withUTF8 { id in
            // Taken out while the closures read the rows (one access to self at a time).
            var table = exchanges
            exchanges = OpenIndex()
            table.upsert(
                UInt32(index + 1), hash: Self.sourceHash(platform, id),
                matches: { hasSource(Int($0) - 1, platform: platform, id: id) },
                hashOf: { sourceHash(ofRow: Int($0) - 1) })
            exchanges = table
        }
    }

    /// The index of the last exchange recorded with `source`.
    func exchangeIndex(_ source: DomainState.SourceRef) -> Int? {
        guard let platform = symbols.id(of: source.platform) else { return nil }
        var id = source.id
        return id.withUTF8 { id in
            exchanges.first(hash: Self.sourceHash(platform, id)) { hasSource(Int($0) - 1, platform: platform, id: id) }
        }.map { Int($0) - 1 }
    }

    /// The index of the record of entry `seq` (records are in seq order).
    func index(ofSeq seq: UInt64) -> Int? {
        var low = 0, high = rows.count
        while low < high {
            let mid = (low + high) / 2
            if rows[mid].seq < seq { low = mid + 1 } else { high = mid }
        }
        return low < rows.count && rows[low].seq == seq ? low : nil
    }

    /// Whether record `index` names a party that `matches`, without building the record.
    func names(_ index: Int, where matches: (String) -> Bool) -> Bool {
        let row = rows[index]
        if row.flags.contains(.unusual) { return unusual[UInt32(index)]!.parties.contains(where: matches) }
        let correspondents = row.flags.contains(.partiesAreCorrespondents)
        if correspondents, row.from != 0, matches(symbols.string(row.from)) { return true }
        let count = correspondents ? Int(row.toCount) + Int(row.mentionCount) : Int(row.partyCount)
        let start = Int(row.lists)
        return (start..<(start + count)).contains { matches(symbols.string(lists[$0])) }
    }

    private func record(_ row: Row, extra: Extra?) -> DomainState.Record {
        var record = DomainState.Record(
            seq: row.seq, type: typeNames[Int(row.type)],
            loggedAt: Timestamp(microsecondsSinceEpoch: times[Int(row.loggedAt)]),
            at: Timestamp(microsecondsSinceEpoch: row.at), procedure: symbols.optionalString(row.procedure))
        record.kind = symbols.optionalString(UInt32(row.kind))
        record.from = symbols.optionalString(row.from)
        if row.sourceID != 0 {
            record.source = DomainState.SourceRef(
                platform: symbols.string(UInt32(row.sourcePlatform)), id: sourceIDs.string(row.sourceID))
        }
        record.channel = Self.value(row.channel)
        let code = row.detail & 0x3F
        switch Detail(rawValue: row.detail >> 6) ?? .absent {
        case .visibility: record.visibility = Self.value(code)
        case .phase: record.phase = Self.value(code)
        case .disclosureKind: record.disclosureKind = Self.value(code)
        case .absent: break
        }
        var next = Int(row.lists)
        func take(_ count: UInt8) -> [String] {
            defer { next += Int(count) }
            return lists[next..<(next + Int(count))].map { symbols.string($0) }
        }
        let correspondents = row.flags.contains(.partiesAreCorrespondents)
        if !correspondents { record.parties = take(row.partyCount) }
        record.to = take(row.toCount)
        record.mentions = take(row.mentionCount)
        if correspondents { record.parties = [record.from].compactMap { $0 } + record.to + record.mentions }
        if let extra {
            record.thread = extra.thread
            record.replyTo = extra.replyTo
            record.reason = extra.reason
            record.answers = extra.answers
        }
        return record
    }

    private static func code<E: CaseIterable & Equatable>(_ value: E?) -> UInt8
    where E.AllCases: RandomAccessCollection {
        guard let value, let index = E.allCases.firstIndex(of: value) else { return 0 }
        return UInt8(E.allCases.distance(from: E.allCases.startIndex, to: index) + 1)
    }

    private static func value<E: CaseIterable>(_ code: UInt8) -> E? where E.AllCases: RandomAccessCollection {
        guard code != 0, Int(code) <= E.allCases.count else { return nil }
        return E.allCases[E.allCases.index(E.allCases.startIndex, offsetBy: Int(code) - 1)]
    }

    private static func sourceHash(_ platform: UInt32, _ id: UnsafeBufferPointer<UInt8>) -> Int {
        var hasher = Hasher()
        hasher.combine(platform)
        hasher.combine(bytes: UnsafeRawBufferPointer(id))
        return hasher.finalize()
    }
}

/// Interned strings: each distinct string's UTF-8 bytes stored once in one buffer, named by an id from 1
/// (0 stands for "no string"). No `String` object is kept per symbol, so a million distinct source ids
/// cost their bytes and about 12 bytes each.
struct Symbols: Sendable {
    private var bytes: [UInt8] = []
    /// Symbol `id` spans `ends[id - 2]..<ends[id - 1]` in `bytes` (from 0 for id 1).
    private var ends: [UInt32] = []
    private var index = OpenIndex()

    /// The id of `string` (nil → 0), adding it if new.
    mutating func intern(_ string: String?) -> UInt32 {
        guard var string else { return 0 }
        return string.withUTF8 { utf8 in
            let hash = Self.hash(utf8)
            if let id = index.first(hash: hash, where: { equals($0, utf8) }) { return id }
            let id = add(utf8)
            var index = self.index  // taken out while the closure reads the bytes
            self.index = OpenIndex()
            index.upsert(id, hash: hash, matches: { _ in false }, hashOf: { withBytes($0, Self.hash) })
            self.index = index
            return id
        }
    }

    /// Adds `string` without looking for it or indexing it: for strings known to be new, which
    /// `id(of:)` then does not find.
    mutating func add(_ string: String) -> UInt32 {
        var string = string
        return string.withUTF8 { add($0) }
    }

    private mutating func add(_ utf8: UnsafeBufferPointer<UInt8>) -> UInt32 {
        bytes.append(contentsOf: utf8)
        precondition(bytes.count <= Int(UInt32.max), "stored strings exceed 4 GiB")
        ends.append(UInt32(bytes.count))
        return UInt32(ends.count)
    }

    /// Each string in id order, as the snapshot's strings.
    func encode(into w: inout DomainSnapshot.Writer, flush: (inout DomainSnapshot.Writer) throws -> Void) rethrows {
        w.uint(UInt64(count))
        for id in 0..<UInt32(count) {
            withBytes(id + 1) { w.string(utf8: $0) }
            try flush(&w)
        }
    }

    /// The id of `string`, if it was ever interned.
    func id(of string: String) -> UInt32? {
        var string = string
        return string.withUTF8 { utf8 in index.first(hash: Self.hash(utf8), where: { equals($0, utf8) }) }
    }

    func string(_ id: UInt32) -> String { withBytes(id) { String(decoding: $0, as: UTF8.self) } }

    func optionalString(_ id: UInt32) -> String? { id == 0 ? nil : string(id) }

    var count: Int { ends.count }

    func withBytes<T>(_ id: UInt32, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
        let start = id == 1 ? 0 : Int(ends[Int(id) - 2]), end = Int(ends[Int(id) - 1])
        return bytes.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[start..<end])) }
    }

    private func equals(_ id: UInt32, _ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        withBytes(id) { $0.elementsEqual(utf8) }
    }

    private static func hash(_ utf8: UnsafeBufferPointer<UInt8>) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: UnsafeRawBufferPointer(utf8))
        return hasher.finalize()
    }
}

/// An open-addressing hash set of 32-bit ids (never 0) whose keys live elsewhere: the caller gives each
/// id's hash and says whether a stored id matches. Four bytes a slot, at most half full.
struct OpenIndex: Sendable {
    private var slots = [UInt32](repeating: 0, count: 16)
    private var count = 0

    func first(hash: Int, where matches: (UInt32) -> Bool) -> UInt32? {
        let mask = slots.count - 1
        var i = hash & mask
        while slots[i] != 0 {
            if matches(slots[i]) { return slots[i] }
            i = (i + 1) & mask
        }
        return nil
    }

    /// Puts `id` in the slot of the stored id that `matches`, or in a new one.
    mutating func upsert(_ id: UInt32, hash: Int, matches: (UInt32) -> Bool, hashOf: (UInt32) -> Int) {
        var mask = slots.count - 1
        var i = hash & mask
        while slots[i] != 0 {
            if matches(slots[i]) { slots[i] = id; return }
            i = (i + 1) & mask
        }
        if (count + 1) * 2 > slots.count {
            grow(hashOf)
            mask = slots.count - 1
            i = hash & mask
            while slots[i] != 0 { i = (i + 1) & mask }
        }
        slots[i] = id
        count += 1
    }

    private mutating func grow(_ hashOf: (UInt32) -> Int) {
        let old = slots
        slots = [UInt32](repeating: 0, count: old.count * 2)
        let mask = slots.count - 1
        for id in old where id != 0 {
            var i = hashOf(id) & mask
            while slots[i] != 0 { i = (i + 1) & mask }
            slots[i] = id
        }
    }
}

/// Some records of a `RecordTable` (a procedure's, a party's), each built when it is read: no copy of
/// the records is made to select them.
public struct RecordList: RandomAccessCollection, Sendable {
    let table: RecordTable
    /// Indices in `table`, in seq order.
    let positions: [UInt32]

    public var startIndex: Int { 0 }
    public var endIndex: Int { positions.count }
    public subscript(index: Int) -> DomainState.Record { table[Int(positions[index])] }

    /// Record `index`'s event type, without building the record.
    func type(at index: Int) -> String { table.type(at: Int(positions[index])) }

    /// Record `index`'s seq, without building the record.
    public func seq(at index: Int) -> UInt64 { table.seq(at: Int(positions[index])) }

    /// The index of the first record after entry `seq` (records are in seq order): where a page that
    /// starts after `seq` starts.
    public func index(after seq: UInt64?) -> Int {
        guard let seq else { return 0 }
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if self.seq(at: mid) <= seq { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

// MARK: - Snapshot form

extension RecordTable {
    struct Damaged: Error {}

    /// Writes the table as it is stored (interned strings once, then each row's fields as varints), so
    /// that a snapshot costs a few dozen bytes a record and is read back without building any `Record`.
    func encode(into w: inout DomainSnapshot.Writer, flush: (inout DomainSnapshot.Writer) throws -> Void) rethrows {
        w.array(typeNames) { $0.string($1) }
        try symbols.encode(into: &w, flush: flush)
        try sourceIDs.encode(into: &w, flush: flush)
        // Cut anywhere but inside a string (the reader moves to the next piece byte by byte).
        w.uint(UInt64(lists.count))
        for (i, id) in lists.enumerated() {
            w.uint(UInt64(id))
            if i % 4096 == 4095 { try flush(&w) }
        }
        w.array(times) { $0.int($1) }
        try flush(&w)
        w.array(extras.sorted { $0.key < $1.key }) { w, e in
            w.uint(UInt64(e.key))
            w.optional(e.value.thread) { $0.string($1) }; w.optional(e.value.replyTo) { $0.source($1) }
            w.optional(e.value.reason) { $0.string($1) }; w.array(e.value.answers) { $0.source($1) }
        }
        w.array(unusual.sorted { $0.key < $1.key }) { w, u in
            w.uint(UInt64(u.key)); w.record(u.value)
        }
        w.uint(UInt64(rows.count))
        var seq: UInt64 = 0
        for row in rows {
            w.uint(row.seq &- seq); w.int(row.at)
            seq = row.seq
            for value in [
                row.loggedAt, row.procedure, row.from, row.sourceID, UInt32(row.kind), UInt32(row.sourcePlatform),
            ] {
                w.uint(UInt64(value))
            }
            w.bytes += [
                row.partyCount, row.toCount, row.mentionCount, row.type, row.channel, row.detail, row.flags.rawValue,
            ]
            try flush(&w)
        }
    }

    /// Reads what `encode` wrote, checking every id, code and count against what it names: a damaged
    /// snapshot throws (and is then replayed), it never yields a table that traps when read.
    static func decode(from r: inout DomainSnapshot.Reader) throws -> RecordTable {
        var table = RecordTable()
        table.typeNames = try r.array { try $0.string() }
        guard table.typeNames.count < Int(UInt8.max) else { throw Damaged() }
        try r.each { r in
            let expected = UInt32(table.symbols.count + 1)
            guard try table.symbols.intern(r.string()) == expected else { throw Damaged() }
        }
        try r.each { r in _ = table.sourceIDs.add(try r.string()) }
        let symbolCount = UInt64(table.symbols.count)
        func id(_ r: inout DomainSnapshot.Reader, below limit: UInt64) throws -> UInt32 {
            let value = try r.uint()
            guard value <= limit else { throw Damaged() }
            return UInt32(value)
        }
        table.lists = try r.array { r in
            let value = try id(&r, below: symbolCount)
            guard value != 0 else { throw Damaged() }
            return value
        }
        table.times = try r.array { try $0.int() }
        try r.each { r in
            let index = try id(&r, below: UInt64(UInt32.max))
            table.extras[index] = Extra(
                thread: try r.optional { try $0.string() }, replyTo: try r.optional { try $0.source() },
                reason: try r.optional { try $0.string() }, answers: try r.array { try $0.source() })
        }
        try r.each { r in table.unusual[try id(&r, below: UInt64(UInt32.max))] = try r.record() }
        var seq: UInt64 = 0, listEnd = 0
        try r.each { r in
            let seqDelta = try r.uint(), at = try r.int()
            guard seqDelta > 0 || table.rows.isEmpty else { throw Damaged() }
            let (nextSeq, overflow) = seq.addingReportingOverflow(seqDelta)
            guard !overflow else { throw Damaged() }
            seq = nextSeq
            let loggedAt = try id(&r, below: UInt64(Swift.max(table.times.count, 1) - 1))
            let procedure = try id(&r, below: symbolCount), from = try id(&r, below: symbolCount)
            let sourceID = try id(&r, below: UInt64(table.sourceIDs.count))
            let kind = try id(&r, below: Swift.min(symbolCount, UInt64(UInt16.max)))
            let platform = try id(&r, below: Swift.min(symbolCount, UInt64(UInt16.max)))
            let bytes = try (0..<7).map { _ in try r.byte() }
            let flags = Flags(rawValue: bytes[6])
            let index = UInt32(table.rows.count)
            guard flags.contains(.unusual) == (table.unusual[index] != nil),
                flags.contains(.extra) == (table.extras[index] != nil),
                flags.contains(.unusual) || (Int(bytes[3]) < table.typeNames.count && !table.times.isEmpty)
            else { throw Damaged() }
            let start = listEnd
            listEnd += Int(bytes[0]) + Int(bytes[1]) + Int(bytes[2])
            guard listEnd <= table.lists.count else { throw Damaged() }
            table.rows.append(
                Row(
                    seq: seq, at: at, loggedAt: loggedAt, procedure: procedure, from: from, sourceID: sourceID,
                    lists: UInt32(start), kind: UInt16(kind), sourcePlatform: UInt16(platform), partyCount: bytes[0],
                    toCount: bytes[1], mentionCount: bytes[2], type: bytes[3], channel: bytes[4], detail: bytes[5],
                    flags: flags))
        }
        guard listEnd == table.lists.count, table.extras.keys.allSatisfy({ Int($0) < table.rows.count }),
            table.unusual.keys.allSatisfy({ Int($0) < table.rows.count })
        else { throw Damaged() }
        for index in table.rows.indices {
            let record = table[index]
            if record.isExchange, let source = record.source { table.indexExchange(index, source) }
        }
        return table
    }
}
