public import ProbityHTTP
public import ProbityLog

/// An RFC 3161 Time Stamping Authority reached over HTTP (`application/timestamp-query`), as `probity
/// timestamp` and probityd's schedule use it. Every reply is checked before it is returned: the imprint
/// and nonce, the signature, and the certificate chain when a CA is given.
public struct TimestampAuthority: Sendable {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        /// `invalidURL`: the URL given is not one a TSA can be reached at (nothing was sent).
        public enum Kind: Sendable { case invalidURL, unreachable, refused, untrusted }
        public let kind: Kind
        public let message: String
        public var description: String { message }
    }

    public let url: String
    public let caPEM: String?
    public let timeout: Int
    let endpoint: Endpoint
    let path: String

    /// `url` must be `http://HOST[:PORT]/PATH`: TSAs serve RFC 3161 over plain HTTP (the token is signed).
    public init(url: String, caPEM: String?, timeout: Int = 30) throws(Failure) {
        guard url.hasPrefix("http://") else {
            throw Failure(
                kind: .invalidURL,
                message: "the TSA URL must be an http:// URL (RFC 3161 over HTTP, as TSAs serve it), got \(url)")
        }
        do { endpoint = try Endpoint(url: url) } catch { throw Failure(kind: .invalidURL, message: error.message) }
        let afterScheme = url.dropFirst(7)
        path = afterScheme.firstIndex(of: "/").map { String(afterScheme[$0...]) } ?? "/"
        self.url = url
        self.caPEM = caPEM
        self.timeout = timeout
    }

    /// A checked token dating `checkpoint` (the SHA-256 of its signed note).
    public func stamp(_ checkpoint: SignedCheckpoint) throws(Failure) -> TrustedTimestamp.Token {
        let digest = SHA256.hash(Array(checkpoint.encoded.utf8))
        let nonce = UInt64.random(in: 1...UInt64.max)
        let request: [UInt8]
        do { request = try TrustedTimestamp.request(sha256: digest, nonce: nonce) } catch {
            throw Failure(kind: .refused, message: error.message)
        }
        let connection = HTTPConnection(endpoint, timeout: timeout)
        defer { connection.close() }
        let response: HTTPResponse
        do {
            response = try connection.request(
                "POST", path,
                headers: [("Content-Type", "application/timestamp-query"), ("Accept", "application/timestamp-reply")],
                body: request)
        } catch {
            throw Failure(kind: .unreachable, message: "cannot reach the TSA at \(url): \(error.message)")
        }
        guard response.status == 200 else {
            throw Failure(
                kind: .refused,
                message: "the TSA at \(url) answered HTTP \(response.status): \(response.text.prefix(200))")
        }
        let token: TrustedTimestamp.Token
        do { token = try TrustedTimestamp.token(fromResponse: response.body) } catch {
            throw Failure(kind: .refused, message: "the TSA at \(url): \(error.message)")
        }
        do { try TrustedTimestamp.verify(tokenDER: token.der, sha256: digest, nonce: nonce, caPEM: caPEM) } catch {
            throw Failure(kind: .untrusted, message: "the TSA's token does not verify: \(error.message)")
        }
        return token
    }
}
