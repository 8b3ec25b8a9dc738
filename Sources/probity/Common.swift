import ArgumentParser
import Foundation
import ProbityDomain
import ProbityLog
import ProbityPostgres
import ProbityStore
import ProbityWire

/// An error the CLI reports and exits on: 1 for integrity failures, 2 for usage and I/O errors.
struct CLIError: Error {
    let message: String
    let exitCode: Int32
    static func usage(_ message: String) -> CLIError { CLIError(message: message, exitCode: 2) }
    static func integrity(_ message: String) -> CLIError { CLIError(message: message, exitCode: 1) }
}

/// Runs `body`, turning library errors into CLI errors (exit 2) with their own messages.
func reporting<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as CLIError { throw error } catch let error as ExitCode {
        throw error
    } catch {
        throw CLIError.usage("\(error)")
    }
}

struct StoreOption: ParsableArguments {
    @Option(
        name: [.long, .customLong("store")],
        help: ArgumentHelp(
            "Path of the SQLite store (or, where a command says so, a postgres:// URL).", valueName: "PATH"))
    var db: String
}

struct JSONFlag: ParsableArguments {
    @Flag(name: .long, help: "Print machine-readable JSON.")
    var json = false
}

enum Output {
    static func line(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }
    static func raw(_ text: String) { FileHandle.standardOutput.write(Data(text.utf8)) }
    static func json(_ value: JSONValue) { line(CanonicalJSON.encodeString(value)) }
    static func info(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }
}

/// One line of canonical JSON on standard output, written as it is made (in pieces of about a mebibyte)
/// for answers too large to build first: a procedure's coverage may hold a million questions. The bytes
/// are those `CanonicalJSON` would give the whole value: members in RFC 8785 key order
/// (`CanonicalJSON.precedes`), small members encoded whole, large arrays element by element.
final class StreamedJSON {
    /// An array member written element by element: `write` calls `element` or `object` once per element.
    typealias ArrayContent = (StreamedJSON) -> Void

    private var buffer: [UInt8] = []
    /// Per open array: whether its next element is its first (no comma before it).
    private var firstElement: [Bool] = []

    /// Writes `{…}`: `members` and, under their keys, the arrays `arrays` writes.
    func object(_ members: [String: JSONValue], arrays: [String: ArrayContent] = [:]) {
        startElement()
        write([UInt8(ascii: "{")])
        let keys = Set(members.keys).union(arrays.keys).sorted(by: CanonicalJSON.precedes)
        for (index, key) in keys.enumerated() {
            if index > 0 { write([UInt8(ascii: ",")]) }
            var name: [UInt8] = []
            CanonicalJSON.writeString(key, into: &name)
            write(name + [UInt8(ascii: ":")])
            if let content = arrays[key] {
                write([UInt8(ascii: "[")])
                firstElement.append(true)
                content(self)
                firstElement.removeLast()
                write([UInt8(ascii: "]")])
            } else {
                write(CanonicalJSON.encode(members[key]!))
            }
        }
        write([UInt8(ascii: "}")])
    }

    /// Writes one element of the array being written.
    func element(_ value: JSONValue) {
        startElement()
        write(CanonicalJSON.encode(value))
    }

    /// Each question's coverage of `procedure`, as elements of the array being written.
    func coverage(of procedure: DomainState.Procedure, in state: DomainState) {
        QuestionCoverage.forEach(procedure, in: state) { element(DomainJSON.coverage($0)) }
    }

    /// Ends the line and writes what is left.
    func finish() {
        write([UInt8(ascii: "\n")])
        FileHandle.standardOutput.write(Data(buffer))
        buffer.removeAll()
    }

    private func startElement() {
        guard let first = firstElement.last else { return }
        if !first { write([UInt8(ascii: ",")]) }
        firstElement[firstElement.count - 1] = false
    }

    private func write(_ bytes: [UInt8]) {
        buffer += bytes
        if buffer.count >= 1 << 20 {
            FileHandle.standardOutput.write(Data(buffer))
            buffer.removeAll(keepingCapacity: true)
        }
    }
}

/// A one-line progress bar on stderr, drawn only when stderr is a terminal.
struct ProgressBar {
    let label: String
    let enabled = isatty(STDERR_FILENO) == 1
    private var lastDraw = Date.distantPast
    private var drawn = false

    init(label: String) { self.label = label }

    mutating func update(_ done: UInt64, _ total: UInt64) {
        guard enabled, Date().timeIntervalSince(lastDraw) > 0.1 || done == total else { return }
        lastDraw = Date()
        drawn = true
        let fraction = total == 0 ? 1 : Double(done) / Double(total)
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        FileHandle.standardError.write(Data("\r\(label) \(bar) \(done)/\(total) (\(Int(fraction * 100))%)".utf8))
    }

    /// Clears the bar (once), so that what follows starts on a clean line.
    mutating func finish() {
        guard enabled, drawn else { return }
        drawn = false
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

func readFile(_ path: String, what: String) throws -> [UInt8] {
    if path == "-" { return [UInt8](FileHandle.standardInput.readDataToEndOfFile()) }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw CLIError.usage("cannot read \(what) \(path): no such file or not readable")
    }
    return [UInt8](data)
}

func readText(_ path: String, what: String) throws -> String {
    guard let text = String(validating: try readFile(path, what: what), as: UTF8.self) else {
        throw CLIError.usage("\(what) \(path) is not valid UTF-8")
    }
    return text
}

/// Writes a file atomically (temporary file, fsync, rename) with exactly the given mode (keys, tokens).
func writeFile(_ path: String, _ text: String, mode: mode_t) throws {
    try writeAtomically(path, mode: mode) { try $0.write(contentsOf: Array(text.utf8)) }
    chmod(path, mode)
}

/// Writes `path` whole or not at all: `body` writes a temporary file beside it (created with `mode`), which
/// is synced, then renamed over `path`. On any failure the temporary file is removed.
func writeAtomically(_ path: String, mode: mode_t = 0o644, _ body: (FileHandle) throws -> Void) throws {
    let directory = (path as NSString).deletingLastPathComponent
    let temporary = (directory.isEmpty ? "." : directory) + "/.\((path as NSString).lastPathComponent).\(getpid()).tmp"
    func failure(_ reason: String) -> CLIError { CLIError.usage("cannot write \(path): \(reason)") }
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
    guard fd >= 0 else { throw failure(String(cString: strerror(errno))) }
    var open = true
    do {
        try body(FileHandle(fileDescriptor: fd, closeOnDealloc: false))
        guard fsync(fd) == 0 else { throw failure(String(cString: strerror(errno))) }
        close(fd)
        open = false
        guard rename(temporary, path) == 0 else { throw failure(String(cString: strerror(errno))) }
    } catch {
        if open { close(fd) }
        unlink(temporary)
        throw error as? CLIError ?? failure("\(error)")
    }
}

func absolutePath(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
}

/// Loads a PEM private key, refusing one that group or others may read.
func loadPrivateKey(_ path: String) throws -> Ed25519PrivateKey {
    do { return try SigningKeyFile.load(path) } catch let error as StoreError { throw CLIError.usage(error.message) }
}

/// Opens the store for writing with the key given, or the one recorded at init.
func openWriter(db: String, key: String?, cache: LogWriter.PageCache = .standard) throws -> LogWriter {
    let signer = try loadSigner(db: db, key: key)
    return try reporting { try LogWriter.open(path: db, signer: signer, cache: cache) }
}

/// The log key: `key`, or the key path `probity init` recorded in the store.
func loadSigner(db: String, key: String?) throws -> NoteSigner {
    try reporting {
        if PostgresLocation.isURL(db) {
            return try postgresSigner(PostgresLogReader(location: pgLocation(db)), key: key)
        }
        let reader = try LogReader.open(path: db)
        guard let keyPath = try key ?? reader.meta("key_path") else {
            throw CLIError.usage("no signing key recorded for \(db); pass --key PEM")
        }
        return try NoteSigner(name: reader.origin, privateKey: try loadPrivateKey(keyPath))
    }
}

/// The default principal: the Unix user running the command.
func defaultPrincipal() -> String {
    "cli:" + (ProcessInfo.processInfo.environment["USER"] ?? String(getuid()))
}

/// Derives sibling file names from the store path: `var/log.sqlite` → `var/log.key.pem`.
func siblingPath(of db: String, suffix: String) -> String {
    let url = URL(fileURLWithPath: db)
    return url.deletingPathExtension().path + suffix
}

func parseSeq(_ text: String, what: String) throws -> UInt64 {
    guard let value = LogNumber.parse(text) else {
        throw CLIError.usage("\(what) \(LogNumber.expectation), got \"\(text)\"")
    }
    return value
}

/// ArgumentParser's `transform:` for seqs and sizes: the same range as the API (see `LogNumber`).
func logNumberArgument(_ text: String) throws -> UInt64 {
    guard let value = LogNumber.parse(text) else { throw ValidationError("\(LogNumber.expectation), got \"\(text)\"") }
    return value
}
