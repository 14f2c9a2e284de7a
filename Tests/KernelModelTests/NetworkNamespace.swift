import Foundation
import KernelDataplane
import System
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Runs a test body inside a fresh, named network namespace (`ip netns add vdt-...`) on a dedicated thread
/// that has joined it with setns(2); every socket the body opens belongs to that namespace. The namespace is
/// deleted afterwards, whatever happened. Only root can do this: `isAvailable` says whether to skip.
enum NetworkNamespace {
    static var isAvailable: Bool { geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") }

    static let skipMessage = "skipped: host-kernel netlink tests need root and iproute2 (fresh network namespaces)"

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `ip ARGS`, returning its exit status and combined output.
    @discardableResult
    static func ip(_ args: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func run<T: Sendable>(_ tag: String, _ body: @escaping @Sendable (_ namespace: String) throws -> T) async throws -> T {
        let name = "vdt-nl-\(tag)-\(getpid())"
        _ = try? ip(["netns", "del", name])
        let added = try ip(["netns", "add", name])
        guard added.status == 0 else { throw Failure(description: "ip netns add \(name): \(added.output)") }
        defer { _ = try? ip(["netns", "del", name]) }
        _ = try ip(["-n", name, "link", "set", "lo", "up"])
        // System's one namespace runner: a fresh thread that entered the namespace, joined before
        // this returns; nothing else ever runs on it.
        let result = try NetNamespace.run(in: name) { () -> Result<T, any Error> in Result { try body(name) } }
        return try result.get()
    }
}
