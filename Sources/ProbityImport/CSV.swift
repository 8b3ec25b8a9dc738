/// RFC 4180 CSV, as spreadsheets and LinkedIn write it: fields separated by commas, optionally quoted
/// with `"` (a quote inside doubled), quoted fields may span lines, records end with CRLF or LF, and a
/// UTF-8 byte-order mark may open the file.
public enum CSV {
    public struct Record: Sendable, Equatable {
        public let fields: [String]
        /// The line the record starts on (1-based).
        public let line: Int
    }

    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public let line: Int
        public let message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// Scans bytes, not characters: every delimiter is ASCII, so it never falls inside a UTF-8 sequence,
    /// and each field is decoded once, when it ends.
    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> [Record] {
        var input = bytes[...]
        if input.starts(with: [0xEF, 0xBB, 0xBF]) { input = input.dropFirst(3) }
        guard String(validating: input, as: UTF8.self) != nil else {
            throw ParseError(line: 1, message: "the file is not valid UTF-8")
        }
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")
        var records: [Record] = []
        var fields: [String] = []
        var field: [UInt8] = []
        field.reserveCapacity(256)
        var line = 1, recordLine = 1
        var quoted = false, afterQuote = false, fieldStarted = false
        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
        }
        func endRecord() {
            let blank = fields.isEmpty && field.isEmpty && !fieldStarted  // a blank line is no record
            endField()
            if !blank { records.append(Record(fields: fields, line: recordLine)) }
            fields = []; fieldStarted = false; afterQuote = false
        }
        var i = input.startIndex
        while i < input.endIndex {
            let c = input[i]
            i += 1
            if quoted {
                if c == quote {
                    if i < input.endIndex, input[i] == quote {
                        field.append(quote); i += 1
                    } else {
                        quoted = false; afterQuote = true
                    }
                } else {
                    if c == lf { line += 1 }
                    field.append(c)
                }
                continue
            }
            switch c {
            case comma:
                endField(); afterQuote = false; fieldStarted = true
            case cr:
                guard i < input.endIndex, input[i] == lf else {
                    throw ParseError(line: line, message: "a carriage return not followed by a line feed")
                }
                i += 1
                endRecord(); line += 1; recordLine = line
            case lf:
                endRecord(); line += 1; recordLine = line
            case quote where field.isEmpty && !afterQuote:
                quoted = true; fieldStarted = true
            default:
                guard !afterQuote else {
                    throw ParseError(line: line, message: "text after the closing quote of a field")
                }
                field.append(c); fieldStarted = true
            }
        }
        guard !quoted else { throw ParseError(line: recordLine, message: "a quoted field is never closed") }
        if fieldStarted || !field.isEmpty || !fields.isEmpty { endRecord() }
        return records
    }
}
