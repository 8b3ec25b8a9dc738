public import Foundation
public import ProbityLog
import Synchronization

/// Times as people read them: in the buyer's time zone, `2026-03-27 17:00`. Formatting only; the log
/// keeps UTC.
public struct LocalTime: Sendable {
    public let zone: TimeZone
    private let offsets: ZoneOffsets

    public init(zone: TimeZone) {
        self.zone = zone
        self.offsets = ZoneOffsets(zone: zone)
    }

    /// `identifier` an IANA name (`Europe/Paris`) or `UTC`; nil if unknown.
    public init?(identifier: String) {
        guard let zone = TimeZone(identifier: identifier) else { return nil }
        self.init(zone: zone)
    }

    public static let utc = LocalTime(zone: TimeZone(identifier: "UTC")!)

    /// The time zone registered for the procedure's buyer (or the buyer's organisation), else UTC.
    public static func buyers(_ procedure: DomainState.Procedure, in state: DomainState) -> LocalTime {
        guard let buyer = state.party(procedure.buyer) else { return .utc }
        let zone = buyer.timeZone ?? buyer.org.flatMap { state.party($0)?.timeZone }
        return zone.flatMap(LocalTime.init(identifier:)) ?? .utc
    }

    /// Local (days since 1970-01-01, second of the day) of `time`.
    private func local(_ time: Timestamp) -> (days: Int64, second: Int64) {
        let utc = time.microseconds.floorDiv(1_000_000)
        let seconds = utc + offsets.lookup(utc).offset
        let days = seconds.floorDiv(86_400)
        return (days, seconds - days * 86_400)
    }

    /// `2026-03-27`
    public func day(_ time: Timestamp) -> String {
        let (y, m, d) = Timestamp.civil(fromDays: local(time).days)
        return Self.padded(y, 4) + "-" + Self.padded(m, 2) + "-" + Self.padded(d, 2)
    }

    /// Day of the week, 1 = Sunday … 7 = Saturday; month 1–12.
    public func weekdayAndMonth(_ time: Timestamp) -> (weekday: Int, month: Int) {
        let days = local(time).days
        let fromSunday = (days + 4) - (days + 4).floorDiv(7) * 7  // 1970-01-01 was a Thursday
        return (Int(fromSunday) + 1, Int(Timestamp.civil(fromDays: days).1))
    }

    /// `17:00`
    public func clock(_ time: Timestamp) -> String {
        let second = local(time).second
        return Self.padded(second / 3600, 2) + ":" + Self.padded(second / 60 % 60, 2)
    }

    /// `value` in decimal, zero-padded to `width` (String(format:) costs microseconds a call).
    static func padded(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// `2026-03-27 17:00`
    public func dateTime(_ time: Timestamp) -> String { day(time) + " " + clock(time) }

    /// The zone's abbreviation at `time` (`CET`, `CEST`, `GMT`).
    public func abbreviation(_ time: Timestamp) -> String {
        offsets.lookup(time.microseconds.floorDiv(1_000_000)).abbreviation
    }
}

/// A zone's UTC offset and abbreviation, remembered between two transitions: asking ICU for every row of
/// a 10,000-row export cost more than the rest of the export.
final class ZoneOffsets: Sendable {
    private let zone: TimeZone
    /// Valid for UTC seconds in [start, end).
    private let cached = Mutex<(start: Int64, end: Int64, offset: Int64, abbreviation: String)?>(nil)

    init(zone: TimeZone) { self.zone = zone }

    func lookup(_ utcSeconds: Int64) -> (offset: Int64, abbreviation: String) {
        if let c = cached.withLock({ $0 }), c.start <= utcSeconds, utcSeconds < c.end {
            return (c.offset, c.abbreviation)
        }
        let date = Date(timeIntervalSince1970: Double(utcSeconds))
        let offset = Int64(zone.secondsFromGMT(for: date))
        let abbreviation = zone.abbreviation(for: date) ?? zone.identifier
        let end =
            zone.nextDaylightSavingTimeTransition(after: date).map { Int64($0.timeIntervalSince1970.rounded(.down)) }
            ?? .max
        cached.withLock { $0 = (utcSeconds, max(end, utcSeconds + 1), offset, abbreviation) }
        return (offset, abbreviation)
    }
}
