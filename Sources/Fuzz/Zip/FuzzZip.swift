import FuzzSupport
import ProbityEvidence

/// The bundle archive reader. Invariants: an accepted archive's members lie end to end inside the file,
/// their names are unique, and reading each either gives its declared size or a CRC error.
enum Target {
    static func run(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            guard let zip = try? ZipReader(buffer) else { return }
            var end = 0
            for member in zip.members {
                Fuzz.check(
                    member.dataOffset >= end && member.dataOffset + member.size <= buffer.count,
                    "a member lies outside the file or overlaps")
                end = member.dataOffset + member.size
                Fuzz.check(zip.member(named: member.name) == member, "names are not unique")
                if let data = try? ZipReader.data(of: member, in: buffer) {
                    Fuzz.check(data.count == member.size, "a member reads at another size")
                }
            }
        }
    }
}

@main struct Main {
    static func main() { Fuzz.main(Target.run) }
}
