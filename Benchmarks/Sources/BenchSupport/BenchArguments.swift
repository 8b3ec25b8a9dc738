import Foundation

/// The options of a benchmark executable: `--name value` pairs, and `--help`. An unknown option, a missing
/// value or a value of the wrong type stops the program with exit code 2 and says which.
public struct BenchArguments {
    private var values: [String: String] = [:]
    private let program: String

    /// `names` are the options taken (without values: `--events`); `usage` is printed for `--help`.
    public init(
        _ args: [String] = Array(CommandLine.arguments.dropFirst()), names: Set<String>, program: String, usage: String
    ) {
        self.program = program
        var i = 0
        while i < args.count {
            let name = args[i]
            if name == "--help" || name == "-h" {
                print("usage: \(program) \(usage)")
                exit(0)
            }
            guard names.contains(name) else {
                Self.fail(program, "unknown argument \(name); usage: \(program) \(usage)")
            }
            guard i + 1 < args.count else { Self.fail(program, "\(name) needs a value") }
            values[name] = args[i + 1]
            i += 2
        }
    }

    public func string(_ name: String, default value: String) -> String { values[name] ?? value }

    public func int(_ name: String, default value: Int) -> Int { parsed(name, value, Int.init, "an integer") }

    public func double(_ name: String, default value: Double) -> Double { parsed(name, value, Double.init, "a number") }

    private func parsed<T>(_ name: String, _ value: T, _ parse: (String) -> T?, _ what: String) -> T {
        guard let text = values[name] else { return value }
        guard let parsed = parse(text) else { Self.fail(program, "\(name) must be \(what), got \"\(text)\"") }
        return parsed
    }

    private static func fail(_ program: String, _ message: String) -> Never {
        FileHandle.standardError.write(Data("\(program): \(message)\n".utf8))
        exit(2)
    }
}

/// A benchmark's output: a fresh directory, and a report printed line by line and saved as `report.md`.
public final class BenchReport {
    public let dir: String
    private var lines: [String] = []

    /// Empties `dir` (a previous run's store and report) and creates it.
    public init(dir: String) throws {
        self.dir = dir
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    public func log(_ line: String) {
        print(line)
        lines.append(line)
    }

    public func save() throws {
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/report.md", atomically: true, encoding: .utf8)
    }
}

/// Wall-clock seconds, for timing phases.
public func now() -> Double { Date().timeIntervalSince1970 }
