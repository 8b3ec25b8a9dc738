import ProbityLog

/// A compact binary form of `DomainState`, for the snapshot `probity replay` saves: a million records
/// encode and decode in a fraction of the time Foundation's JSON coders take. Not a wire format: it
/// is a cache of what the entries say, tagged with a version, and ignored (replayed) when it does not fit.
public enum DomainSnapshot {
    static let magic: [UInt8] = Array("probity-domain/3\n".utf8)

    public static func encode(_ state: DomainState) -> [UInt8] {
        var all: [UInt8] = []
        encode(state, chunkSize: .max) { all += $0 }
        return all
    }

    /// Hands the snapshot to `sink` in pieces of about `chunkSize` bytes, so that it is never whole in
    /// memory beside the state (at a million records it is tens of megabytes).
    public static func encode(_ state: DomainState, chunkSize: Int, _ sink: ([UInt8]) throws -> Void) rethrows {
        var w = Writer()
        w.bytes = magic
        w.optional(state.lastSeq) { $0.uint($1) }
        w.array(state.parties.values.sorted { $0.id < $1.id }) { w, p in
            w.string(p.id); w.string(p.role.rawValue); w.optional(p.org) { $0.string($1) };
            w.optional(p.timeZone) { $0.string($1) }; w.uint(p.seq)
        }
        w.array(state.procedures.values.sorted { $0.ref < $1.ref }) { w, p in
            w.string(p.ref); w.string(p.kind.rawValue); w.string(p.buyer); w.uint(p.openedSeq)
            for t in [p.publishedAt, p.questionsDeadline, p.tenderDeadline, p.standstillEnd] {
                w.optional(t) { $0.time($1) }
            }
            w.bool(p.urgency); w.optional(p.sourcing) { $0.string($1) }
            w.array(p.phases) { w, c in
                w.string(c.phase.rawValue); w.time(c.at); w.uint(c.seq); w.optional(c.awardee) { $0.string($1) }
            }
            w.array(p.candidates) { w, c in
                w.string(c.party); w.time(c.at); w.uint(c.seq)
            }
            w.array(p.dateChanges) { w, c in
                w.uint(c.seq); w.string(c.field); w.optional(c.from) { $0.time($1) }; w.time(c.to); w.string(c.reason)
            }
            w.array(p.records) { $0.uint(UInt64($1)) }
        }
        try state.records.encode(into: &w) { w in
            guard w.bytes.count >= chunkSize else { return }
            try sink(w.bytes)
            w.bytes.removeAll(keepingCapacity: true)
        }
        w.array(state.redactions.sorted { $0.key < $1.key }) { w, r in
            w.uint(r.key); w.uint(r.value)
        }
        w.array(state.holds.values.sorted { $0.id < $1.id }) { w, h in
            w.string(h.id); w.optional(h.procedure) { $0.string($1) }; w.optional(h.party) { $0.string($1) };
            w.string(h.reason)
            w.uint(h.placedSeq); w.optional(h.releasedSeq) { $0.uint($1) }
        }
        try sink(w.bytes)
    }

    /// The state, or nil if `bytes` are not a snapshot of this version.
    public static func decode(_ bytes: [UInt8]) -> DomainState? {
        var given = false
        return decode {
            defer { given = true }
            return given ? nil : bytes
        }
    }

    /// The state, or nil if the pieces `nextPiece` hands over in order (nil after the last) are not a
    /// snapshot of this version. Each piece is dropped once read, so the snapshot is never whole in memory.
    /// A piece may end anywhere but inside a string (`encode` cuts only where that holds).
    public static func decode(pieces nextPiece: () -> [UInt8]?) -> DomainState? {
        withoutActuallyEscaping(nextPiece) { nextPiece in
            guard let first = nextPiece(), first.starts(with: magic) else { return nil }
            var r = Reader(bytes: first, index: magic.count, nextPiece: nextPiece)
            return decode(&r)
        }
    }

    private static func decode(_ r: inout Reader) -> DomainState? {
        do {
            var state = DomainState()
            let lastSeq = try r.optional { try $0.uint() }
            var parties: [String: DomainState.Party] = [:]
            for party in try r.array({ r in
                DomainState.Party(
                    id: try r.string(), role: try r.enumeration(), org: try r.optional { try $0.string() },
                    timeZone: try r.optional { try $0.string() }, seq: try r.uint())
            }) { parties[party.id] = party }
            var procedures: [String: DomainState.Procedure] = [:]
            for p in try r.array({ r -> DomainState.Procedure in
                var p = DomainState.Procedure(
                    ref: try r.string(), kind: try r.enumeration(), buyer: try r.string(), openedSeq: try r.uint(),
                    publishedAt: try r.optional { try $0.time() }, questionsDeadline: try r.optional { try $0.time() },
                    tenderDeadline: try r.optional { try $0.time() }, standstillEnd: try r.optional { try $0.time() },
                    urgency: try r.bool(), sourcing: try r.optional { try $0.string() })
                p.phases = try r.array { r in
                    DomainState.PhaseChange(
                        phase: try r.enumeration(), at: try r.time(), seq: try r.uint(),
                        awardee: try r.optional { try $0.string() })
                }
                p.candidates = try r.array { r in
                    DomainState.Candidate(party: try r.string(), at: try r.time(), seq: try r.uint())
                }
                p.dateChanges = try r.array { r in
                    DomainState.DateChange(
                        seq: try r.uint(), field: try r.string(), from: try r.optional { try $0.time() },
                        to: try r.time(), reason: try r.string())
                }
                p.records = try r.array { r in
                    let index = try r.uint()
                    guard index < UInt64(UInt32.max) else { throw Truncated() }
                    return UInt32(index)
                }
                return p
            }) { procedures[p.ref] = p }
            let records = try RecordTable.decode(from: &r)
            var redactions: [UInt64: UInt64] = [:]
            for (target, by) in try r.array({ (try $0.uint(), try $0.uint()) }) { redactions[target] = by }
            var holds: [String: DomainState.Hold] = [:]
            for hold in try r.array({ r in
                DomainState.Hold(
                    id: try r.string(), procedure: try r.optional { try $0.string() },
                    party: try r.optional { try $0.string() },
                    reason: try r.string(), placedSeq: try r.uint(), releasedSeq: try r.optional { try $0.uint() })
            }) { holds[hold.id] = hold }
            guard r.isAtEnd,
                procedures.values.allSatisfy({ $0.records.allSatisfy { Int($0) < records.count } })
            else { return nil }
            state.restore(
                lastSeq: lastSeq, parties: parties, procedures: procedures, records: records, redactions: redactions,
                holds: holds)
            return state
        } catch {
            return nil
        }
    }

    struct Writer {
        var bytes: [UInt8] = []

        mutating func uint(_ v: UInt64) {
            var v = v
            while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
            bytes.append(UInt8(v))
        }
        /// A signed value, zigzag-encoded so that small negative numbers stay short.
        mutating func int(_ v: Int64) { uint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }
        mutating func bool(_ v: Bool) { bytes.append(v ? 1 : 0) }
        mutating func time(_ t: Timestamp) { uint(UInt64(bitPattern: t.microseconds)) }
        mutating func string(_ s: String) {
            var s = s
            s.withUTF8 { string(utf8: $0) }
        }
        mutating func string(utf8: UnsafeBufferPointer<UInt8>) {
            uint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
        mutating func source(_ s: DomainState.SourceRef) { string(s.platform); string(s.id) }
        /// A record whole, field by field (for the few a `RecordTable` row cannot hold).
        mutating func record(_ r: DomainState.Record) {
            uint(r.seq); string(r.type); time(r.loggedAt); time(r.at); optional(r.procedure) { $0.string($1) }
            array(r.parties) { $0.string($1) }
            optional(r.channel) { $0.string($1.rawValue) }; optional(r.kind) { $0.string($1) }
            optional(r.visibility) { $0.string($1.rawValue) }
            optional(r.from) { $0.string($1) }; array(r.to) { $0.string($1) }; array(r.mentions) { $0.string($1) }
            optional(r.thread) { $0.string($1) }; optional(r.source) { $0.source($1) }
            optional(r.replyTo) { $0.source($1) }
            optional(r.phase) { $0.string($1.rawValue) }; optional(r.reason) { $0.string($1) }
            array(r.answers) { $0.source($1) }; optional(r.disclosureKind) { $0.string($1.rawValue) }
        }
        mutating func optional<T>(_ v: T?, _ write: (inout Writer, T) -> Void) {
            guard let v else { bytes.append(0); return }
            bytes.append(1)
            write(&self, v)
        }
        mutating func array<C: Collection>(_ items: C, _ write: (inout Writer, C.Element) -> Void) {
            uint(UInt64(items.count))
            for item in items { write(&self, item) }
        }
    }

    struct Truncated: Error {}

    struct Reader {
        private(set) var bytes: [UInt8]
        var index: Int
        /// The next piece of a snapshot kept in pieces, when `bytes` is used up (nil: no more).
        private let nextPiece: (() -> [UInt8]?)?

        init(bytes: [UInt8], index: Int, nextPiece: (() -> [UInt8]?)? = nil) {
            self.bytes = bytes
            self.index = index
            self.nextPiece = nextPiece
        }

        /// Moves to the next non-empty piece if this one is used up; false if there is none.
        private mutating func available() -> Bool {
            while index == bytes.count {
                guard let next = nextPiece?() else { return false }
                bytes = next
                index = 0
            }
            return true
        }

        /// Whether every byte of every piece has been read.
        var isAtEnd: Bool {
            mutating get { !available() }
        }

        mutating func byte() throws -> UInt8 {
            guard available(), index < bytes.count else { throw Truncated() }
            defer { index += 1 }
            return bytes[index]
        }
        mutating func uint() throws -> UInt64 {
            var v: UInt64 = 0, shift: UInt64 = 0
            while true {
                let b = try byte()
                guard shift < 64 else { throw Truncated() }
                v |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return v }
                shift += 7
            }
        }
        mutating func int() throws -> Int64 {
            let v = try uint()
            return Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)
        }
        mutating func bool() throws -> Bool { try byte() == 1 }
        mutating func time() throws -> Timestamp { Timestamp(microsecondsSinceEpoch: Int64(bitPattern: try uint())) }
        mutating func string() throws -> String {
            let n = Int(try uint())
            guard n <= bytes.count - index else { throw Truncated() }
            defer { index += n }
            return bytes[index..<(index + n)].withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
        }
        mutating func enumeration<E: RawRepresentable>() throws -> E where E.RawValue == String {
            guard let value = E(rawValue: try string()) else { throw Truncated() }
            return value
        }
        mutating func source() throws -> DomainState.SourceRef {
            DomainState.SourceRef(platform: try string(), id: try string())
        }
        mutating func record() throws -> DomainState.Record {
            var record = DomainState.Record(
                seq: try uint(), type: try string(), loggedAt: try time(), at: try time(),
                procedure: try optional { try $0.string() })
            record.parties = try array { try $0.string() }
            record.channel = try optional { try $0.enumeration() }
            record.kind = try optional { try $0.string() }
            record.visibility = try optional { try $0.enumeration() }
            record.from = try optional { try $0.string() }
            record.to = try array { try $0.string() }
            record.mentions = try array { try $0.string() }
            record.thread = try optional { try $0.string() }
            record.source = try optional { try $0.source() }
            record.replyTo = try optional { try $0.source() }
            record.phase = try optional { try $0.enumeration() }
            record.reason = try optional { try $0.string() }
            record.answers = try array { try $0.source() }
            record.disclosureKind = try optional { try $0.enumeration() }
            return record
        }
        mutating func optional<T>(_ read: (inout Reader) throws -> T) throws -> T? {
            try byte() == 1 ? try read(&self) : nil
        }
        mutating func array<T>(_ read: (inout Reader) throws -> T) throws -> [T] {
            var items: [T] = []
            try each { items.append(try read(&$0)) }
            return items
        }
        /// Reads an array's items one by one, without collecting them.
        /// (A damaged count cannot run for long: every item reads at least one byte, and the bytes end.)
        mutating func each(_ read: (inout Reader) throws -> Void) throws {
            let n = try uint()
            var done: UInt64 = 0
            while done < n {
                try read(&self)
                done += 1
            }
        }
    }
}
