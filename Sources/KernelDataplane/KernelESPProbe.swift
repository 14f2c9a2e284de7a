import Glibc
import System
import Topology

/// Whether this kernel can carry the tunnels itself: ESP (`esp4`) and the plan's interface kind
/// (`xfrm_interface` or `ip_vti`), each loaded (`/sys/module/NAME`) or built in (listed in
/// `/lib/modules/RELEASE/modules.builtin`). Only what is present counts, not what could be
/// loaded: the systemd unit forbids module loading and `/etc/modules-load.d/viaduct.conf` loads
/// them at boot. Reads files only; nothing is created in the kernel.
///
/// `dataplane: auto` uses it: the kernel data plane when this says yes, the userspace one else.
public struct KernelESPProbe: Sendable {
    /// Whether a path exists, and a file's text (nil when unreadable); injected for tests.
    public var exists: @Sendable (String) -> Bool
    public var read: @Sendable (String) -> String?
    public var release: String

    public init(release: String, exists: @escaping @Sendable (String) -> Bool, read: @escaping @Sendable (String) -> String?) {
        self.release = release
        self.exists = exists
        self.read = read
    }

    /// The running kernel, through the real file system.
    public static var system: KernelESPProbe {
        var names = utsname()
        uname(&names)
        let release = withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return KernelESPProbe(release: release, exists: { access($0, F_OK) == 0 }, read: Self.readFile)
    }

    /// The kernel modules `kinds` need, ESP first.
    public static func modules(for kinds: Set<InterfaceKind>) -> [String] {
        ["esp4"] + InterfaceKind.allCases.filter(kinds.contains).map { $0 == .xfrm ? "xfrm_interface" : "ip_vti" }
    }

    /// The modules missing for `kinds`; empty when the kernel data plane can run.
    public func missing(for kinds: Set<InterfaceKind>) -> [String] {
        let builtin = read("/lib/modules/\(release)/modules.builtin") ?? ""
        let builtinNames = Set(builtin.split(separator: "\n").compactMap { line -> String? in
            guard let file = line.split(separator: "/").last else { return nil }
            return file.hasSuffix(".ko") ? String(file.dropLast(3)) : String(file)
        })
        return Self.modules(for: kinds).filter { !exists("/sys/module/\($0)") && !builtinNames.contains($0) }
    }

    private static func readFile(_ path: String) -> String? {
        guard let file = try? FileDescriptor.open(path, O_RDONLY) else { return nil }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while case .success(let n) = buffer.withUnsafeMutableBytes({ file.read(into: $0) }), n > 0 {
            out += buffer[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
