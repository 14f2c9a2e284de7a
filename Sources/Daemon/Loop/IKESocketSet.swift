import System
import Glibc
import IKEv2

/// Every IKE socket of the node: ports 500 and 4500 on each local underlay address (IPv4 and
/// IPv6 alike), each with its IPsec bypass policies. Adds and strips the non-ESP marker on the
/// NAT-T port, so the engine only ever sees IKE messages (`IKEDatagram.bytes` has no marker).
/// Owns the sockets; `close()` closes each exactly once.
public final class IKESocketSet {
    public private(set) var sockets: [UDPSocket]
    public let ports: IKEPorts

    /// What one received datagram turned out to be.
    public enum Inbound: Equatable {
        case ike(IKEDatagram)
        /// ESP-in-UDP on the NAT-T port: for the data plane (not wired yet), counted.
        case esp
        case keepalive
        case malformed
    }

    /// Opens and binds all sockets; on any failure the ones already open are closed.
    /// - Parameter bypassPolicies: install per-socket XFRM bypass policies (needs CAP_NET_ADMIN).
    public init(addresses: [[UInt8]], ports: IKEPorts = .standard, bypassPolicies: Bool = true,
                onBypass: (UDPSocket, XfrmBypassPolicy.Outcome) -> Void = { _, _ in }) throws(DaemonError) {
        self.ports = ports
        sockets = []
        do throws(DaemonError) {
            for address in addresses {
                for port in [ports.ike, ports.natTraversal] {
                    let s = try UDPSocket(binding: IKEEndpoint(address: address, port: port))
                    sockets.append(s)
                    if bypassPolicies { onBypass(s, try XfrmBypassPolicy.install(on: s)) }
                }
            }
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    public func close() {
        for s in sockets { s.close() }
        sockets = []
    }

    /// The hook for the kernel data plane: makes the kernel decapsulate ESP-in-UDP arriving on
    /// the NAT-T sockets (UDP_ENCAP_ESPINUDP, RFC 3948). IKE (marker-prefixed) still reaches
    /// the socket. Deliberately NOT called yet: without kernel ESP state, setting it would
    /// only make ESP vanish where the userspace data plane needs to see it.
    public func enableKernelESPDecapsulation() throws(DaemonError) {
        for s in sockets where s.local.port == ports.natTraversal {
            try s.setOption(Int32(IPPROTO_UDP), SocketOptions.udpEncap, SocketOptions.espInUDP, "UDP_ENCAP")
        }
    }

    /// The socket a datagram from `local` must leave through: the one bound to it, else the
    /// wildcard socket of its family and port (a gateway whose own address is `dynamic` or a
    /// DNS name binds `0.0.0.0` / `::`, and its sessions learn their real address from what
    /// they receive).
    public func socket(for local: IKEEndpoint) -> UDPSocket? {
        sockets.first { $0.local == local }
            ?? sockets.first { $0.local.port == local.port && $0.local.address.count == local.address.count && $0.local.address.allSatisfy { $0 == 0 } }
    }

    /// Strips/validates the marker by port. A pure function of the datagram and the port.
    public static func classify(_ received: UDPSocket.Received, ports: IKEPorts) -> Inbound {
        if received.destination.port == ports.natTraversal {
            switch NonESPMarker.classify(received.bytes) {
            case .ike(let bytes):
                return .ike(IKEDatagram(bytes: bytes, source: received.source, destination: received.destination))
            case .esp: return .esp
            case .keepalive: return .keepalive
            case .malformed: return .malformed
            }
        }
        return .ike(IKEDatagram(bytes: received.bytes, source: received.source, destination: received.destination))
    }

    /// The bytes that go on the wire for `datagram`: with the marker when either port is the
    /// NAT-T port (RFC 7296 §2.23).
    public static func wireBytes(_ datagram: IKEDatagram, ports: IKEPorts) -> [UInt8] {
        // RFC 3948 §2.3: a NAT-keepalive is the bare 0xFF octet.
        if datagram.isNATKeepalive { return datagram.bytes }
        if datagram.source.port == ports.natTraversal || datagram.destination.port == ports.natTraversal {
            return NonESPMarker.bytes + datagram.bytes
        }
        return datagram.bytes
    }

    /// Sends from the socket bound to `datagram.source`.
    public func send(_ datagram: IKEDatagram) throws(DaemonError) {
        guard let s = socket(for: datagram.source) else {
            throw DaemonError(.configuration, "no IKE socket bound to \(datagram.source) (the session asked to send from it to \(datagram.destination))")
        }
        try s.send(Self.wireBytes(datagram, ports: ports), to: datagram.destination)
    }
}
