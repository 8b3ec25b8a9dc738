// swift-tools-version:6.1
import PackageDescription

// The module graph is drawn and explained in docs/ARCHITECTURE.md; Scripts/check-architecture.py holds every
// `import` in Sources/ to it. Keep the three in step.

/// As Hummingbird builds: existentials spelled `any`, members visible only from modules a file imports,
/// and imports internal unless a file says `public import` (so a module's API names what it exposes).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let grdb: [Target.Dependency] = [
    .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
]

/// One executable per parser that takes outside bytes: name, directory under Sources/Fuzz, dependencies.
let fuzzTargets: [Target] = [
    ("fuzz-json", "JSON", ["ProbityLog"]), ("fuzz-event", "Event", ["ProbityLog", "ProbityDomain"]),
    ("fuzz-note", "Note", ["ProbityLog"]), ("fuzz-zip", "Zip", ["ProbityEvidence"]),
    ("fuzz-email", "Email", ["ProbityImport"]), ("fuzz-csv", "CSV", ["ProbityImport"]),
    ("fuzz-exports", "Exports", ["ProbityImport"]), ("fuzz-query", "Query", ["ProbityLog"]),
].map { name, directory, dependencies in
    .executableTarget(
        name: name, dependencies: ["FuzzSupport"] + dependencies.map { .target(name: $0) },
        path: "Sources/Fuzz/\(directory)", swiftSettings: swiftSettings + [.unsafeFlags(["-parse-as-library"])])
}

let package = Package(
    name: "Probity",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "probity", targets: ["probity"]),
        .executable(name: "probityd", targets: ["probityd"]),
        // The libraries the benchmarks (Benchmarks/, a package of its own) are built on.
        .library(name: "ProbityLog", targets: ["ProbityLog"]),
        .library(name: "ProbityDomain", targets: ["ProbityDomain"]),
        .library(name: "ProbityStore", targets: ["ProbityStore"]),
        .library(name: "ProbityImport", targets: ["ProbityImport"]),
        .library(name: "ProbityHTTP", targets: ["ProbityHTTP"]),
        .library(name: "ProbityClient", targets: ["ProbityClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/LebJe/TOMLKit", exact: "0.6.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", exact: "0.9.20"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", exact: "2.1.1"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // glibc's malloc tuning (mallopt), for the CLI's data-parallel commands.
        .systemLibrary(name: "CMalloc"),

        // Pure layers: bytes in, values out; the clock and randomness come from the caller.
        // The log itself: canonical entries, Merkle tree, signed notes, checkpoints, proofs, the verifier.
        .target(name: "ProbityLog", dependencies: ["COpenSSL"], swiftSettings: swiftSettings),
        // The procurement domain: the event catalogue, reference rules, projections and findings.
        .target(name: "ProbityDomain", dependencies: ["ProbityLog"], swiftSettings: swiftSettings),
        // Evidence for auditors and courts: timelines, bundles (ZIP), both bundle verifiers.
        .target(
            name: "ProbityEvidence", dependencies: ["ProbityLog", "ProbityDomain"],
            resources: [.embedInCode("Resources/verify_bundle.py")], swiftSettings: swiftSettings),
        // Readers of platform exports: messages and per-record rejections out.
        .target(name: "ProbityImport", dependencies: ["ProbityLog", "ProbityDomain"], swiftSettings: swiftSettings),
        // What travels between probityd and its clients: request bodies, receipts, error bodies.
        .target(name: "ProbityWire", dependencies: ["ProbityLog", "ProbityDomain"], swiftSettings: swiftSettings),

        // I/O layers.
        // The SQLite store: schema, the single writer and its group committer, readers, evidence reads.
        .target(
            name: "ProbityStore", dependencies: ["COpenSSL", "ProbityLog", "ProbityDomain", "ProbityEvidence"] + grdb,
            swiftSettings: swiftSettings),
        // The PostgreSQL store: the same tables and commits as the SQLite store, one writer fenced by a leader row.
        .target(
            name: "ProbityPostgres",
            dependencies: [
                "ProbityLog", "ProbityDomain", "ProbityStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        // A small blocking HTTP/1.1 client (Unix socket or TCP), for the daemon client and the TSA client.
        .target(name: "ProbityHTTP", swiftSettings: swiftSettings),
        // The CLI's client of probityd's API.
        .target(
            name: "ProbityClient", dependencies: ["ProbityLog", "ProbityDomain", "ProbityWire", "ProbityHTTP"],
            swiftSettings: swiftSettings),
        // An RFC 3161 timestamp authority reached over HTTP.
        .target(name: "ProbityTSA", dependencies: ["ProbityLog", "ProbityHTTP"], swiftSettings: swiftSettings),
        // The daemon's library: HTTP API, access control, limits, systemd integration.
        .target(
            name: "ProbityServer",
            dependencies: [
                "ProbityLog", "ProbityDomain", "ProbityEvidence", "ProbityWire", "ProbityStore", "ProbityPostgres",
                "ProbityTSA", "ProbityHTTP", "ProbityCapture", "ProbityConsole",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: swiftSettings
        ),

        // The web console's pages: view models from the projections, Mustache templates and CSS in the binary.
        .target(
            name: "ProbityConsole",
            dependencies: ["ProbityLog", "ProbityDomain", .product(name: "Mustache", package: "swift-mustache")],
            resources: [
                .embedInCode("Templates/layout.mustache"), .embedInCode("Templates/signin.mustache"),
                .embedInCode("Templates/dashboard.mustache"), .embedInCode("Templates/procedures.mustache"),
                .embedInCode("Templates/procedure.mustache"), .embedInCode("Templates/error.mustache"),
                .embedInCode("Templates/entry.mustache"), .embedInCode("Templates/party.mustache"),
                .embedInCode("Static/console.css"),
                .embedInCode("Static/verify.js"), .embedInCode("Static/download.js"),
            ],
            swiftSettings: swiftSettings),

        // Live capture: Maildirs and export drop folders recorded as they fill (inotify and rescans).
        .target(
            name: "ProbityCapture",
            dependencies: ["ProbityLog", "ProbityDomain", "ProbityImport", "ProbityStore"],
            swiftSettings: swiftSettings),

        // A C2SP tlog-witness that an outside body runs: its state directory and its HTTP service.
        .target(
            name: "ProbityWitness",
            dependencies: [
                "ProbityLog", "ProbityStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // Executables.
        .executableTarget(
            name: "probityd",
            dependencies: [
                "ProbityServer", "ProbityStore", "ProbityLog",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "probity",
            dependencies: [
                "ProbityLog", "ProbityDomain", "ProbityEvidence", "ProbityImport", "ProbityWire", "ProbityStore",
                "ProbityHTTP", "ProbityClient", "ProbityTSA", "ProbityWitness", "ProbityCapture", "ProbityPostgres",
                "CMalloc",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Fuzz targets (Scripts/fuzz.sh builds them with libFuzzer; built as usual, they replay a corpus).
        .target(name: "FuzzSupport", path: "Sources/Fuzz/Support", swiftSettings: swiftSettings),
    ] + fuzzTargets + [
        // Tests: one target per module, an end-to-end target that runs the built executables, and the
        // fixtures they share.
        .target(
            name: "ProbityFixtures", dependencies: ["ProbityLog", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Tests/ProbityFixtures", swiftSettings: swiftSettings),
        .testTarget(
            name: "ProbityLogTests", dependencies: ["ProbityLog", "ProbityFixtures"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ProbityDomainTests", dependencies: ["ProbityLog", "ProbityDomain", "ProbityFixtures"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ProbityEvidenceTests",
            dependencies: ["ProbityLog", "ProbityDomain", "ProbityEvidence", "ProbityFixtures"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ProbityImportTests",
            dependencies: ["ProbityLog", "ProbityDomain", "ProbityImport", "ProbityFixtures"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ProbityWireTests",
            dependencies: ["ProbityLog", "ProbityDomain", "ProbityWire", "ProbityStore", "ProbityFixtures"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ProbityStoreTests",
            dependencies: ["ProbityLog", "ProbityDomain", "ProbityStore", "ProbityFixtures"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ProbityPostgresTests",
            dependencies: ["ProbityLog", "ProbityDomain", "ProbityStore", "ProbityPostgres", "ProbityFixtures"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ProbityCaptureTests",
            dependencies: [
                "ProbityLog", "ProbityDomain", "ProbityImport", "ProbityStore", "ProbityCapture", "ProbityFixtures",
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ProbityClientTests",
            dependencies: [
                "ProbityLog", "ProbityDomain", "ProbityWire", "ProbityHTTP", "ProbityClient", "ProbityFixtures",
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ProbityServerTests",
            dependencies: [
                "ProbityLog", "ProbityDomain", "ProbityStore", "ProbityServer", "ProbityCapture", "ProbityFixtures",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "ProbityLog", "ProbityDomain", "ProbityEvidence", "ProbityStore", "ProbityHTTP", "ProbityClient",
                "ProbityFixtures",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: swiftSettings),
    ]
)
