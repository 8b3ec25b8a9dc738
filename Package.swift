// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Probity",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "probity", targets: ["probity"]),
        .library(name: "ProbityCore", targets: ["ProbityCore"]),
        .library(name: "ProbityStore", targets: ["ProbityStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
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
        .executableTarget(
            name: "probity",
            dependencies: [
                "ProbityCore", "ProbityStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "probity-bench", dependencies: ["ProbityCore", "ProbityStore"], path: "Sources/probity-bench"),
        .testTarget(name: "ProbityCoreTests", dependencies: ["ProbityCore"]),
        .testTarget(name: "ProbityStoreTests", dependencies: ["ProbityCore", "ProbityStore"]),
        .testTarget(
            name: "ProbityCLITests",
            dependencies: ["ProbityCore", "ProbityStore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
    ]
)
