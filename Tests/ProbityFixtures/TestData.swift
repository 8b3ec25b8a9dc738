import Foundation
import Testing

@testable import ProbityLog

/// Locates `../shared/testdata` beside the package. Tests that need it fail when it is missing:
/// a vector suite that silently skips would prove nothing.
enum TestData {
    static var packageRoot: URL { CLI.packageRoot }

    static func directory(_ name: String) throws -> URL {
        let url = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/testdata/\(name)")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw MissingTestData(path: url.path)
        }
        return url
    }

    static func files(_ name: String, ext: String) throws -> [URL] {
        let root = try directory(name)
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)!
        let urls = enumerator.compactMap { $0 as? URL }.filter { $0.pathExtension == ext }.sorted { $0.path < $1.path }
        guard !urls.isEmpty else { throw MissingTestData(path: root.path + "/**/*.\(ext)") }
        return urls
    }

    static func bytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

    struct MissingTestData: Error, CustomStringConvertible {
        let path: String
        var description: String {
            "test vectors missing at \(path) (they live in ../shared/testdata beside the project)"
        }
    }
}
