import ProbityClient
import ProbityHTTP
import Testing

@Suite("Client")
struct ClientTests {
    @Test(
        "endpoints: unix: paths and http:// hosts with ports",
        arguments: [
            ("unix:/run/probity/probityd.sock", Endpoint.unix(path: "/run/probity/probityd.sock")),
            ("http://127.0.0.1:8787", .tcp(host: "127.0.0.1", port: 8787)),
            ("http://localhost:8787/", .tcp(host: "localhost", port: 8787)),
        ])
    func endpoints(url: String, endpoint: Endpoint) throws {
        #expect(try Endpoint(url: url) == endpoint)
    }

    @Test(
        "bad endpoints say what is wrong", arguments: ["https://127.0.0.1", "http://:80", "http://host:port", "unix:"])
    func badEndpoints(url: String) {
        #expect(throws: ClientError.self) { try Endpoint(url: url) }
    }

    @Test("an error response becomes an APIFailure with the daemon's code and message")
    func failures() {
        let body = Array(
            #"{"error":{"code":"legal_hold","message":"entry 3 is under a legal hold","field":"seq"}}"#.utf8)
        let failure = DaemonClient.failure(HTTPResponse(status: 409, headers: [], body: body))
        #expect(
            failure.status == 409 && failure.code == "legal_hold" && failure.message == "entry 3 is under a legal hold")
        let proxy = DaemonClient.failure(HTTPResponse(status: 502, headers: [], body: Array("Bad gateway".utf8)))
        #expect(proxy.code == "http_502" && proxy.message == "Bad gateway")
    }
}
