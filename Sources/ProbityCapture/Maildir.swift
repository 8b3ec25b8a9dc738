import Foundation

/// A Maildir as `mbsync`, `getmail` or an MDA fills it: messages are files in `new/` and `cur/` (never
/// `tmp/`, where deliveries are being written). A message keeps its unique name (the file name up to
/// the `:2,` flags) when a mail client moves it from `new/` to `cur/` or changes its flags, so that name
/// is what capture remembers. Capture only reads: it never moves, renames or changes a file.
public struct Maildir: Sendable {
    public struct Message: Sendable, Equatable {
        /// The unique part of the file name (before `:`), stable across flag changes and `new/` → `cur/`.
        public let name: String
        public let path: String
    }

    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// The subdirectories a watcher watches.
    public var watched: [String] { ["new", "cur"].map { directory + "/" + $0 } }

    /// Checks that `directory` is a Maildir (it has `cur`, `new` and `tmp`).
    public func check() throws(CaptureError) {
        for sub in ["cur", "new", "tmp"] {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory + "/" + sub, isDirectory: &isDirectory),
                isDirectory.boolValue
            else {
                throw CaptureError(
                    "\(directory) is not a Maildir: it has no \(sub)/ directory (point the capture at the folder mbsync or getmail fills, e.g. ~/Mail/INBOX)"
                )
            }
        }
    }

    /// The messages now in `new/` and `cur/`, by unique name (oldest deliveries first: Maildir names
    /// begin with the delivery time). A name seen in both (a move in progress) is listed once.
    public func messages() throws(CaptureError) -> [Message] {
        var byName: [String: Message] = [:]
        for sub in ["new", "cur"] {
            let path = directory + "/" + sub
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
                throw CaptureError("cannot list \(path): \(error.localizedDescription)")
            }
            for file in names where !file.hasPrefix(".") {
                let name = String(file.prefix { $0 != ":" })
                byName[name] = byName[name] ?? Message(name: name, path: path + "/" + file)
            }
        }
        return byName.values.sorted { $0.name < $1.name }
    }

    /// Reads a message, finding it again if it was moved or its flags changed since it was listed; nil
    /// if it is gone (expunged).
    public func read(_ message: Message) -> [UInt8]? {
        if let bytes = FileManager.default.contents(atPath: message.path) { return Array(bytes) }
        for sub in ["cur", "new"] {
            let path = directory + "/" + sub
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { continue }
            for file in names where file == message.name || file.hasPrefix(message.name + ":") {
                if let bytes = FileManager.default.contents(atPath: path + "/" + file) { return Array(bytes) }
            }
        }
        return nil
    }
}

/// A capture that cannot run: a directory that is not what it should be, a mapping that does not parse.
public struct CaptureError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
