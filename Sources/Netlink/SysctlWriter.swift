#if canImport(Glibc)
import Glibc
#endif
import KernelModel

/// Writes per-interface sysctls. /proc/sys/net is resolved in the network namespace of the calling thread
/// at open time, so call this from the namespace the interface lives in.
public enum SysctlWriter {
    /// Equivalent to: `sysctl -w net.ipv4.conf.NAME.disable_policy=1` (and the like).
    public static func apply(_ setting: InterfaceSysctl) throws(NetlinkError) {
        let context = "setting \(setting)"
        guard setting.isWellFormed else { throw NetlinkError(.invalidRequest, context: context) }
        let fd = open(setting.path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw NetlinkError(.system, errno: Glibc.errno, context: context) }
        defer { close(fd) }
        let bytes = Array((setting.value + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw NetlinkError(.system, errno: Glibc.errno, context: context) }
    }

    /// Reads a sysctl's current value (trimmed).
    public static func read(_ setting: InterfaceSysctl) throws(NetlinkError) -> String {
        let context = "reading \(setting.path)"
        guard setting.isWellFormed else { throw NetlinkError(.invalidRequest, context: context) }
        let fd = open(setting.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw NetlinkError(.system, errno: Glibc.errno, context: context) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n >= 0 else { throw NetlinkError(.system, errno: Glibc.errno, context: context) }
        let text = buffer[0..<n].prefix { $0 != UInt8(ascii: "\n") && $0 != 0 }
        return String(decoding: text, as: UTF8.self)
    }
}
