// swift-tools-version:6.1
import PackageDescription

// Probity's benchmarks, a package of their own so that the product's build and tests do not carry them.
// Scripts/bench.sh builds them (release) and runs them as a user would, with the CLI and the daemon.
let package = Package(
    name: "ProbityBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Probity", path: ".."),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
    ],
    targets: [
        .target(
            name: "BenchSupport",
            dependencies: [
                .product(name: "ProbityLog", package: "Probity"), .product(name: "ProbityDomain", package: "Probity"),
            ]),
        // The log: durable appends against raw SQLite, verify, proofs (in process).
        .executableTarget(
            name: "probity-bench",
            dependencies: [
                "BenchSupport", .product(name: "ProbityLog", package: "Probity"),
                .product(name: "ProbityDomain", package: "Probity"), .product(name: "ProbityStore", package: "Probity"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]),
        // The procurement domain: findings on a large procedure, a large LinkedIn import.
        .executableTarget(
            name: "probity-domain-bench",
            dependencies: [
                "BenchSupport", .product(name: "ProbityLog", package: "Probity"),
                .product(name: "ProbityDomain", package: "Probity"), .product(name: "ProbityStore", package: "Probity"),
                .product(name: "ProbityImport", package: "Probity"),
            ]),
        // probityd under load from 64 blocking clients (their threads are the load generator's own).
        .executableTarget(
            name: "probityd-bench",
            dependencies: [
                "BenchSupport", .product(name: "ProbityLog", package: "Probity"),
                .product(name: "ProbityDomain", package: "Probity"), .product(name: "ProbityStore", package: "Probity"),
                .product(name: "ProbityHTTP", package: "Probity"), .product(name: "ProbityClient", package: "Probity"),
            ]),
    ]
)
