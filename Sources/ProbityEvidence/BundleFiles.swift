import ProbityDomain
import ProbityLog

/// The members of a bundle, read only when asked for: from an archive (through `ZipReader`, whose
/// directory was checked whole before this exists) or from memory.
public struct BundleFiles: @unchecked Sendable {
    /// Member names in archive order.
    public let names: [String]
    private let sizes: [String: Int]
    private let reader: (String) throws(BundleVerificationError) -> [UInt8]

    public func size(of name: String) -> Int? { sizes[name] }

    public func read(_ name: String) throws(BundleVerificationError) -> [UInt8] {
        guard sizes[name] != nil else { throw .init("\(name) is missing") }
        return try reader(name)
    }

    public init(_ files: [String: [UInt8]]) {
        names = files.keys.sorted()
        sizes = files.mapValues(\.count)
        reader = { name throws(BundleVerificationError) in files[name]! }
    }

    /// The members of the archive `bytes`, which `owner` keeps alive (a mapped file). Throws when the
    /// archive is not in the form Probity writes (see `ZipReader`).
    public init(archive bytes: UnsafeRawBufferPointer, owner: AnyObject) throws(BundleVerificationError) {
        let zip: ZipReader
        do { zip = try ZipReader(bytes) } catch { throw .init("the archive is not a Probity bundle: \(error.message)") }
        names = zip.members.map(\.name)
        sizes = Dictionary(uniqueKeysWithValues: zip.members.map { ($0.name, $0.size) })
        reader = { name throws(BundleVerificationError) in
            withExtendedLifetime(owner) {}
            do throws(ZipFormatError) { return try ZipReader.data(of: zip.member(named: name)!, in: bytes) } catch {
                throw .init(error.message)
            }
        }
    }
}
