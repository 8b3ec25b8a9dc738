import Foundation

/// Times as people read them: in the buyer's time zone, `2026-03-27 17:00`. Formatting only; the log
/// keeps UTC.
public struct LocalTime: Sendable {
    public let zone: TimeZone
    private let calendar: Calendar

    public init(zone: TimeZone) {
        self.zone = zone
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        self.calendar = calendar
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

    private func parts(_ time: Timestamp) -> DateComponents {
        calendar.dateComponents([.year, .month, .day, .hour, .minute], from: Date(timeIntervalSince1970: Double(time.microseconds) / 1e6))
    }

    /// `2026-03-27`
    public func day(_ time: Timestamp) -> String {
        let p = parts(time)
        return String(format: "%04d-%02d-%02d", p.year ?? 0, p.month ?? 0, p.day ?? 0)
    }

    /// Day of the week, 1 = Sunday … 7 = Saturday; month 1–12.
    public func weekdayAndMonth(_ time: Timestamp) -> (weekday: Int, month: Int) {
        let p = calendar.dateComponents([.weekday, .month], from: Date(timeIntervalSince1970: Double(time.microseconds) / 1e6))
        return (p.weekday ?? 1, p.month ?? 1)
    }

    /// `17:00`
    public func clock(_ time: Timestamp) -> String {
        let p = parts(time)
        return String(format: "%02d:%02d", p.hour ?? 0, p.minute ?? 0)
    }

    /// `2026-03-27 17:00`
    public func dateTime(_ time: Timestamp) -> String { day(time) + " " + clock(time) }

    /// The zone's abbreviation at `time` (`CET`, `CEST`, `GMT`).
    public func abbreviation(_ time: Timestamp) -> String {
        zone.abbreviation(for: Date(timeIntervalSince1970: Double(time.microseconds) / 1e6)) ?? zone.identifier
    }
}
