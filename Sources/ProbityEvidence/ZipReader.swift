/// Why an archive is refused: the first departure from the form `ZipWriter` writes, with the offset.
public struct ZipFormatError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Reads archives of the one form `ZipWriter` writes, and refuses every other, before reading any member.
///
/// A bundle is evidence: its verifier must not trust sizes, offsets or names from the archive, and must
/// agree with the Python verifier on every input. So instead of a general ZIP reader (which follows what
/// the central directory says: ZIP64 sizes it then allocates, several names for one local entry, deflated
/// members it inflates), the accepted form is exact:
///
/// - the end-of-central-directory record ends the file (no comment); ZIP64 end records only when the
///   member count needs them, right before it;
/// - every member is stored (method 0), unencrypted, without data descriptor, extra field or comment, with
///   an ASCII name (no directory entries, no `..`), its local header matching its central-directory record;
/// - members are laid end to end from offset 0, in central-directory order, and the central directory
///   starts right after the last: no byte of the file is unaccounted for, no two names share data.
///
/// Every size is therefore bounded by the file's size, which the reader checks before anything else; a
/// member's bytes are read only when asked for, and their CRC-32 checked then.
public struct ZipReader: Sendable {
    public struct Member: Sendable, Equatable {
        public let name: String
        /// Offset of the member's bytes in the archive, and their length.
        public let dataOffset: Int
        public let size: Int
        public let crc32: UInt32
    }

    /// Members in archive order; names are unique.
    public let members: [Member]
    private let byName: [String: Int]

    /// Most members an archive may hold (a bundle has two or three files per entry).
    public static let maxMembers = 10_000_000

    /// Parses the directory of `bytes` (the whole archive).
    public init(_ bytes: UnsafeRawBufferPointer) throws(ZipFormatError) {
        let file = Cursor(bytes)
        let count = bytes.count
        guard count >= 22 else { throw ZipFormatError("the file is too short to be a ZIP archive (\(count) bytes)") }
        let end = count - 22
        guard file.u32(end) == 0x0605_4B50 else {
            throw ZipFormatError(
                "no end-of-central-directory record at the end of the file (an archive comment, trailing data, or not a ZIP archive)"
            )
        }
        guard file.u16(end + 4) == 0, file.u16(end + 6) == 0 else { throw ZipFormatError("a multi-disk archive") }
        guard file.u16(end + 20) == 0 else { throw ZipFormatError("the archive has a comment") }
        var entries = UInt64(file.u16(end + 10))
        guard UInt64(file.u16(end + 8)) == entries else {
            throw ZipFormatError("the end record's two member counts differ")
        }
        let centralSize = UInt64(file.u32(end + 12))
        let centralOffset = UInt64(file.u32(end + 16))
        var centralEnd = end
        if entries == 0xFFFF {
            // ZIP64 end record (56 bytes) and locator (20 bytes), right before the end record.
            guard end >= 76 else { throw ZipFormatError("the ZIP64 end records are missing") }
            let locator = end - 20, record = end - 76
            guard file.u32(locator) == 0x0706_4B50, file.u32(locator + 4) == 0, file.u64(locator + 8) == UInt64(record),
                file.u32(locator + 16) == 1
            else { throw ZipFormatError("the ZIP64 end locator is missing or does not point at the record before it") }
            guard file.u32(record) == 0x0606_4B50, file.u64(record + 4) == 44, file.u32(record + 16) == 0,
                file.u32(record + 20) == 0
            else { throw ZipFormatError("the ZIP64 end record at offset \(record) is malformed") }
            entries = file.u64(record + 24)
            guard file.u64(record + 32) == entries, entries > 0xFFFE,
                file.u64(record + 40) == centralSize, file.u64(record + 48) == centralOffset
            else { throw ZipFormatError("the ZIP64 end record disagrees with the end record") }
            centralEnd = record
        }
        guard centralOffset <= UInt64(centralEnd), centralOffset + centralSize == UInt64(centralEnd) else {
            throw ZipFormatError(
                "the central directory (offset \(centralOffset), \(centralSize) bytes) does not end where the end records start (\(centralEnd))"
            )
        }
        // Each central-directory record takes at least 46 bytes: the count cannot exceed what fits.
        guard entries <= centralSize / 46, entries <= UInt64(Self.maxMembers) else {
            throw ZipFormatError("the end record claims \(entries) members, more than the central directory can hold")
        }

        var members: [Member] = []
        members.reserveCapacity(Int(entries))
        var byName: [String: Int] = [:]
        var position = Int(centralOffset)
        var expectedLocal = 0  // where the next member's local header must start
        for index in 0..<Int(entries) {
            let at = position
            guard at + 46 <= centralEnd, file.u32(at) == 0x0201_4B50 else {
                throw ZipFormatError("central-directory record \(index + 1) at offset \(at) is malformed")
            }
            let flags = file.u16(at + 8), method = file.u16(at + 10), crc = file.u32(at + 16)
            let compressed = file.u32(at + 20), size = file.u32(at + 24)
            let nameLength = Int(file.u16(at + 28)), extraLength = file.u16(at + 30), commentLength = file.u16(at + 32)
            let localOffset = Int(file.u32(at + 42))
            guard at + 46 + nameLength <= centralEnd else {
                throw ZipFormatError("central-directory record \(index + 1) runs past the directory")
            }
            let nameBytes = file.bytes(at + 46, nameLength)
            let name = try Self.name(nameBytes, index: index)
            guard flags == 0 else {
                throw ZipFormatError(
                    "\(name): flags \(flags) (encrypted, or a data descriptor): not written by Probity")
            }
            guard method == 0 else {
                throw ZipFormatError(
                    "\(name): compression method \(method); bundle members are stored, never compressed")
            }
            guard compressed == size, size != 0xFFFF_FFFF else {
                throw ZipFormatError("\(name): its stored and compressed sizes differ, or need ZIP64")
            }
            guard extraLength == 0, commentLength == 0, file.u16(at + 34) == 0 else {
                throw ZipFormatError("\(name): an extra field, comment or disk number that Probity does not write")
            }
            guard byName[name] == nil else { throw ZipFormatError("the archive holds two members named \(name)") }
            // The local header: right after the previous member, the same name, sizes and checksum.
            guard localOffset == expectedLocal else {
                throw ZipFormatError(
                    "\(name): its local header is at offset \(localOffset), not at \(expectedLocal) where the previous member ends (overlapping or hidden data)"
                )
            }
            let dataOffset = localOffset + 30 + nameLength
            guard dataOffset <= Int(centralOffset), Int(size) <= Int(centralOffset) - dataOffset else {
                throw ZipFormatError("\(name): its \(size) bytes run past the start of the central directory")
            }
            guard file.u32(localOffset) == 0x0403_4B50, file.u16(localOffset + 6) == 0, file.u16(localOffset + 8) == 0,
                file.u32(localOffset + 14) == crc, file.u32(localOffset + 18) == size,
                file.u32(localOffset + 22) == size,
                Int(file.u16(localOffset + 26)) == nameLength, file.u16(localOffset + 28) == 0,
                file.bytes(localOffset + 30, nameLength).elementsEqual(nameBytes)
            else {
                throw ZipFormatError(
                    "\(name): its local header at offset \(localOffset) does not match its central-directory record")
            }
            byName[name] = members.count
            members.append(Member(name: name, dataOffset: dataOffset, size: Int(size), crc32: crc))
            expectedLocal = dataOffset + Int(size)
            position = at + 46 + nameLength
        }
        guard expectedLocal == Int(centralOffset), position == centralEnd else {
            throw ZipFormatError(
                "the archive holds bytes that belong to no member (between offset \(expectedLocal) and the central directory, or after it)"
            )
        }
        self.members = members
        self.byName = byName
    }

    public func member(named name: String) -> Member? { byName[name].map { members[$0] } }

    /// The member's bytes, after checking their CRC-32.
    public static func data(of member: Member, in bytes: UnsafeRawBufferPointer) throws(ZipFormatError) -> [UInt8] {
        let data = [UInt8](bytes[member.dataOffset..<(member.dataOffset + member.size)])
        guard CRC32.checksum(data) == member.crc32 else {
            throw ZipFormatError("\(member.name): its CRC-32 does not match (the archive is damaged or was edited)")
        }
        return data
    }

    /// Member names are what `ZipWriter` writes: printable ASCII, 1–255 bytes, not a directory, no `..`
    /// component, not absolute. Two tools can then only see the same names.
    static func name(_ bytes: some Collection<UInt8>, index: Int) throws(ZipFormatError) -> String {
        guard (1...255).contains(bytes.count),
            bytes.allSatisfy({ (0x21...0x7E).contains($0) && $0 != UInt8(ascii: "\\") })
        else {
            throw ZipFormatError("member \(index + 1) has a name that is not printable ASCII without spaces")
        }
        let name = String(decoding: bytes, as: UTF8.self)
        guard !name.hasPrefix("/"), !name.hasSuffix("/"), !name.split(separator: "/").contains("..") else {
            throw ZipFormatError("member \(index + 1) (\(name)) is a directory, an absolute path or goes up with ..")
        }
        return name
    }
}

/// Bounds-checked little-endian reads; past the end, reads give zero (callers check the bounds that matter).
private struct Cursor {
    let bytes: UnsafeRawBufferPointer
    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    func u16(_ at: Int) -> UInt16 {
        guard at >= 0, at + 2 <= bytes.count else { return 0 }
        return UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
    }
    func u32(_ at: Int) -> UInt32 {
        guard at >= 0, at + 4 <= bytes.count else { return 0 }
        return UInt32(u16(at)) | UInt32(u16(at + 2)) << 16
    }
    func u64(_ at: Int) -> UInt64 {
        guard at >= 0, at + 8 <= bytes.count else { return 0 }
        return UInt64(u32(at)) | UInt64(u32(at + 4)) << 32
    }
    func bytes(_ at: Int, _ count: Int) -> UnsafeRawBufferPointer.SubSequence {
        guard at >= 0, count >= 0, at <= bytes.count - count else { return bytes[0..<0] }
        return bytes[at..<(at + count)]
    }
}
