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

    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> [Record] {
        var input = bytes[...]
        if input.starts(with: [0xEF, 0xBB, 0xBF]) { input = input.dropFirst(3) }
        guard let text = String(validating: input, as: UTF8.self) else {
            throw ParseError(line: 1, message: "the file is not valid UTF-8")
        }
        var records: [Record] = []
        var fields: [String] = []
        var field = ""
        var line = 1, recordLine = 1
        var quoted = false, afterQuote = false, fieldStarted = false
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func endRecord() {
            fields.append(field)
            // A blank line is no record.
            if !(fields.count == 1 && fields[0].isEmpty && !fieldStarted) { records.append(Record(fields: fields, line: recordLine)) }
            fields = []; field = ""; fieldStarted = false; afterQuote = false
        }
        while let c = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    let next = iterator.next()
                    if next == "\"" { field.unicodeScalars.append("\"") } else { quoted = false; afterQuote = true; pending = next }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case ",":
                fields.append(field); field = ""; afterQuote = false; fieldStarted = true
            case "\r":
                let next = iterator.next()
                guard next == "\n" else { throw ParseError(line: line, message: "a carriage return not followed by a line feed") }
                endRecord(); line += 1; recordLine = line
            case "\n":
                endRecord(); line += 1; recordLine = line
            case "\"" where field.isEmpty && !afterQuote:
                quoted = true; fieldStarted = true
            default:
                guard !afterQuote else { throw ParseError(line: line, message: "text after the closing quote of a field") }
                field.unicodeScalars.append(c); fieldStarted = true
            }
        }
        guard !quoted else { throw ParseError(line: recordLine, message: "a quoted field is never closed") }
        if fieldStarted || !field.isEmpty || !fields.isEmpty { endRecord() }
        return records
    }
}
