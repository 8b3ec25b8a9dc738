import ProbityDomain
public import ProbityLog

/// Writes a ZIP archive (APPNOTE 6.3) of stored (uncompressed) files in one pass, to any byte sink: a
/// file or an HTTP response body.
///
/// Why not ZIPFoundation's `Archive.addEntry` (which `verify-bundle` uses to read)? In 0.9.20 each call
/// re-reads and rewrites the whole central directory, so adding n files costs O(n²): an evidence bundle
/// has two or three files per entry, and a 10,000-entry procedure would spend minutes there. Stored, not
/// deflated: entries and proofs are small and mostly random (hashes), and stored files can be checked with
/// any tool. Writes ZIP64 end records when there are more than 65,535 files.
public struct ZipWriter {
    public struct TooLarge: Error, CustomStringConvertible {
        public var description: String { "the archive would exceed 4 GiB, the limit of this writer" }
    }

    private let sink: ([UInt8]) throws -> Void
    /// Output not yet given to the sink: written in chunks of about 1 MiB, not two writes per file.
    private var pending: [UInt8] = []
    private var offset: UInt64 = 0
    private var central: [UInt8] = []
    private var count: UInt64 = 0
    private let dosTime: UInt16
    private let dosDate: UInt16

    /// `modified` is the time recorded for every file (UTC; ZIP has no zone).
    public init(modified: Timestamp, sink: @escaping ([UInt8]) throws -> Void) {
        self.sink = sink
        let (date, time) = Self.dosDateTime(modified)
        self.dosDate = date
        self.dosTime = time
    }

    /// Adds one file. `name` must be ASCII (the bundle's exhibit names are).
    public mutating func add(_ name: String, _ bytes: [UInt8]) throws {
        let nameBytes = Array(name.utf8)
        let crc = CRC32.checksum(bytes)
        guard offset + UInt64(bytes.count) + 30 + UInt64(nameBytes.count) < UInt64(UInt32.max) else { throw TooLarge() }
        var local: [UInt8] = []
        local.le32(0x0403_4B50)
        local.le16(10)  // version needed: 1.0, stored
        local.le16(0)  // flags
        local.le16(0)  // method: stored
        local.le16(dosTime); local.le16(dosDate)
        local.le32(crc)
        local.le32(UInt32(bytes.count)); local.le32(UInt32(bytes.count))
        local.le16(UInt16(nameBytes.count)); local.le16(0)
        local += nameBytes

        central.le32(0x0201_4B50)
        central.le16(0x031E)  // made by: Unix, 3.0
        central.le16(10); central.le16(0); central.le16(0)
        central.le16(dosTime); central.le16(dosDate)
        central.le32(crc)
        central.le32(UInt32(bytes.count)); central.le32(UInt32(bytes.count))
        central.le16(UInt16(nameBytes.count))
        central.le16(0); central.le16(0); central.le16(0); central.le16(0)  // extra, comment, disk, internal attributes
        central.le32(0o100644 << 16)  // external attributes: a regular file, rw-r--r--
        central.le32(UInt32(offset))
        central += nameBytes

        pending += local
        pending += bytes
        if pending.count >= 1 << 20 { try sink(pending); pending.removeAll(keepingCapacity: true) }
        offset += UInt64(local.count + bytes.count)
        count += 1
    }

    /// Writes the central directory and the end records. The writer must not be used afterwards.
    public mutating func finish() throws {
        guard offset + UInt64(central.count) < UInt64(UInt32.max) else { throw TooLarge() }
        let centralStart = offset
        var end = central
        central = []
        let needsZip64 = count > 0xFFFE
        if needsZip64 {
            let zip64Start = centralStart + UInt64(end.count)
            end.le32(0x0606_4B50)
            end.le64(44)  // size of the rest of this record
            end.le16(0x031E); end.le16(45)
            end.le32(0); end.le32(0)
            end.le64(count); end.le64(count)
            end.le64(UInt64(zip64Start - centralStart)); end.le64(centralStart)
            end.le32(0x0706_4B50)  // locator
            end.le32(0); end.le64(zip64Start); end.le32(1)
        }
        let centralSize = UInt32(needsZip64 ? (end.count - 76) : end.count)
        end.le32(0x0605_4B50)
        end.le16(0); end.le16(0)
        end.le16(needsZip64 ? 0xFFFF : UInt16(count)); end.le16(needsZip64 ? 0xFFFF : UInt16(count))
        end.le32(centralSize)
        end.le32(UInt32(centralStart))
        end.le16(0)
        try sink(pending + end)
        pending = []
        offset += UInt64(end.count)
    }

    static func dosDateTime(_ t: Timestamp) -> (date: UInt16, time: UInt16) {
        let seconds = t.microseconds / 1_000_000
        let days = seconds / 86_400, secondOfDay = seconds % 86_400
        let (y, m, d) = Timestamp.civil(fromDays: days)
        guard y >= 1980 else { return (0x21, 0) }  // 1980-01-01, ZIP's epoch
        let date = UInt16((y - 1980) << 9 | m << 5 | d)
        let time = UInt16(secondOfDay / 3600) << 11 | UInt16(secondOfDay / 60 % 60) << 5 | UInt16(secondOfDay % 60 / 2)
        return (date, time)
    }
}

/// CRC-32 (ISO-HDLC, the ZIP checksum).
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n in
        (0..<8).reduce(UInt32(n)) { c, _ in c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        bytes.withUnsafeBufferPointer { buffer in
            for byte in buffer { c = table[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
        }
        return c ^ 0xFFFF_FFFF
    }
}

extension [UInt8] {
    mutating func le16(_ v: UInt16) { append(UInt8(v & 0xFF)); append(UInt8(v >> 8)) }
    mutating func le32(_ v: UInt32) { for i in 0..<4 { append(UInt8(v >> (8 * i) & 0xFF)) } }
    mutating func le64(_ v: UInt64) { for i in 0..<8 { append(UInt8(v >> (8 * i) & 0xFF)) } }
}
