// swift-tools-version:6.0
// Viaduct's libFuzzer targets (docs/fuzzing.md). A package of its own so `-sanitize=fuzzer` never
// touches the main package's `viaduct` executable (whose `main` would clash with libFuzzer's
// driver); it uses the main package's modules by path. Build and run through Scripts/fuzz, which
// passes `-sanitize=fuzzer,address -enable-testing -parse-as-library` and a scratch path.
import PackageDescription

/// One executable per target: the product is the name Scripts/fuzz takes, the target its module.
let fuzzTargets: [(product: String, target: String)] = [
    ("ike-decode", "IKEDecode"),
    ("ike-responder", "IKEResponder"),
    ("ike-stateful", "IKEStateful"),
    ("ike-fragments", "IKEFragments"),
    ("esp-inbound", "ESPInbound"),
    ("netlink-decode", "NetlinkDecode"),
    ("topology", "TopologyLoad"),
]

let package = Package(
    name: "ViaductFuzz",
    platforms: [.macOS(.v13)],
    products: fuzzTargets.map { .executable(name: $0.product, targets: [$0.target]) },
    dependencies: [.package(name: "Viaduct", path: "..")],
    targets: [
        // The libFuzzer entry, an input reader, the two-engine harness (the one file that uses the
        // engine's internals) and the throwaway PKI.
        .target(name: "FuzzSupport", dependencies: [.product(name: "ViaductFuzzable", package: "Viaduct")]),
    ] + fuzzTargets.map {
        .executableTarget(name: $0.target, dependencies: ["FuzzSupport", .product(name: "ViaductFuzzable", package: "Viaduct")])
    },
    swiftLanguageModes: [.v6]
)
