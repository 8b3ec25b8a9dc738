#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A UTC instant with microsecond precision, written `YYYY-MM-DDTHH:MM:SS.ffffffZ` in entries
/// (exactly six fraction digits, so that every instant has one spelling).
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let microseconds: Int64

    public init(microsecondsSinceEpoch: Int64) { self.microseconds = microsecondsSinceEpoch }

    public static func < (a: Self, b: Self) -> Bool { a.microseconds < b.microseconds }

    /// The entry form, `2026-11-29T21:24:02.123456Z`.
    public var description: String { String(decoding: entryBytes, as: UTF8.self) }

    /// The entry form as UTF-8 bytes (27 of them), written digit by digit: this runs on every append.
    public var entryBytes: [UInt8] {
        let seconds = microseconds.floorDiv(1_000_000)
        let fraction = microseconds - seconds * 1_000_000
        let days = seconds.floorDiv(86_400)
        let secondOfDay = seconds - days * 86_400
        let (y, m, d) = Self.civil(fromDays: days)
        var out = [UInt8](repeating: 0, count: 27)
        func put(_ value: Int64, at offset: Int, width: Int) {
            var v = value
            for i in stride(from: offset + width - 1, through: offset, by: -1) {
                out[i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            }
        }
        put(y, at: 0, width: 4); out[4] = UInt8(ascii: "-")
        put(m, at: 5, width: 2); out[7] = UInt8(ascii: "-")
        put(d, at: 8, width: 2); out[10] = UInt8(ascii: "T")
        put(secondOfDay / 3600, at: 11, width: 2); out[13] = UInt8(ascii: ":")
        put(secondOfDay / 60 % 60, at: 14, width: 2); out[16] = UInt8(ascii: ":")
        put(secondOfDay % 60, at: 17, width: 2); out[19] = UInt8(ascii: ".")
        put(fraction, at: 20, width: 6); out[26] = UInt8(ascii: "Z")
        return out
    }

    /// Parses exactly the entry form (and nothing else), so that a parsed time re-prints identically.
    public init?(entryTime text: String) {
        var text = text
        guard let t = text.withUTF8({ Timestamp(entryTime: $0) }) else { return nil }
        self = t
    }

    /// The entry form from its UTF-8 bytes.
    public init?(entryTime b: UnsafeBufferPointer<UInt8>) {
        guard b.count == 27, b[10] == UInt8(ascii: "T"), b[19] == UInt8(ascii: "."), b[26] == UInt8(ascii: "Z"),
            let seconds = Self.secondsOfDateTime(b), let fraction = Self.decimal(b, 20..<26)
        else { return nil }
        self.init(microsecondsSinceEpoch: seconds * 1_000_000 + fraction)
    }

    /// Parses RFC 3339 date-times as users write them (`Z` or an offset, 0–9 fraction digits).
    public init?(rfc3339 text: String) {
        let b = Array(text.utf8)
        guard b.count >= 20, b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
            let seconds = Self.secondsOfDateTime(b)
        else { return nil }
        var i = 19
        var micros: Int64 = 0
        if b[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i]) {
                if digits < 6 { micros = micros * 10 + Int64(b[i] - UInt8(ascii: "0")) }
                digits += 1; i += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 6) { micros *= 10 }
        }
        guard i < b.count else { return nil }
        var offsetSeconds: Int64 = 0
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            guard i + 6 == b.count, b[i + 3] == UInt8(ascii: ":"), let oh = Self.decimal(b, i + 1..<i + 3),
                let om = Self.decimal(b, i + 4..<i + 6),
                oh < 24, om < 60
            else { return nil }
            offsetSeconds = (oh * 3600 + om * 60) * (b[i] == UInt8(ascii: "+") ? 1 : -1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        self.init(microsecondsSinceEpoch: (seconds - offsetSeconds) * 1_000_000 + micros)
    }

    /// Seconds since the epoch of `YYYY-MM-DD?HH:MM:SS` in the first 19 bytes (the separator at 10 is
    /// the caller's to check), or nil if it is not a valid date and time.
    private static func secondsOfDateTime<C: RandomAccessCollection<UInt8>>(_ b: C) -> Int64? where C.Index == Int {
        guard b.count >= 19, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[13] == UInt8(ascii: ":"),
            b[16] == UInt8(ascii: ":"),
            let y = decimal(b, 0..<4), let mo = decimal(b, 5..<7), let d = decimal(b, 8..<10),
            let h = decimal(b, 11..<13),
            let mi = decimal(b, 14..<16), let s = decimal(b, 17..<19),
            (1...12).contains(mo), (1...daysIn(month: mo, year: y)).contains(d), h < 24, mi < 60, s < 60
        else { return nil }
        return days(fromCivil: y, mo, d) * 86_400 + h * 3600 + mi * 60 + s
    }

    /// The decimal number written in `b[range]` (digits only).
    private static func decimal<C: RandomAccessCollection<UInt8>>(_ b: C, _ range: Range<Int>) -> Int64?
    where C.Index == Int {
        guard range.upperBound <= b.count else { return nil }
        var v: Int64 = 0
        for i in range {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i]) else { return nil }
            v = v * 10 + Int64(b[i] - UInt8(ascii: "0"))
        }
        return v
    }

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian calendar).
    static func days(fromCivil y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = y.floorDiv(400)
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The proleptic Gregorian (year, month, day) of a day count since 1970-01-01 (H. Hinnant's algorithm).
    public static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = z.floorDiv(146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

extension Int64 {
    package func floorDiv(_ d: Int64) -> Int64 {
        let q = self / d
        return (self % d != 0 && (self < 0) != (d < 0)) ? q - 1 : q
    }
}
