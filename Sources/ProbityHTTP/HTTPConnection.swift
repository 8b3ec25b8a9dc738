#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where `probityd` listens: its Unix socket, or a TCP address.
public enum Endpoint: Sendable, Equatable, CustomStringConvertible {
    case unix(path: String)
    case tcp(host: String, port: UInt16)

    /// Parses `http://HOST:PORT` (a path after it is ignored), or `unix:PATH`.
    public init(url: String) throws(ClientError) {
        if url.hasPrefix("unix:") {
            let path = String(url.dropFirst(5))
            guard !path.isEmpty else { throw ClientError("the URL \(url) names no socket path") }
            self = .unix(path: path)
            return
        }
        guard url.hasPrefix("http://") else {
            throw ClientError(
                "the URL \(url) must start with http:// (probityd serves plain HTTP on loopback) or unix:")
        }
        var authority = url.dropFirst(7)
        if let slash = authority.firstIndex(of: "/") { authority = authority[..<slash] }
        var host = authority, port: UInt16 = 80
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = authority[authority.index(after: authority.startIndex)..<close]
            let rest = authority[authority.index(after: close)...]
            if rest.hasPrefix(":") {
                guard let p = UInt16(rest.dropFirst()) else { throw ClientError("the URL \(url) has an invalid port") }
                port = p
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            guard let p = UInt16(authority[authority.index(after: colon)...]) else {
                throw ClientError("the URL \(url) has an invalid port")
            }
            port = p
        }
        guard !host.isEmpty else { throw ClientError("the URL \(url) names no host") }
        self = .tcp(host: String(host), port: port)
    }

    public var description: String {
        switch self {
        case .unix(let path): return "unix:\(path)"
        case .tcp(let host, let port): return host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)"
        }
    }
}

public struct ClientError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public struct HTTPResponse: Sendable {
    public let status: Int
    /// Header names in lowercase.
    public let headers: [(name: String, value: String)]
    public let body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name == lower }?.value
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// A blocking HTTP/1.1 client connection with keep-alive. Not thread-safe: one per thread.
/// It speaks only what `probityd` needs: requests with a Content-Length body, responses with a
/// Content-Length or chunked body.
public final class HTTPConnection {
    public let endpoint: Endpoint
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []
    private var bufferStart = 0
    private var chunk = [UInt8](repeating: 0, count: 65536)
    /// Seconds a read or write may block before the request fails.
    public var timeout: Int

    public init(_ endpoint: Endpoint, timeout: Int = 120) {
        self.endpoint = endpoint
        self.timeout = timeout
    }

    deinit { close() }

    /// The Host header: the TCP authority (a TSA may serve several names), or `probityd` on a Unix socket.
    var hostHeader: String {
        switch endpoint {
        case .unix: "probityd"
        case .tcp(let host, let port): (host.contains(":") ? "[\(host)]" : host) + (port == 80 ? "" : ":\(port)")
        }
    }

    public func close() {
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
        buffer = []
        bufferStart = 0
    }

    private func connect() throws(ClientError) {
        switch endpoint {
        case .unix(let path):
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw ClientError("cannot create a socket: \(errnoText())") }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
                close()
                throw ClientError("the socket path \(path) is too long")
            }
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                raw.copyBytes(from: bytes)
                raw[bytes.count] = 0
            }
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            guard result == 0 else {
                let reason = errnoText()
                close()
                throw ClientError(
                    "cannot connect to probityd at \(path): \(reason); is the daemon running, and may you use its socket?"
                )
            }
        case .tcp(let host, let port):
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
                throw ClientError("cannot resolve \(host)")
            }
            defer { freeaddrinfo(list) }
            var lastError = "no address"
            var info: UnsafeMutablePointer<addrinfo>? = first
            while let current = info {
                fd = socket(current.pointee.ai_family, current.pointee.ai_socktype, current.pointee.ai_protocol)
                if fd >= 0, Glibc.connect(fd, current.pointee.ai_addr, current.pointee.ai_addrlen) == 0 {
                    var one: Int32 = 1
                    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                    break
                }
                lastError = errnoText()
                close()
                info = current.pointee.ai_next
            }
            guard fd >= 0 else { throw ClientError("cannot connect to probityd at \(host):\(port): \(lastError)") }
        }
        var time = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends one request and reads its response. A kept-alive connection the server has closed since
    /// the last request is re-opened once, before anything of the new request was answered.
    public func request(
        _ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8]? = nil
    ) throws(ClientError) -> HTTPResponse {
        let reused = fd >= 0
        if !reused { try connect() }
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(hostHeader)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let declared = headers.contains { $0.0.lowercased() == "content-length" }
        if declared {
            // the caller declares the length (tests of oversized bodies)
        } else if let body {
            head += "Content-Length: \(body.count)\r\n"
        } else if method == "POST" || method == "PUT" {
            head += "Content-Length: 0\r\n"
        }
        head += "\r\n"
        do {
            try write(Array(head.utf8) + (body ?? []))
            return try readResponse(head: method == "HEAD")
        } catch let error as ConnectionClosed {
            close()
            // The server may close an idle keep-alive connection; only then is a retry safe.
            guard reused, error.beforeResponse else {
                throw ClientError("the connection to probityd at \(endpoint) was closed: \(error.reason)")
            }
            return try request(method, target, headers: headers, body: body)
        } catch let error as ClientError {
            close()
            throw error
        } catch {
            close()
            throw ClientError("\(error)")
        }
    }

    private struct ConnectionClosed: Error {
        let reason: String
        let beforeResponse: Bool
    }

    private func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes {
                send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw ConnectionClosed(reason: errnoText(), beforeResponse: true)
            }
            offset += n
        }
    }

    /// Reads more bytes into the buffer; false at end of stream.
    private func fill() throws -> Bool {
        if bufferStart > 0 && bufferStart == buffer.count { buffer.removeAll(keepingCapacity: true); bufferStart = 0 }
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    throw ClientError("probityd at \(endpoint) did not answer within \(timeout) s")
                }
                throw ConnectionClosed(reason: errnoText(), beforeResponse: buffer.count == bufferStart)
            }
            if n == 0 { return false }
            buffer.append(contentsOf: chunk[0..<n])
            return true
        }
    }

    private func readLine(beforeResponse: Bool) throws -> String {
        while true {
            if let end = buffer[bufferStart...].firstIndex(of: 0x0A) {
                var line = buffer[bufferStart..<end]
                if line.last == 0x0D { line = line.dropLast() }
                bufferStart = end + 1
                return String(decoding: line, as: UTF8.self)
            }
            guard try fill() else {
                throw ConnectionClosed(
                    reason: "end of stream", beforeResponse: beforeResponse && buffer.count == bufferStart)
            }
        }
    }

    private func readBytes(_ count: Int) throws -> [UInt8] {
        while buffer.count - bufferStart < count {
            guard try fill() else { throw ClientError("probityd closed the connection in the middle of a response") }
        }
        defer { bufferStart += count }
        return Array(buffer[bufferStart..<(bufferStart + count)])
    }

    private func readResponse(head: Bool) throws -> HTTPResponse {
        let statusLine = try readLine(beforeResponse: true)
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw ClientError("probityd sent an invalid status line: \(statusLine.prefix(80))")
        }
        var headers: [(String, String)] = []
        while true {
            let line = try readLine(beforeResponse: false)
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else {
                throw ClientError("probityd sent an invalid header line: \(line.prefix(80))")
            }
            headers.append(
                (line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingOptionalWhitespace()))
        }
        let response = { (body: [UInt8]) in
            HTTPResponse(status: status, headers: headers.map { (name: $0.0, value: $0.1) }, body: body)
        }
        let value = { (name: String) in headers.first { $0.0 == name }?.1 }
        var body: [UInt8] = []
        if head || status == 204 || status == 304 || (100..<200).contains(status) {
            // no body
        } else if value("transfer-encoding")?.lowercased().contains("chunked") == true {
            while true {
                let sizeLine = try readLine(beforeResponse: false)
                guard let size = Int(sizeLine.split(separator: ";")[0].trimmingOptionalWhitespace(), radix: 16) else {
                    throw ClientError("probityd sent an invalid chunk size: \(sizeLine.prefix(40))")
                }
                if size == 0 {
                    while try !readLine(beforeResponse: false).isEmpty {}
                    break
                }
                body += try readBytes(size)
                _ = try readLine(beforeResponse: false)
            }
        } else if let length = value("content-length") {
            guard let count = Int(length), count >= 0 else {
                throw ClientError("probityd sent an invalid Content-Length: \(length)")
            }
            body = try readBytes(count)
        } else {
            while try fill() {}
            body = Array(buffer[bufferStart...])
            bufferStart = buffer.count
            close()
        }
        if value("connection")?.lowercased() == "close" { close() }
        return response(body)
    }
}

private func errnoText() -> String { String(cString: strerror(errno)) }

extension Substring {
    /// Without the optional whitespace (spaces and tabs, RFC 9110 §5.6.3) around a header value or chunk size.
    fileprivate func trimmingOptionalWhitespace() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
