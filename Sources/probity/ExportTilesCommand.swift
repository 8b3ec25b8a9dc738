import ArgumentParser
import Foundation
import ProbityLog
import ProbityStore

struct ExportTilesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tiles",
        abstract: "Write the log as C2SP tlog-tiles static files, for any web server or CDN to serve.",
        discussion: """
            DIR receives checkpoint, tile/<L>/<N>[.p/<W>] (hash tiles) and tile/entries/<N>[.p/<W>] (entry \
            bundles: the entries only, never payloads), byte for byte what probityd serves under its tiles \
            prefix. Run it again to bring DIR up to date: only what the log gained since the copy's checkpoint \
            is written, after checking that the copy's tree is the log's (a copy of another log, or of a history \
            the log no longer has, is refused). Every file is replaced atomically, and the checkpoint is written \
            last, once the tiles it names are on disk. Serve full tiles as immutable, the checkpoint uncached.

            Exit codes: 0 written, 1 the copy's tree is not the log's, 2 usage or I/O error.

            Example:
              probity export tiles --db var/log.sqlite --dir /srv/www/tlog
            """)

    @OptionGroup var store: StoreOption
    @Option(help: ArgumentHelp("The directory to write (created if missing).", valueName: "DIR")) var dir: String
    @OptionGroup var output: JSONFlag

    func run() throws {
        try reporting {
            let reader = try LogReader.open(path: store.db)
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let exported = try exportedSize(reader)
            var files = 0, bytes = 0
            var bar = ProgressBar(label: "exporting tiles")
            defer { bar.finish() }
            let checkpoint = try reader.exportTiles(after: exported) { path, content in
                try write(content, to: path.description)
                files += 1
                bytes += content.count
                if case .hashes(0, let index, _) = path { bar.update(index, max(index, 1)) }
            }
            bar.finish()
            // The tiles reach the disk before the checkpoint that names them (one sync, not one per file).
            if files > 0 { sync() }
            try writeFile(dir + "/checkpoint", checkpoint.encoded, mode: 0o644)
            let size = checkpoint.checkpoint.size
            if output.json {
                Output.json(
                    .object([
                        "dir": .string(dir), "size": .number(Double(size)),
                        "previous_size": .number(Double(exported)), "files": .number(Double(files + 1)),
                        "bytes": .number(Double(bytes)),
                    ]))
            } else {
                Output.line(
                    "wrote \(files + 1) files (\(bytes) bytes of tiles) to \(dir): tree size \(size)\(exported > 0 ? ", was \(exported)" : "")"
                )
            }
        }
    }

    /// The tree size of the copy already in `dir` (0 for none), once its tree is known to be the log's.
    private func exportedSize(_ reader: LogReader) throws -> UInt64 {
        let path = dir + "/checkpoint"
        guard FileManager.default.fileExists(atPath: path) else { return 0 }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let copy: Checkpoint
        do { copy = try SignedCheckpoint(parsing: text).checkpoint } catch {
            throw CLIError.usage("\(path) is not a signed checkpoint (\(error)); export into an empty directory")
        }
        guard copy.origin == reader.origin else {
            throw CLIError.integrity("\(dir) holds the tiles of \(copy.origin), not of \(reader.origin)")
        }
        let size = try reader.size()
        let sameTree = try copy.size <= size && (copy.size == 0 || reader.root(size: copy.size) == copy.root)
        guard sameTree else {
            throw CLIError.integrity(
                "\(dir) holds a tree of \(copy.size) entries that is not the log's: the log's history differs from the one exported (run `probity verify`)"
            )
        }
        return copy.size
    }

    /// Writes `bytes` to `relative` under `dir` through a temporary file and a rename: a web server serving
    /// the directory meanwhile sends the old file or the new one, never a part.
    private func write(_ bytes: [UInt8], to relative: String) throws {
        let path = dir + "/" + relative
        let parent = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        let temporary = parent + "/.\((path as NSString).lastPathComponent).\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CLIError.usage("cannot write \(path): \(String(cString: strerror(errno)))") }
        let written = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CLIError.usage("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
