extension StringProtocol {
    /// The string without leading and trailing whitespace (spaces, tabs, line breaks), without Foundation.
    public func trimmingSpaces() -> String {
        var s = Substring(self)
        while let first = s.unicodeScalars.first, first.properties.isWhitespace { s = s.dropFirst() }
        while let last = s.unicodeScalars.last, last.properties.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
