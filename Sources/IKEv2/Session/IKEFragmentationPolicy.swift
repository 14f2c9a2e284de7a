// RFC 7383 §2.5.1 (fragment size) and §2.6 (reassembly limits).

/// How this IKE SA fragments what it sends and what it accepts to reassemble.
///
/// `maxDatagramSize` is the largest IP datagram one fragment may fill (IP + UDP + non-ESP
/// marker + IKE). The default, 1280, is strongSwan's `charon.fragment_size` default for both
/// families: the IPv6 minimum MTU, which every IPv6 path carries and which leaves room for a
/// tunnel or PPPoE header on the usual 1500-byte IPv4 paths. RFC 7383 §2.5.1 allows as little as
/// 576 for IPv4; set it there for hostile IPv4 paths. Path MTU discovery by shrinking fragments
/// on retransmission (§2.5.2) is not done: the fixed size is chosen to pass anyway.
public struct IKEFragmentationPolicy: Hashable, Sendable {
    /// Announce IKEV2_FRAGMENTATION_SUPPORTED and fragment once the peer announces it too.
    public var enabled: Bool
    public var maxDatagramSize: Int
    /// Reassembly limits (§2.6 leaves them to the implementation): a message announcing more
    /// fragments, or whose fragments add up to more plaintext, is dropped whole. The defaults
    /// are well above an IKE_AUTH with an RSA-4096 chain of three certificates (about 6 KB in
    /// 1280-byte fragments: 6 fragments) and bound what one peer can make us hold per IKE SA.
    public var maxFragments: Int
    public var maxMessageSize: Int
    /// An incomplete message that received nothing new for this long is discarded when the next
    /// fragment arrives (or another message starts). Longer than the largest gap between two
    /// retransmissions (42 s with strongSwan's defaults), so lossy paths still complete.
    public var reassemblyTimeoutSeconds: Double

    public init(enabled: Bool = true, maxDatagramSize: Int = 1280, maxFragments: Int = 32,
                maxMessageSize: Int = 64 * 1024, reassemblyTimeoutSeconds: Double = 90) {
        self.enabled = enabled
        self.maxDatagramSize = maxDatagramSize
        self.maxFragments = maxFragments
        self.maxMessageSize = maxMessageSize
        self.reassemblyTimeoutSeconds = reassemblyTimeoutSeconds
    }

    /// The largest IKE message (header included) that fits one datagram towards `peer` from
    /// `local`: minus the IP header (20 / 40 octets without options), UDP (8) and the non-ESP
    /// marker (4) on port 4500 (RFC 3948 §2.2).
    public func maxMessageLength(local: IKEEndpoint, peer: IKEEndpoint) -> Int {
        let ip = peer.isIPv6 ? 40 : 20
        let marker = local.port == 4500 || peer.port == 4500 ? 4 : 0
        return maxDatagramSize - ip - 8 - marker
    }
}
