import CryptoCore
import NetTypes

// RFC 4303 §2 (ESP packet format: SPI 4, sequence number 4, IV, payload, padding, pad length 1,
// next header 1, ICV), §2.4 (padding: the payload, padding, pad length and next header end on the
// cipher's block size, and on 4 octets in any case), §2.8 (ICV);
// RFC 4106 §3 and RFC 7634 §2 (8-octet explicit IV, 16-octet tag; block alignment 4);
// RFC 3602 §3 (AES-CBC: 16-octet IV, 16-octet blocks); RFC 4868 §2.3 / RFC 2404 (truncated ICVs);
// RFC 3948 §2.1 (UDP encapsulation: an 8-octet UDP header before the SPI);
// RFC 791 / RFC 8200 §3 (20- and 40-octet outer IP headers, no options);
// RFC 9293 §3.7.1 and RFC 6691 §2 (MSS = MTU − IP header − TCP header, each without options).

/// The MTU of a route-based tunnel interface: the largest inner packet whose ESP packet, in its
/// outer IP header (and UDP header when encapsulated), still fits the underlay path MTU. Pure.
public struct TunnelMTUCalculation: Hashable, Sendable {
    /// The negotiated ESP transform: the cipher, and the HMAC for non-AEAD ciphers.
    public var encryption: EncryptionAlgorithm
    public var integrity: IntegrityAlgorithm?
    /// The outer (underlay) IP version.
    public var outerFamily: IPAddress.Family
    /// RFC 3948 UDP encapsulation (NAT traversal; always on the userspace data plane).
    public var udpEncapsulated: Bool

    public init(encryption: EncryptionAlgorithm, integrity: IntegrityAlgorithm?, outerFamily: IPAddress.Family,
                udpEncapsulated: Bool) {
        self.encryption = encryption
        self.integrity = integrity
        self.outerFamily = outerFamily
        self.udpEncapsulated = udpEncapsulated
    }

    /// 20 (IPv4) or 40 (IPv6).
    public var outerIPHeaderLength: Int { outerFamily == .ipv4 ? 20 : 40 }
    /// The ICV: the AEAD tag, or the HMAC's truncated output.
    public var icvLength: Int { encryption.isAEAD ? encryption.icvLength : (integrity?.icvLength ?? 0) }
    /// RFC 4303 §2.4: the encrypted part aligns on the cipher block, and on 4 octets at least.
    public var alignment: Int { max(encryption.blockSize, 4) }

    /// Everything around the inner packet except padding: outer IP, UDP, SPI + sequence number,
    /// IV, pad length + next header, ICV.
    public var fixedOverhead: Int {
        outerIPHeaderLength + (udpEncapsulated ? 8 : 0) + 8 + encryption.ivLength + 2 + icvLength
    }

    /// The largest inner packet that fits `pathMTU` in one outer datagram, or nil when not even a
    /// minimal packet fits. The encrypted part (inner packet, padding, pad length, next header) is
    /// the largest multiple of `alignment` that fits what the headers and ICV leave.
    public func tunnelMTU(pathMTU: Int) -> Int? {
        let room = pathMTU - outerIPHeaderLength - (udpEncapsulated ? 8 : 0) - 8 - encryption.ivLength - icvLength
        let encrypted = room / alignment * alignment
        let inner = encrypted - 2
        return inner >= 68 ? inner : nil  // RFC 791: every IPv4 host takes 68-octet datagrams
    }

    /// The worst-case outer datagram for an inner packet of `innerLength` octets (padding included).
    public func outerLength(innerLength: Int) -> Int {
        let encrypted = (innerLength + 2 + alignment - 1) / alignment * alignment
        return outerIPHeaderLength + (udpEncapsulated ? 8 : 0) + 8 + encryption.ivLength + encrypted + icvLength
    }

    /// The TCP MSS that fits an MTU: minus 40 (IPv4 + TCP headers) or 60 (IPv6 + TCP headers).
    public static func mss(mtu: Int, innerFamily: IPAddress.Family) -> Int {
        mtu - (innerFamily == .ipv4 ? 40 : 60)
    }
}
