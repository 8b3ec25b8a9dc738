import Foundation
public import ProbityCapture
public import ProbityLog
public import ProbityPostgres
import TOMLKit

/// Everything `probityd` can be told, from its TOML file (`--config`) and then its flags.
public struct DaemonSettings: Sendable, Equatable {
    /// The SQLite store.
    public var storePath = "/var/lib/probity/log.sqlite"
    /// A PostgreSQL store instead (`postgres://USER@HOST:PORT/DATABASE`, docs/POSTGRES.md): several
    /// probityd may serve it, one writes, the others wait for the lead.
    public var storeURL: String?
    /// The log's origin. Needed to create a missing store; checked against an existing one.
    public var origin: String?
    /// The Ed25519 PEM signing key, as a file …
    public var keyFile: String?
    /// … or as a systemd credential name, read from `$CREDENTIALS_DIRECTORY/<name>` (`LoadCredential=`).
    /// With neither, the key recorded by `probity init` is used.
    public var keyCredential: String?
    public var socketPath = "/run/probity/probityd.sock"
    /// `HOST:PORT` of an optional TCP listener; off by default.
    public var tcp: String?
    /// A TCP listener on anything but loopback must be asked for explicitly (the API has no TLS).
    public var allowNonLoopback = false
    /// Largest request body accepted; larger ones get 413 before they are read.
    public var maxBodyBytes = 4 << 20
    /// Most events in one request.
    public var maxBatchEvents = 1_000
    /// Open connections per listener; more get 503 and are closed (see `ConnectionLimits`).
    public var maxConnections = 512
    /// Seconds a connection may take to send a request's head (and may stay idle between requests).
    public var headerTimeoutSeconds = 10
    /// Seconds a request's body may take once its head arrived.
    public var bodyTimeoutSeconds = 60
    /// Group commit: how long to wait for more appends before committing (0: commit at once; appends
    /// still group while the previous commit is being fsynced).
    public var commitWindowMilliseconds = 0.0
    /// Most events in one group commit.
    public var maxCommitEvents = 10_000
    /// RFC 3161 timestamps on a schedule: the TSA's URL (off when nil), the CA its certificate must chain
    /// to, and the minutes between two timestamps (taken only when the log grew).
    public var tsaURL: String?
    public var tsaCAFile: String?
    public var timestampIntervalMinutes = 60
    /// Where the C2SP tlog-tiles API is served on every listener (a token that may read entries needed) …
    public var tilesPrefix = "/tlog"
    /// … and `HOST:PORT` of a listener that serves only that API, to anyone (off when nil).
    public var tilesListen: String?
    /// Witnesses the daemon sends its checkpoints to: each `URL VKEY` (the add-checkpoint prefix and the
    /// witness's cosignature/v1 key).
    public var witnesses: [String] = []
    /// How many of them must cosign a checkpoint for it to count as witnessed (default: all).
    public var witnessQuorum: Int?
    /// Longest wait of `?witnessed=1` for a witnessed checkpoint.
    public var witnessWaitSeconds = 10
    /// Least time between two rounds of requests to the witnesses.
    public var witnessIntervalMilliseconds = 1000

    /// `[console] session_minutes`: a console session ends after this long without a request.
    public var consoleSessionMinutes = 30

    /// `[[capture]]`: Maildirs and drop folders recorded as they fill (docs/CAPTURE.md).
    public var captures: [CaptureSource] = []

    public init() {}

    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public let message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    /// The TOML keys, by section, with the setting each one sets.
    private typealias Setter =
        @Sendable (inout DaemonSettings, any TOMLValueConvertible, String) throws(Invalid) -> Void
    private static let keys: [String: [String: Setter]] = [
        "store": [
            "path": { s, v, k throws(Invalid) in s.storePath = try string(v, k) },
            "url": { s, v, k throws(Invalid) in s.storeURL = try string(v, k) },
            "origin": { s, v, k throws(Invalid) in s.origin = try string(v, k) },
        ],
        "signing": [
            "key_file": { s, v, k throws(Invalid) in s.keyFile = try string(v, k) },
            "key_credential": { s, v, k throws(Invalid) in s.keyCredential = try string(v, k) },
        ],
        "listen": [
            "socket": { s, v, k throws(Invalid) in s.socketPath = try string(v, k) },
            "tcp": { s, v, k throws(Invalid) in s.tcp = try string(v, k) },
            "allow_non_loopback": { s, v, k throws(Invalid) in
                guard let b = v.bool else { throw Invalid("\(k): must be true or false, got \(v.type)") }
                s.allowNonLoopback = b
            },
        ],
        "limits": [
            "max_body_bytes": { s, v, k throws(Invalid) in s.maxBodyBytes = try int(v, k) },
            "max_batch_events": { s, v, k throws(Invalid) in s.maxBatchEvents = try int(v, k) },
            "max_connections": { s, v, k throws(Invalid) in s.maxConnections = try int(v, k) },
            "header_timeout_seconds": { s, v, k throws(Invalid) in s.headerTimeoutSeconds = try int(v, k) },
            "body_timeout_seconds": { s, v, k throws(Invalid) in s.bodyTimeoutSeconds = try int(v, k) },
        ],
        "timestamp": [
            "tsa_url": { s, v, k throws(Invalid) in s.tsaURL = try string(v, k) },
            "ca_file": { s, v, k throws(Invalid) in s.tsaCAFile = try string(v, k) },
            "interval_minutes": { s, v, k throws(Invalid) in s.timestampIntervalMinutes = try int(v, k) },
        ],
        "tiles": [
            "prefix": { s, v, k throws(Invalid) in s.tilesPrefix = try string(v, k) },
            "listen": { s, v, k throws(Invalid) in s.tilesListen = try string(v, k) },
        ],
        "witness": [
            "witnesses": { s, v, k throws(Invalid) in
                guard let array = v.array else { throw Invalid("\(k): must be an array of \"URL VKEY\" strings") }
                s.witnesses = try array.map { element throws(Invalid) in
                    guard let text = element.string else {
                        throw Invalid("\(k): must be an array of \"URL VKEY\" strings, got \(element.type)")
                    }
                    return text
                }
            },
            "quorum": { s, v, k throws(Invalid) in s.witnessQuorum = try int(v, k) },
            "wait_seconds": { s, v, k throws(Invalid) in s.witnessWaitSeconds = try int(v, k) },
            "interval_ms": { s, v, k throws(Invalid) in s.witnessIntervalMilliseconds = try int(v, k) },
        ],
        "console": [
            "session_minutes": { s, v, k throws(Invalid) in s.consoleSessionMinutes = try int(v, k) }
        ],
        "commit": [
            "window_ms": { s, v, k throws(Invalid) in
                guard let d = v.double ?? v.int.map(Double.init) else {
                    throw Invalid("\(k): must be a number of milliseconds, got \(v.type)")
                }
                s.commitWindowMilliseconds = d
            },
            "max_events": { s, v, k throws(Invalid) in s.maxCommitEvents = try int(v, k) },
        ],
    ]

    private static func string(_ value: any TOMLValueConvertible, _ key: String) throws(Invalid) -> String {
        guard let s = value.string else { throw Invalid("\(key): must be a string, got \(value.type)") }
        return s
    }

    private static func int(_ value: any TOMLValueConvertible, _ key: String) throws(Invalid) -> Int {
        guard let i = value.int else { throw Invalid("\(key): must be an integer, got \(value.type)") }
        return i
    }

    /// Applies a TOML configuration file's settings. Unknown sections and keys are errors: a typo must
    /// not silently leave a default in place.
    public mutating func apply(toml text: String, file: String) throws(Invalid) {
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw Invalid("\(file):\(error.source.begin.line):\(error.source.begin.column): \(error.description)")
        } catch {
            throw Invalid("\(file): \(error)")
        }
        for section in table.keys.sorted() {
            if section == "capture" {
                try applyCaptures(table[section]!, file: file)
                continue
            }
            guard let setters = Self.keys[section] else {
                throw Invalid(
                    "\(file): unknown section [\(section)]; the sections are \(Self.keys.keys.sorted().map { "[\($0)]" }.joined(separator: ", ")) and [[capture]]"
                )
            }
            guard let values = table[section]?.table else {
                throw Invalid("\(file): \(section) must be a section ([\(section)])")
            }
            for key in values.keys.sorted() {
                guard let set = setters[key] else {
                    throw Invalid(
                        "\(file): unknown key \(section).\(key); [\(section)] has \(setters.keys.sorted().joined(separator: ", "))"
                    )
                }
                do { try set(&self, values[key]!, "\(section).\(key)") } catch {
                    throw Invalid("\(file): \(error.message)")
                }
            }
        }
    }

    /// The keys of a `[[capture]]` section.
    private static let captureKeys:
        [String: @Sendable (inout CaptureSource, any TOMLValueConvertible, String) throws(Invalid) -> Void] = [
            "name": { c, v, k throws(Invalid) in c.name = try string(v, k) },
            "kind": { c, v, k throws(Invalid) in
                guard let kind = CaptureSource.Kind(rawValue: try string(v, k)) else {
                    throw Invalid("\(k): must be \"maildir\" or \"drop\"")
                }
                c.kind = kind
            },
            "path": { c, v, k throws(Invalid) in c.directory = try string(v, k) },
            "mapping": { c, v, k throws(Invalid) in c.mapping = try string(v, k) },
            "register": { c, v, k throws(Invalid) in c.register = try string(v, k) },
            "procedure": { c, v, k throws(Invalid) in c.tagging.procedure = try string(v, k) },
            "reference": { c, v, k throws(Invalid) in
                let pattern = try string(v, k)
                c.tagging.reference = pattern.isEmpty ? nil : pattern
            },
            "by_thread": { c, v, k throws(Invalid) in c.tagging.byThread = try bool(v, k) },
            "by_candidacy": { c, v, k throws(Invalid) in c.tagging.byCandidacy = try bool(v, k) },
            "rescan_seconds": { c, v, k throws(Invalid) in c.rescan = .seconds(try int(v, k)) },
            "settle_seconds": { c, v, k throws(Invalid) in c.settle = .seconds(try int(v, k)) },
            "max_raw_bytes": { c, v, k throws(Invalid) in c.maxRawBytes = try int(v, k) },
        ]

    private static func bool(_ value: any TOMLValueConvertible, _ key: String) throws(Invalid) -> Bool {
        guard let b = value.bool else { throw Invalid("\(key): must be true or false, got \(value.type)") }
        return b
    }

    private mutating func applyCaptures(_ value: any TOMLValueConvertible, file: String) throws(Invalid) {
        guard let sections = value.array else {
            throw Invalid("\(file): capture must be an array of tables ([[capture]], one per folder)")
        }
        for (index, element) in sections.enumerated() {
            guard let table = element.table else { throw Invalid("\(file): capture[\(index)] must be a table") }
            var source = CaptureSource(name: "", kind: .maildir, directory: "")
            for key in table.keys.sorted() {
                guard let set = Self.captureKeys[key] else {
                    throw Invalid(
                        "\(file): unknown key capture[\(index)].\(key); [[capture]] has \(Self.captureKeys.keys.sorted().joined(separator: ", "))"
                    )
                }
                do { try set(&source, table[key]!, "capture[\(index)].\(key)") } catch {
                    throw Invalid("\(file): \(error.message)")
                }
            }
            if source.name.isEmpty { source.name = URL(fileURLWithPath: source.directory).lastPathComponent }
            captures.append(source)
        }
    }

    /// Sets the store from `--store`: a `postgres://` URL, or the path of a SQLite file.
    public mutating func setStore(_ text: String) {
        if PostgresLocation.isURL(text) { storeURL = text } else { storePath = text; storeURL = nil }
    }

    /// The PostgreSQL store, if `store.url` names one.
    public func postgresLocation() throws(Invalid) -> PostgresLocation? {
        guard let storeURL else { return nil }
        do { return try PostgresLocation(parsing: storeURL) } catch { throw Invalid("store.url: \(error.message)") }
    }

    /// Checks the values together; the message names the setting (as its TOML key) and what is wrong.
    public func validate() throws(Invalid) {
        guard !storePath.isEmpty else { throw Invalid("store.path: must not be empty") }
        if try postgresLocation() != nil, !captures.isEmpty {
            // The capture ledger is a table of the SQLite store (docs/POSTGRES.md).
            throw Invalid(
                "[[capture]] is not available with a PostgreSQL store (store.url) yet: run capture on a SQLite store, or leave it out (docs/POSTGRES.md)"
            )
        }
        if let origin,
            origin.isEmpty
                || origin.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0 == "+" || $0.value < 0x20 })
        {
            throw Invalid(
                "store.origin: must be non-empty, without spaces or '+' (e.g. achats.ville-exemple.fr/probity)")
        }
        if keyFile != nil && keyCredential != nil {
            throw Invalid("signing.key_file and signing.key_credential are both set; give the key one way only")
        }
        if let name = keyCredential, name.isEmpty || name.contains("/") {
            throw Invalid(
                "signing.key_credential: must be a credential name as in LoadCredential=NAME:PATH, got \"\(name)\"")
        }
        guard !socketPath.isEmpty else { throw Invalid("listen.socket: must not be empty") }
        if let tsaURL, !tsaURL.hasPrefix("http://") {
            throw Invalid(
                "timestamp.tsa_url: must be an http:// URL (RFC 3161 over HTTP, as TSAs serve it), got \(tsaURL)")
        }
        if tsaCAFile != nil, tsaURL == nil { throw Invalid("timestamp.ca_file is set but timestamp.tsa_url is not") }
        guard (1...10_080).contains(timestampIntervalMinutes) else {
            throw Invalid(
                "timestamp.interval_minutes: must be between 1 and 10080 (a week), got \(timestampIntervalMinutes)")
        }
        guard socketPath.utf8.count < 108 else {
            throw Invalid("listen.socket: \(socketPath) is longer than a Unix socket path may be (107 bytes)")
        }
        if let tcp { _ = try tcpAddress(tcp) }
        if let tilesListen { _ = try tcpAddress(tilesListen, key: "tiles.listen") }
        _ = try witnessPolicy()
        guard (1...1440).contains(consoleSessionMinutes) else {
            throw Invalid("console.session_minutes: must be between 1 and 1440 (a day), got \(consoleSessionMinutes)")
        }
        for (index, capture) in captures.enumerated() {
            guard !capture.directory.isEmpty else { throw Invalid("capture[\(index)].path: must be set") }
            guard capture.rescan >= .seconds(1), capture.maxRawBytes > 0, capture.settle >= .zero else {
                throw Invalid(
                    "capture[\(index)]: rescan_seconds must be at least 1, max_raw_bytes positive, settle_seconds not negative"
                )
            }
            do { try capture.check() } catch { throw Invalid("capture[\(index)] (\(capture.name)): \(error.message)") }
            if captures[..<index].contains(where: { $0.name == capture.name }) {
                throw Invalid("capture[\(index)].name: \(capture.name) is used twice; give each capture its own name")
            }
        }
        let reserved = ["/v1", "/healthz", "/metrics"]
        guard tilesPrefix.hasPrefix("/"), tilesPrefix.count > 1, !tilesPrefix.hasSuffix("/"),
            !tilesPrefix.contains(where: { $0 == " " || $0 == "?" || $0 == "#" || $0 == "*" || $0 == ":" }),
            !reserved.contains(where: { tilesPrefix == $0 || tilesPrefix.hasPrefix($0 + "/") })
        else {
            throw Invalid(
                "tiles.prefix: must be a path such as /tlog (a leading slash, no trailing one, not under /v1, /healthz or /metrics), got \"\(tilesPrefix)\""
            )
        }
        guard maxBodyBytes >= 1024 else {
            throw Invalid("limits.max_body_bytes: must be at least 1024, got \(maxBodyBytes)")
        }
        guard maxBatchEvents >= 1 else {
            throw Invalid("limits.max_batch_events: must be at least 1, got \(maxBatchEvents)")
        }
        guard (1...16_384).contains(maxConnections) else {
            throw Invalid(
                "limits.max_connections: must be between 1 and 16384 (and below the unit's LimitNOFILE), got \(maxConnections)"
            )
        }
        guard (1...3600).contains(headerTimeoutSeconds) else {
            throw Invalid("limits.header_timeout_seconds: must be between 1 and 3600, got \(headerTimeoutSeconds)")
        }
        guard (1...3600).contains(bodyTimeoutSeconds) else {
            throw Invalid("limits.body_timeout_seconds: must be between 1 and 3600, got \(bodyTimeoutSeconds)")
        }
        guard commitWindowMilliseconds >= 0, commitWindowMilliseconds <= 1000 else {
            throw Invalid("commit.window_ms: must be between 0 and 1000, got \(commitWindowMilliseconds)")
        }
        guard maxCommitEvents >= maxBatchEvents else {
            throw Invalid(
                "commit.max_events: must be at least limits.max_batch_events (\(maxBatchEvents)), got \(maxCommitEvents)"
            )
        }
    }

    /// The witnesses and the quorum, checked: nil when no witness is configured.
    public func witnessPolicy() throws(Invalid) -> WitnessPolicy? {
        guard !witnesses.isEmpty else {
            if witnessQuorum != nil { throw Invalid("witness.quorum is set but witness.witnesses is empty") }
            return nil
        }
        var parsed: [WitnessPolicy.Witness] = []
        for (index, text) in witnesses.enumerated() {
            let fields = text.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count == 2, fields[0].hasPrefix("http://") else {
                throw Invalid(
                    "witness.witnesses[\(index)]: must be \"URL VKEY\" (http://host:port/prefix and the witness's key), got \"\(text)\""
                )
            }
            let key: CosignatureVerifier
            do { key = try CosignatureVerifier(String(fields[1])) } catch {
                throw Invalid("witness.witnesses[\(index)]: the key is not a witness key: \(error.message)")
            }
            guard !parsed.contains(where: { $0.key == key }) else {
                throw Invalid("witness.witnesses[\(index)]: \(key.name) is listed twice")
            }
            var url = String(fields[0])
            while url.hasSuffix("/") { url.removeLast() }
            parsed.append(.init(url: url, key: key))
        }
        let quorum = witnessQuorum ?? parsed.count
        guard (1...parsed.count).contains(quorum) else {
            throw Invalid("witness.quorum: must be between 1 and the \(parsed.count) witnesses, got \(quorum)")
        }
        guard (1...3600).contains(witnessWaitSeconds) else {
            throw Invalid("witness.wait_seconds: must be between 1 and 3600, got \(witnessWaitSeconds)")
        }
        guard (100...3_600_000).contains(witnessIntervalMilliseconds) else {
            throw Invalid("witness.interval_ms: must be between 100 and 3600000, got \(witnessIntervalMilliseconds)")
        }
        return WitnessPolicy(
            witnesses: parsed, quorum: quorum, wait: .seconds(witnessWaitSeconds),
            interval: .milliseconds(witnessIntervalMilliseconds))
    }

    /// Parses `HOST:PORT` (`[v6]:PORT` for IPv6), refusing non-loopback hosts unless allowed.
    public func tcpAddress(_ text: String, key: String = "listen.tcp") throws(Invalid) -> (host: String, port: Int) {
        var host: Substring, portText: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") {
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else if let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        } else {
            throw Invalid("\(key): must be HOST:PORT (e.g. 127.0.0.1:8787), got \"\(text)\"")
        }
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw Invalid("\(key): the port must be 1–65535, got \"\(portText)\"")
        }
        guard !host.isEmpty else { throw Invalid("\(key): no host in \"\(text)\"") }
        let loopback = host == "localhost" || host == "::1" || host.hasPrefix("127.")
        guard loopback || allowNonLoopback else {
            throw Invalid(
                "\(key): \(host) is not a loopback address; the API has no TLS, so set listen.allow_non_loopback = true (--allow-non-loopback) only behind a TLS proxy"
            )
        }
        return (String(host), port)
    }

    /// The settings as a TOML document, as `probityd --print-config` shows them.
    public var tomlDescription: String {
        func quoted(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        var lines = ["[store]", "path = \(quoted(storePath))"]
        if let storeURL { lines.append("url = \(quoted(storeURL))") }
        if let origin { lines.append("origin = \(quoted(origin))") }
        lines += ["", "[signing]"]
        if let keyFile { lines.append("key_file = \(quoted(keyFile))") }
        if let keyCredential { lines.append("key_credential = \(quoted(keyCredential))") }
        lines += ["", "[listen]", "socket = \(quoted(socketPath))"]
        if let tcp { lines.append("tcp = \(quoted(tcp))") }
        lines += [
            "allow_non_loopback = \(allowNonLoopback)", "", "[limits]", "max_body_bytes = \(maxBodyBytes)",
            "max_batch_events = \(maxBatchEvents)", "max_connections = \(maxConnections)",
            "header_timeout_seconds = \(headerTimeoutSeconds)", "body_timeout_seconds = \(bodyTimeoutSeconds)", "",
            "[commit]", "window_ms = \(commitWindowMilliseconds)", "max_events = \(maxCommitEvents)",
            "", "[timestamp]",
        ]
        if let tsaURL { lines.append("tsa_url = \(quoted(tsaURL))") }
        if let tsaCAFile { lines.append("ca_file = \(quoted(tsaCAFile))") }
        lines.append("interval_minutes = \(timestampIntervalMinutes)")
        lines += ["", "[tiles]", "prefix = \(quoted(tilesPrefix))"]
        if let tilesListen { lines.append("listen = \(quoted(tilesListen))") }
        lines += ["", "[witness]", "witnesses = [\(witnesses.map(quoted).joined(separator: ", "))]"]
        if let witnessQuorum { lines.append("quorum = \(witnessQuorum)") }
        lines += ["wait_seconds = \(witnessWaitSeconds)", "interval_ms = \(witnessIntervalMilliseconds)"]
        lines += ["", "[console]", "session_minutes = \(consoleSessionMinutes)"]
        for capture in captures {
            lines += [
                "", "[[capture]]", "name = \(quoted(capture.name))", "kind = \(quoted(capture.kind.rawValue))",
                "path = \(quoted(capture.directory))",
            ]
            if let mapping = capture.mapping { lines.append("mapping = \(quoted(mapping))") }
            if let register = capture.register { lines.append("register = \(quoted(register))") }
            if let procedure = capture.tagging.procedure { lines.append("procedure = \(quoted(procedure))") }
            lines += [
                "reference = \(quoted(capture.tagging.reference ?? ""))", "by_thread = \(capture.tagging.byThread)",
                "by_candidacy = \(capture.tagging.byCandidacy)",
                "rescan_seconds = \(capture.rescan.components.seconds)",
                "settle_seconds = \(capture.settle.components.seconds)", "max_raw_bytes = \(capture.maxRawBytes)",
            ]
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
