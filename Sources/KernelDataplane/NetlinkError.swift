#if canImport(Glibc)
import Glibc
#endif
import KernelModel
import System

/// A failed netlink operation, phrased for a person: what was being done, and why it failed
/// ("adding route 198.18.2.0/24 dev vd-dc2 proto 222: File exists").
public struct NetlinkError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Stable codes; never rename.
    public enum Code: String, Hashable, Sendable, CaseIterable {
        /// The kernel rejected a request (`errno` says why).
        case kernel
        /// A socket call failed (`errno` says why).
        case system
        /// The kernel's reply did not decode.
        case malformedReply
        /// No answer within the socket's receive timeout.
        case timeout
        /// A dump kept being interrupted by concurrent changes (NLM_F_DUMP_INTR) after retries.
        case dumpInterrupted
        /// The request could not be encoded (see `KernelModelError`).
        case invalidRequest
    }

    public var code: Code
    /// Positive errno for `kernel` and `system`, else 0.
    public var errno: Int32
    /// The object and action ("adding SA esp spi 0xc0000001 ...", "opening NETLINK_XFRM socket").
    public var context: String
    /// The kernel's extended-ack text, when it sent one.
    public var kernelMessage: String?

    public init(_ code: Code, errno: Int32 = 0, context: String, kernelMessage: String? = nil) {
        self.code = code
        self.errno = errno
        self.context = context
        self.kernelMessage = kernelMessage
    }

    /// The C library's text for an errno ("File exists").
    public static func text(forErrno value: Int32) -> String {
        Errno(rawValue: value).text
    }

    public var description: String {
        switch code {
        case .kernel, .system:
            return "\(context): \(NetlinkError.text(forErrno: errno))" + (kernelMessage.map { " (\($0))" } ?? "")
        case .malformedReply:
            return "\(context): malformed reply" + (kernelMessage.map { " (\($0))" } ?? "")
        case .timeout:
            return "\(context): no reply from the kernel"
        case .dumpInterrupted:
            return "\(context): dump interrupted by concurrent changes"
        case .invalidRequest:
            return "\(context): invalid request" + (kernelMessage.map { " (\($0))" } ?? "")
        }
    }
}
