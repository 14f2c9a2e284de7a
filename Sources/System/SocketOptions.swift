import CSystem

/// Socket options the Swift Glibc module does not import (linux/udp.h).
public enum SocketOptions {
    /// UDP_ENCAP: with `espInUDP` it turns a UDP socket into the kernel's ESP-in-UDP decapsulator
    /// (RFC 3948). For the kernel data plane; the IKE daemon does not set it otherwise.
    public static let udpEncap: Int32 = viaduct_udp_encap
    /// UDP_ENCAP_ESPINUDP.
    public static let espInUDP: Int32 = viaduct_udp_encap_espinudp
}
