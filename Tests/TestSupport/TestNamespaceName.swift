import Foundation
import Glibc

/// Names of the network namespaces the tests create. Every name carries the process ID, so two
/// test runs on one machine (two checkouts, a sanitizer run beside the normal one) never delete
/// each other's namespaces, and starts with `VIADUCT_TEST_NETNS_PREFIX` when that is set (e.g.
/// `san-`), so whoever runs them can tell theirs from everyone else's in `ip netns list`.
public enum TestNamespaceName {
    /// `PREFIX` + `base` + `-PID`; `base` should start with `vdt-`.
    public static func make(_ base: String) -> String {
        "\(prefix)\(base)-\(getpid())"
    }

    /// `VIADUCT_TEST_NETNS_PREFIX`, or nothing.
    public static var prefix: String {
        ProcessInfo.processInfo.environment["VIADUCT_TEST_NETNS_PREFIX"] ?? ""
    }
}
