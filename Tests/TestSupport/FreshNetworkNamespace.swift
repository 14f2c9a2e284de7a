import Foundation
import Glibc
import System

/// Runs a test body inside a fresh, named network namespace (`ip netns add vdt-...`) on a dedicated thread
/// that has joined it with setns(2); every socket the body opens belongs to that namespace. The namespace is
/// deleted afterwards, whatever happened. Only root can do this: `isAvailable` says whether to skip.
public enum FreshNetworkNamespace {
    public static var isAvailable: Bool { geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") }

    public static let skipMessage = "skipped: host-kernel netlink tests need root and iproute2 (fresh network namespaces)"

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs `ip ARGS`, returning its exit status and combined output.
    @discardableResult
    public static func ip(_ args: [String]) throws -> (status: Int32, output: String) {
        try TestProcess.run("/usr/sbin/ip", args)
    }

    public static func run<T: Sendable>(_ tag: String, _ body: @escaping @Sendable (_ namespace: String) throws -> T) async throws -> T {
        let name = TestNamespaceName.make("vdt-nl-\(tag)")
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
