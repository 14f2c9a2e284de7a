// swift-tools-version:6.0
// Viaduct: route-based IPsec tunnel controller. Layers (see docs/architecture.md):
//   C shims  ->  pure core (no I/O)  ->  I/O shell  ->  tools (lab, bench, flood)  ->  the `viaduct` app.
import PackageDescription

// The packet path (ESP, the userspace data plane) runs without dynamic exclusivity checks in
// release builds: they were ~2.5 % of the data plane's CPU (swift_beginAccess per class-property
// access on every packet). Static checks stay, and debug builds (the tests) keep the dynamic ones.
let packetPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "Viaduct",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "viaduct", targets: ["viaduct"]),
        // For the fuzz package (Fuzz/Package.swift depends on this one by path): the pure core and
        // the packet path its targets drive. Nothing else uses it.
        .library(name: "ViaductFuzzable", targets: [
            "NetTypes", "CryptoCore", "ViaductCrypto", "PKI", "IKEv2", "ESP", "Dataplane", "KernelModel", "Topology",
        ]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // ML-KEM (FIPS 203) for post-quantum key exchange: Debian 12's OpenSSL 3.0 has none.
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        // C: thin shims, no logic.
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CMnl", pkgConfig: "libmnl", providers: [.apt(["libmnl-dev"])]),
        // libnftables: `mss-clamp` on the kernel data plane, in Viaduct's own nftables table.
        .systemLibrary(name: "CNftables", pkgConfig: "libnftables", providers: [.apt(["libnftables-dev"])]),
        // Debian's libyaml, so its security fixes reach the gateway: the binary links libyaml-0-2.
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        // Every Linux macro and syscall shim Swift cannot call directly; only `System` imports it.
        .target(name: "CSystem"),

        // Pure core: no sockets, no clocks, no global randomness.
        // NetTypes: the vocabulary every layer shares (addresses, prefixes, SPIs, TunnelID).
        .target(name: "NetTypes"),
        // Topology parses YAML with libyaml's event parser, from a string: no files, no I/O.
        .target(name: "Topology", dependencies: ["NetTypes", "CryptoCore", "CYAML"]),
        .target(name: "CryptoCore"),
        .target(name: "IKEv2", dependencies: ["NetTypes", "CryptoCore"]),
        .target(name: "ESP", dependencies: ["NetTypes", "CryptoCore"], swiftSettings: packetPath),
        .target(name: "KernelModel", dependencies: ["NetTypes"]),
        .target(name: "Reconciler", dependencies: ["KernelModel", "Topology"]),

        // I/O shell. `System` is the one door to the OS: descriptors, errno, threads, namespaces,
        // TUN, signals, the XFRM socket bypass.
        .target(name: "System", dependencies: ["CSystem"]),
        // Reads topology files for the pure Topology target (TopologyLoader.load(file:)).
        .target(name: "TopologyFiles", dependencies: ["Topology"]),
        // OpenSSL primitives: ciphers, MACs, PRFs, key exchanges, random source (the packet path links only these);
        // ML-KEM from swift-crypto (BoringSSL).
        // (ViaductCrypto, in Sources/Crypto: swift-crypto's module is Crypto, and SwiftPM's module
        // aliases do not hold when this package is a dependency, as of the Fuzz package.)
        .target(name: "ViaductCrypto", dependencies: [
            "CryptoCore", "COpenSSL", .product(name: "Crypto", package: "swift-crypto"),
        ], path: "Sources/Crypto"),
        // X.509 and IKE AUTH: certificates, CRLs, trust store, validator, keys and signatures, PKI files and issuer.
        .target(name: "PKI", dependencies: ["ViaductCrypto", "CryptoCore", "COpenSSL", "System"]),
        // What both data planes share with the daemon: the `DataplaneBackend` protocol, Child SA
        // counters and their error type.
        .target(name: "DataplaneContract", dependencies: ["NetTypes", "IKEv2", "Topology", "System"]),
        // The kernel data plane: the netlink socket (libmnl batches), dumps and monitors, the
        // reconciler's executor, and the XFRM SA installer.
        .target(name: "KernelDataplane", dependencies: [
            "NetTypes", "KernelModel", "Reconciler", "Topology", "CMnl", "CNftables", "System", "DataplaneContract", "IKEv2", "CryptoCore",
        ]),
        // The userspace data plane: TUN devices and the ESP-in-UDP pipeline. No netlink.
        .target(name: "Dataplane", dependencies: ["NetTypes", "ESP", "IKEv2", "ViaductCrypto", "CryptoCore", "System", "DataplaneContract", "Topology"],
                swiftSettings: packetPath),
        .target(name: "Daemon", dependencies: [
            "NetTypes", "IKEv2", "ViaductCrypto", "PKI", "CryptoCore", "Topology", "TopologyFiles", "System", "DataplaneContract", "Dataplane",
            "KernelDataplane", "KernelModel", "Reconciler", "ESP",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),

        // Tools: the namespace lab, benchmarks and the flood generator; not in the daemon.
        .target(name: "Tools", dependencies: ["Daemon", "IKEv2", "ViaductCrypto", "PKI", "CryptoCore", "ESP", "Dataplane", "KernelDataplane", "KernelModel", "Reconciler", "System", "Topology", "TopologyFiles"]),

        // App.
        // `git describe` of the checkout, for --version, the first log line, status and metrics.
        .plugin(name: "BuildVersion", capability: .buildTool()),
        .executableTarget(name: "viaduct", dependencies: [
            "NetTypes", "Topology", "TopologyFiles", "ViaductCrypto", "PKI", "CryptoCore", "ESP", "DataplaneContract", "Dataplane", "KernelDataplane",
            "Daemon", "KernelModel", "Reconciler", "System", "Tools",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], plugins: ["BuildVersion"]),

        // Shared by the test targets only: hex, a seeded generator, a process runner, fresh network namespaces,
        // scripted IKE sessions (FakeSession, FakeFactory) for the endpoint and the daemon.
        .target(name: "TestSupport", dependencies: [
            "CryptoCore", "IKEv2", "KernelModel", "KernelDataplane", "NetTypes", "System", "Topology",
        ], path: "Tests/TestSupport"),
        .testTarget(name: "TopologyTests", dependencies: ["Topology", "TopologyFiles", "TestSupport"]),
        .testTarget(name: "CryptoTests", dependencies: ["ViaductCrypto", "CryptoCore", "TestSupport"]),
        .testTarget(name: "PKITests", dependencies: ["PKI", "ViaductCrypto", "CryptoCore", "TestSupport"]),
        .testTarget(name: "IKEv2Tests", dependencies: ["IKEv2", "ViaductCrypto", "PKI", "TestSupport"]),
        .testTarget(name: "ESPTests", dependencies: ["ESP", "ViaductCrypto", "TestSupport"]),
        .testTarget(name: "KernelModelTests", dependencies: [
            "KernelModel", "KernelDataplane", "DataplaneContract", "Reconciler", "System", "CryptoCore", "IKEv2", "Topology", "TestSupport",
        ]),
        .testTarget(name: "ReconcilerTests", dependencies: ["Reconciler"]),
        .testTarget(name: "SystemTests", dependencies: ["System"]),
        .testTarget(name: "DataplaneTests", dependencies: ["Dataplane", "DataplaneContract", "ESP", "ViaductCrypto", "System", "TestSupport"]),
        .testTarget(name: "DaemonTests", dependencies: ["Daemon", "DataplaneContract", "PKI", "System", "TestSupport", "Tools"]),
        .testTarget(name: "ToolsTests", dependencies: ["Tools", "Daemon", "TestSupport"]),
        .testTarget(name: "ViaductCLITests", dependencies: ["viaduct", "Daemon", "TestSupport"]),
        // Root and fresh network namespaces (host kernel netlink, TUN, veths); each suite skips with a
        // message otherwise. Deploy/kernel-lab/run-tests runs the HostKernel ones in the VM by filter.
        .testTarget(name: "IntegrationTests", dependencies: [
            "Dataplane", "DataplaneContract", "ESP", "ViaductCrypto", "CryptoCore", "IKEv2", "KernelModel", "KernelDataplane", "Reconciler",
            "System", "Topology", "TestSupport",
        ]),
    ],
    swiftLanguageModes: [.v6]
)
