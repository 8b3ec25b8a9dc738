// swift-tools-version:6.1
import PackageDescription

/// One executable per parser that takes outside bytes: name, directory under Sources/Fuzz, dependencies.
let fuzzTargets: [Target] = [
    ("fuzz-json", "JSON", ["ProbityCore"]), ("fuzz-event", "Event", ["ProbityCore"]), ("fuzz-note", "Note", ["ProbityCore"]),
    ("fuzz-zip", "Zip", ["ProbityZip"]), ("fuzz-email", "Email", ["ProbityImport"]), ("fuzz-csv", "CSV", ["ProbityImport"]),
    ("fuzz-exports", "Exports", ["ProbityImport"]), ("fuzz-query", "Query", ["ProbityCore"]),
].map { name, directory, dependencies in
    .executableTarget(name: name, dependencies: ["FuzzSupport"] + dependencies.map { .target(name: $0) }, path: "Sources/Fuzz/\(directory)",
                      swiftSettings: [.unsafeFlags(["-parse-as-library"])])
}

let package = Package(
    name: "Probity",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "probity", targets: ["probity"]),
        .executable(name: "probityd", targets: ["probityd"]),
        .library(name: "ProbityCore", targets: ["ProbityCore"]),
        .library(name: "ProbityStore", targets: ["ProbityStore"]),
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
    ],
    targets: [
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(name: "ProbityCore", dependencies: ["COpenSSL"]),
        .target(
            name: "ProbityStore",
            dependencies: [
                "ProbityCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        // The daemon's library: HTTP API, group commit, access control, systemd integration.
        .target(
            name: "ProbityServer",
            dependencies: [
                "ProbityCore", "ProbityStore", "ProbityExport", "ProbityClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),
        // Readers of platform exports (pure: bytes in, messages and per-record rejections out).
        .target(name: "ProbityImport", dependencies: ["ProbityCore"]),
        // The one ZIP form evidence bundles use: a writer, and a reader that refuses every other form (pure).
        .target(name: "ProbityZip", dependencies: ["ProbityCore"]),
        // Timelines and evidence bundles: pure renderers and verifier, and the store reads they need.
        .target(name: "ProbityExport", dependencies: ["ProbityCore", "ProbityStore", "ProbityZip"]),
        // A small blocking HTTP/1.1 client for the CLI, the tests and the benchmark (Unix socket or TCP).
        .target(name: "ProbityClient", dependencies: ["ProbityCore"]),
        .executableTarget(
            name: "probityd",
            dependencies: [
                "ProbityServer", "ProbityStore", "ProbityCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "probity",
            dependencies: [
                "ProbityCore", "ProbityStore", "ProbityClient", "ProbityImport", "ProbityExport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "BenchSupport", dependencies: ["ProbityCore"]),
        .executableTarget(name: "probity-bench", dependencies: ["ProbityCore", "ProbityStore", "ProbityClient", "BenchSupport"], path: "Sources/probity-bench"),
        .executableTarget(name: "probity-domain-bench", dependencies: ["ProbityCore", "ProbityStore", "ProbityImport", "BenchSupport"], path: "Sources/probity-domain-bench"),
        .executableTarget(name: "probityd-bench", dependencies: ["ProbityCore", "ProbityStore", "ProbityClient", "BenchSupport"], path: "Sources/probityd-bench"),
        // Fuzz targets (Scripts/fuzz.sh builds them with libFuzzer; built as usual, they replay a corpus).
        .target(name: "FuzzSupport", path: "Sources/Fuzz/Support"),
    ] + fuzzTargets + [
        .testTarget(name: "ProbityCoreTests", dependencies: ["ProbityCore"]),
        .testTarget(name: "ProbityStoreTests", dependencies: ["ProbityCore", "ProbityStore"]),
        .testTarget(
            name: "ProbityCLITests",
            dependencies: [
                "ProbityCore", "ProbityStore", "ProbityClient", "ProbityExport", "ProbityZip",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]
        ),
        .testTarget(name: "ProbityImportTests", dependencies: ["ProbityCore", "ProbityImport"]),
        .testTarget(name: "ProbityServerTests", dependencies: ["ProbityCore", "ProbityStore", "ProbityServer"]),

    ]
)
