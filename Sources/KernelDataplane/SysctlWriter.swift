#if canImport(Glibc)
import Glibc
#endif
import KernelModel
import System

/// Writes per-interface sysctls. /proc/sys/net is resolved in the network namespace of the calling thread
/// at open time, so call this from the namespace the interface lives in.
public enum SysctlWriter {
    /// Equivalent to: `sysctl -w net.ipv4.conf.NAME.disable_policy=1` (and the like).
    public static func apply(_ setting: InterfaceSysctl) throws(NetlinkError) {
        let context = "setting \(setting)"
        guard setting.isWellFormed else { throw NetlinkError(.invalidRequest, context: context) }
        let file: FileDescriptor
        do throws(Errno) { file = try FileDescriptor.open(setting.path, O_WRONLY) } catch {
            throw NetlinkError(.system, errno: error.rawValue, context: context)
        }
        let bytes = Array((setting.value + "\n").utf8)
        switch bytes.withUnsafeBytes({ file.write($0) }) {
        case .success(let written) where written == bytes.count: return
        case .success: throw NetlinkError(.system, errno: 0, context: context)
        case .failure(let e): throw NetlinkError(.system, errno: e.rawValue, context: context)
        }
    }

    /// Reads a sysctl's current value (trimmed).
    public static func read(_ setting: InterfaceSysctl) throws(NetlinkError) -> String {
        let context = "reading \(setting.path)"
        guard setting.isWellFormed else { throw NetlinkError(.invalidRequest, context: context) }
        let file: FileDescriptor
        do throws(Errno) { file = try FileDescriptor.open(setting.path, O_RDONLY) } catch {
            throw NetlinkError(.system, errno: error.rawValue, context: context)
        }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n: Int
        switch buffer.withUnsafeMutableBytes({ file.read(into: $0) }) {
        case .success(let count): n = count
        case .failure(let e): throw NetlinkError(.system, errno: e.rawValue, context: context)
        }
        let text = buffer[0..<n].prefix { $0 != UInt8(ascii: "\n") && $0 != 0 }
        return String(decoding: text, as: UTF8.self)
    }
}
