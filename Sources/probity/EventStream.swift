import Foundation
import ProbityDomain
import ProbityLog
import ProbityStore

/// The events of an input file, handed over in chunks as they are parsed, so that memory stays flat
/// whatever the file's size. JSONL is read block by block and each block's lines are parsed on every core
/// while the caller works on the previous chunk; the other forms (one event, an array, {"events": [...]})
/// are read whole, as they must be to be parsed at all.
final class EventStream {
    /// Parsed events, and where each was in the input (for messages about them).
    struct Chunk {
        let events: [EventInput]
        let place: (Int) -> String
    }

    /// Lines per parsed chunk: enough to keep both cores busy, few enough to keep memory small.
    static let chunkLines = 4_096
    static let blockBytes = 4 << 20

    let name: String
    private let file: FileHandle
    private let totalBytes: UInt64?
    private(set) var bytesRead: UInt64 = 0
    /// Read but not yet split into lines (the start of an unfinished line).
    private var carry: [UInt8] = []
    private var atEnd = false
    private var nextLine = 1
    /// Whole-document input, parsed at once and handed over in chunks.
    private var whole: (events: [EventInput], places: [String], offset: Int)?
    /// The chunks being parsed in the background, oldest first, with the line number of each event.
    /// Several run ahead of the caller, so that a core the caller leaves idle always has lines to parse.
    private var pending: [(parsed: ParallelChunk<Result<EventInput, CLIError>>, lines: [Int])] = []
    static let chunksAhead = 3

    /// Opens `path` (`-`: standard input) and reads enough to tell JSONL from a whole JSON document.
    init(path: String) throws {
        name = path == "-" ? "standard input" : path
        if path == "-" {
            file = FileHandle.standardInput
            totalBytes = nil
        } else {
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw CLIError.usage("cannot read the events file \(path): no such file or not readable")
            }
            file = handle
            totalBytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64) ?? nil
        }
        try fill()
        if !isJSONL() {
            while !atEnd { try fill() }
            let parsed = try EventFile.parseWithPlaces(carry, name: name)
            carry = []
            whole = (parsed.events, parsed.places, 0)
        } else {
            topUp()
        }
    }

    /// The fraction of the input read so far, for a progress bar (nil for standard input).
    var progress: (done: UInt64, total: UInt64)? { totalBytes.map { (bytesRead, $0) } }

    /// A chunk read ahead by `hasEvents`, handed over first by `next`.
    private var peeked: Chunk?

    /// Whether the input holds an event at all (reads its first chunk, which `next` then returns), so a
    /// command can refuse an empty input before it opens the store.
    func hasEvents() throws -> Bool {
        if peeked == nil { peeked = try readChunk() }
        return peeked != nil
    }

    /// The next chunk of events, or nil at the end of the input. Throws at the first bad line.
    func next() throws -> Chunk? {
        if let chunk = peeked {
            peeked = nil
            return chunk
        }
        return try readChunk()
    }

    private func readChunk() throws -> Chunk? {
        if let document = whole {
            guard document.offset < document.events.count else { return nil }
            let end = min(document.events.count, document.offset + Self.chunkLines)
            whole!.offset = end
            let places = Array(document.places[document.offset..<end])
            return Chunk(events: Array(document.events[document.offset..<end]), place: { places[$0] })
        }
        guard !pending.isEmpty else { return nil }
        let (parsed, lines) = pending.removeFirst()
        parsed.wait()
        var events: [EventInput] = []
        events.reserveCapacity(parsed.count)
        for i in 0..<parsed.count { events.append(try parsed[i].get()) }
        topUp()  // the next chunks parse while the caller works on this one
        let name = self.name
        return Chunk(events: events, place: { "\(name), line \(lines[$0])" })
    }

    /// Reads one more block into `carry`.
    private func fill() throws {
        guard !atEnd else { return }
        let block: Data
        do { block = try file.read(upToCount: Self.blockBytes) ?? Data() } catch {
            throw CLIError.usage("cannot read \(name): \(error)")
        }
        if block.isEmpty { atEnd = true; return }
        bytesRead += UInt64(block.count)
        carry.append(contentsOf: block)
    }

    /// JSONL when the first non-blank line is a complete JSON object on its own (and not the
    /// {"events": [...]} form); a pretty-printed document's first line is not.
    private func isJSONL() -> Bool {
        var start = 0
        while true {
            while start < carry.count, Self.isBlank(carry[start]) || carry[start] == 0x0A { start += 1 }
            guard start < carry.count else { return false }
            let end = carry[start...].firstIndex(of: 0x0A) ?? carry.count
            guard end < carry.count || atEnd else {
                // The first line is longer than a block: read on (a whole document on one line).
                do { try fill() } catch { return false }
                continue
            }
            guard let value = try? JSONParser.parse(carry[start..<end], numbers: .exact),
                case .object(let members) = value
            else { return false }
            return members.keys.sorted() != ["events"]
        }
    }

    private func topUp() {
        while pending.count < Self.chunksAhead, startParsing() {}
    }

    /// Splits the next lines off `carry` (reading blocks as needed) and starts parsing them on every core;
    /// false at the end of the input.
    private func startParsing() -> Bool {
        var lines: [ArraySlice<UInt8>] = []
        var numbers: [Int] = []
        var start = 0
        while lines.count < Self.chunkLines {
            guard let newline = newline(from: start) else {
                guard !atEnd else {
                    if start < carry.count { append(carry[start...], &lines, &numbers) }
                    start = carry.count
                    break
                }
                carry.removeFirst(start)
                start = 0
                do { try fill() } catch {
                    // A read error ends the input: the caller meets it after the chunks before it.
                    let failure = error as? CLIError ?? .usage("\(error)")
                    pending.append((ParallelChunk(count: 1) { _ in .failure(failure) }, [nextLine]))
                    atEnd = true
                    carry = []
                    return false
                }
                continue
            }
            append(carry[start..<newline], &lines, &numbers)
            start = newline + 1
        }
        carry.removeFirst(start)
        guard !lines.isEmpty else { return false }
        let name = self.name
        let parse = ParallelChunk(count: lines.count) { [lines, numbers] i in
            Self.parse(lines[i], line: numbers[i], name: name)
        }
        pending.append((parse, numbers))
        return true
    }

    /// Where the next line feed in `carry` is, from `start` on (memchr: the writer waits on this thread).
    private func newline(from start: Int) -> Int? {
        carry.withUnsafeBufferPointer { buffer in
            guard start < buffer.count, let base = buffer.baseAddress,
                let found = memchr(base + start, 0x0A, buffer.count - start)
            else { return nil }
            return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// Counts a line; keeps it unless it is blank.
    private func append(_ line: ArraySlice<UInt8>, _ lines: inout [ArraySlice<UInt8>], _ numbers: inout [Int]) {
        defer { nextLine += 1 }
        guard !line.allSatisfy({ Self.isBlank($0) }) else { return }
        lines.append(line)
        numbers.append(nextLine)
    }

    private static func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D }

    private static func parse(_ line: ArraySlice<UInt8>, line number: Int, name: String) -> Result<EventInput, CLIError>
    {
        let value: JSONValue
        do { value = try JSONParser.parse(line, numbers: .exact) } catch {
            return .failure(
                .usage("\(name), line \(number): invalid JSON at column \(error.column): \(error.message)"))
        }
        do { return .success(try EventInput(json: value)) } catch {
            return .failure(.usage("\(name), line \(number): \(error)"))
        }
    }
}
