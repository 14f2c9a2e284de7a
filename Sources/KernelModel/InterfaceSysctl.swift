// ip-sysctl.txt (Documentation/networking/ip-sysctl.rst): per-interface knobs under
// /proc/sys/net/ipv{4,6}/conf/<ifname>/. They are files, not netlink messages, so the pure side only names
// them and the shell writes them, in the network namespace it was opened in.

/// One per-interface sysctl to set.
public struct InterfaceSysctl: Hashable, Sendable, CustomStringConvertible {
    public enum Family: String, Hashable, Sendable {
        case ipv4
        case ipv6
    }

    public var family: Family
    public var interface: String
    public var name: String
    public var value: String

    public init(family: Family, interface: String, name: String, value: String) {
        self.family = family
        self.interface = interface
        self.name = name
        self.value = value
    }

    /// The path under /proc/sys.
    public var path: String { "/proc/sys/net/\(family.rawValue)/conf/\(interface)/\(name)" }

    public var description: String { "sysctl net.\(family.rawValue).conf.\(interface).\(name)=\(value)" }

    /// A VTI needs policy checks off on the interface itself: decrypted packets arrive on it with the mark
    /// already consumed, and the inbound policy is checked by the VTI (strongSwan's documented setting).
    ///
    /// Equivalent to: `sysctl -w net.ipv4.conf.NAME.disable_policy=1`.
    public static func disablePolicy(_ interface: String) -> InterfaceSysctl {
        InterfaceSysctl(family: .ipv4, interface: interface, name: "disable_policy", value: "1")
    }

    /// IPv6 on or off on an interface (off on a tunnel without IPv6 inside addresses, so that router
    /// solicitations and MLD reports are not sent into a tunnel that has no IPv6 policy).
    ///
    /// Equivalent to: `sysctl -w net.ipv6.conf.NAME.disable_ipv6=1`.
    public static func ipv6(_ interface: String, enabled: Bool) -> InterfaceSysctl {
        InterfaceSysctl(family: .ipv6, interface: interface, name: "disable_ipv6", value: enabled ? "0" : "1")
    }

    /// True when `interface` is a name the kernel would accept as one path component.
    public var isWellFormed: Bool {
        !interface.isEmpty && interface.utf8.count <= Link.maximumNameLength && !interface.contains("/")
            && interface != "." && interface != ".." && !name.isEmpty && !name.contains("/") && !name.contains("..")
    }
}
