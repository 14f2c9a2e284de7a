// RFC 791 (IPv4 header) and RFC 768 (UDP header; checksum 0 = none, allowed over IPv4): the
// packets a flood generator writes itself so that it can choose their source address.
import Daemon
import Glibc
import IKEv2
import System

/// A raw IPv4 socket (IPPROTO_RAW, so IP_HDRINCL) that sends UDP datagrams from any source
/// address: the flood generator's, meant only for network namespaces made for a test. It is the
/// only owner of its descriptor: `close()` closes it once; `deinit` closes it if nobody did.
/// Needs CAP_NET_RAW.
public final class RawIPv4Sender {
    private var file: FileDescriptor?
    private var descriptor: Int32 { file?.rawValue ?? -1 }
    private var packet: [UInt8] = []

    public init() throws(DaemonError) {
        switch Syscall.retrying({ socket(AF_INET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_RAW)) }) {
        case .success(let fd): file = FileDescriptor(taking: fd)
        case .failure(let e):
            throw DaemonError(e == .permissionDenied || e == .notPermitted ? .permissionDenied : .system,
                              "cannot open a raw IPv4 socket (needs CAP_NET_RAW): \(e)", errno: e)
        }
    }

    /// Sends `payload` as one UDP datagram from `source` to `destination` (both IPv4).
    public func send(_ payload: [UInt8], from source: IKEEndpoint, to destination: IKEEndpoint) throws(DaemonError) {
        guard source.address.count == 4, destination.address.count == 4, descriptor >= 0 else {
            throw DaemonError(.configuration, "raw sender: IPv4 only (\(source) -> \(destination))")
        }
        let total = 20 + 8 + payload.count
        guard total <= 65_535 else { throw DaemonError(.configuration, "raw sender: \(payload.count)-byte payload too large") }
        packet.removeAll(keepingCapacity: true)
        // IPv4: version 4, IHL 5, length, DF, TTL 64, UDP; the kernel fills the ID and checksum.
        packet += [0x45, 0, UInt8(total >> 8), UInt8(total & 0xFF), 0, 0, 0x40, 0, 64, 17, 0, 0]
        packet += source.address + destination.address
        let udpLength = 8 + payload.count
        packet += [UInt8(source.port >> 8), UInt8(source.port & 0xFF), UInt8(destination.port >> 8), UInt8(destination.port & 0xFF),
                   UInt8(udpLength >> 8), UInt8(udpLength & 0xFF), 0, 0]
        packet += payload
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_addr.s_addr = destination.address.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
        let fd = descriptor
        let sent = packet.withUnsafeBytes { buf in
            withUnsafePointer(to: &sin) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                    Syscall.retrying { sendto(fd, buf.baseAddress, buf.count, 0, sa, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
            }
        }
        if case .failure(let e) = sent { throw DaemonError(.system, "raw send to \(destination) failed: \(e)", errno: e) }
    }

    public func close() {
        guard file != nil else { return }
        file = nil
    }

    deinit { close() }
}
