import FuzzSupport
import ProbityDomain
import ProbityLog

/// Event validation: an appended line (JSON, exact numbers) through the catalogue's schemas, the stream rule
/// and the entry encoder. Invariants: an accepted event encodes to a canonical entry that `Entry` and
/// `EntryHeader` read back with the same type and streams.
enum Target {
    static func run(_ bytes: [UInt8]) {
        guard let value = try? JSONParser.parse(bytes, numbers: .exact), let event = try? EventInput(json: value) else {
            return
        }
        let streams = event.streams.map { ($0, Entry.zeroHash) }
        let entry = Entry.encode(
            log: "fuzz.example/log", seq: 7, prev: Entry.zeroHash, time: Array("2026-03-01T00:00:00.000000Z".utf8),
            type: event.type, by: "fuzz", data: event.dataBytes, payload: nil, streams: streams)
        Fuzz.check(CanonicalJSON.isCanonical(entry), "an accepted event encodes to a non-canonical entry")
        let header = try? EntryHeader(bytes: entry)
        Fuzz.check(header?.type == event.type, "the entry does not read back")
        Fuzz.check(
            Set(header?.streams.map(\.id) ?? []) == Set(event.streams), "the entry's streams differ from the event's")
        for stream in event.streams {
            Fuzz.check(Identifier.isValidStream(stream), "an accepted event makes the stream \(stream)")
        }
    }
}

@main struct Main {
    static func main() { Fuzz.main(Target.run) }
}
