/// A request that cannot be expressed as a kernel message: the value is well-typed but the kernel has no
/// way to take it (a TUN link over rtnetlink, a 300-byte algorithm name, an address family mismatch).
/// Raised before anything is sent, so a half-applied batch never starts from a bad value.
public struct KernelModelError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Stable codes; never rename.
    public enum Code: String, Hashable, Sendable, CaseIterable {
        /// The object cannot be created by a netlink message (TUN devices are made through /dev/net/tun).
        case notCreatableByNetlink
        /// A name or key is longer than the kernel's field for it.
        case fieldTooLong
        /// Addresses of different families where the kernel needs one family.
        case familyMismatch
        /// A numeric field outside what the kernel structure holds (prefix length, replay window ...).
        case outOfRange
    }

    public var code: Code
    public var context: String

    public init(_ code: Code, _ context: String) {
        self.code = code
        self.context = context
    }

    public var description: String { "\(code.rawValue): \(context)" }
}
