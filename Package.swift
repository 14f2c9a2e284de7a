// swift-tools-version:6.0
// Viaduct: route-based IPsec tunnel controller. Layers (see docs/architecture.md):
//   C shims  ->  pure core (no I/O)  ->  I/O shell  ->  the `viaduct` app.
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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // C: thin shims, no logic.
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CMnl", pkgConfig: "libmnl", providers: [.apt(["libmnl-dev"])]),
        // Debian's libyaml, so its security fixes reach the gateway: the binary links libyaml-0-2.
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        // Every Linux macro and syscall shim Swift cannot call directly; only `System` imports it.
        .target(name: "CSystem"),

        // Pure core: no sockets, no clocks, no global randomness.
        // Topology parses YAML with libyaml's event parser, from a string: no files, no I/O.
        .target(name: "Topology", dependencies: ["CryptoCore", "CYAML"]),
        .target(name: "CryptoCore"),
        .target(name: "IKEv2", dependencies: ["CryptoCore"]),
        .target(name: "ESP", dependencies: ["CryptoCore"], swiftSettings: packetPath),
        .target(name: "KernelModel", dependencies: ["Topology"]),
        .target(name: "Reconciler", dependencies: ["KernelModel", "Topology"]),

        // I/O shell. `System` is the one door to the OS: descriptors, errno, threads, namespaces,
        // TUN, signals, the XFRM socket bypass.
        .target(name: "System", dependencies: ["CSystem"]),
        .target(name: "Crypto", dependencies: ["CryptoCore", "COpenSSL"]),
        // What both data planes share with the daemon: their error type.
        .target(name: "DataplaneContract", dependencies: ["System"]),
        // The kernel data plane: the netlink socket (libmnl batches), dumps and monitors, the
        // reconciler's executor, and the XFRM SA installer.
        .target(name: "KernelDataplane", dependencies: [
            "KernelModel", "Reconciler", "Topology", "CMnl", "System", "DataplaneContract", "IKEv2", "CryptoCore",
        ]),
        // The userspace data plane: TUN devices and the ESP-in-UDP pipeline. No netlink.
        .target(name: "Dataplane", dependencies: ["ESP", "IKEv2", "Crypto", "CryptoCore", "System", "DataplaneContract"],
                swiftSettings: packetPath),
        .target(name: "Daemon", dependencies: [
            "IKEv2", "Crypto", "CryptoCore", "Topology", "System", "DataplaneContract", "Dataplane", "KernelDataplane", "KernelModel", "Reconciler",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),

        // App.
        // `git describe` of the checkout, for --version, the first log line, status and metrics.
        .plugin(name: "BuildVersion", capability: .buildTool()),
        .executableTarget(name: "viaduct", dependencies: [
            "Topology", "Crypto", "CryptoCore", "ESP", "DataplaneContract", "Dataplane", "KernelDataplane", "Daemon", "KernelModel", "Reconciler", "System",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], plugins: ["BuildVersion"]),

        .testTarget(name: "TopologyTests", dependencies: ["Topology"]),
        .testTarget(name: "CryptoTests", dependencies: ["Crypto", "CryptoCore"]),
        .testTarget(name: "IKEv2Tests", dependencies: ["IKEv2", "Crypto"]),
        .testTarget(name: "ESPTests", dependencies: ["ESP", "Crypto"]),
        .testTarget(name: "KernelModelTests", dependencies: ["KernelModel", "KernelDataplane", "DataplaneContract", "Reconciler", "System", "CryptoCore", "IKEv2", "Topology"]),
        .testTarget(name: "ReconcilerTests", dependencies: ["Reconciler"]),
        .testTarget(name: "SystemTests", dependencies: ["System"]),
        .testTarget(name: "DataplaneTests", dependencies: ["Dataplane", "DataplaneContract", "ESP", "Crypto", "KernelModel", "System"]),
        .testTarget(name: "DaemonTests", dependencies: ["Daemon", "System"]),
        .testTarget(name: "ViaductCLITests", dependencies: ["viaduct", "Daemon"]),
    ],
    swiftLanguageModes: [.v6]
)
