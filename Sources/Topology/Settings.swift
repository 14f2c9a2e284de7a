/// Which data plane carries ESP. `auto` probes the kernel: kernel ESP when it has it,
/// Viaduct's userspace ESP over TUN otherwise.
public enum DataplaneKind: String, Hashable, Sendable, Encodable, CaseIterable {
    case auto, kernel, userspace
}

/// The kind of kernel tunnel interface: an XFRM interface (`if_id`) or a VTI (`ikey/okey` marks).
public enum InterfaceKind: String, Hashable, Sendable, Encodable, CaseIterable {
    case xfrm, vti
}

/// How traffic finds the tunnel: `static` installs routes to the peer's declared networks;
/// `bgp` installs only the inside addresses and leaves routes to a BGP daemon.
public enum RoutingMode: String, Hashable, Sendable, Encodable, CaseIterable {
    case `static`, bgp
}

/// What to do when a peer stops answering liveness checks (RFC 7296 §2.4).
public enum DPDAction: String, Hashable, Sendable, Encodable, CaseIterable {
    /// Tear down and initiate again at once.
    case restart
    /// Tear down and wait for the peer (or traffic) to bring the tunnel back.
    case clear
    /// Keep the interface and routes, retry in the background.
    case hold
}

/// Dead peer detection: the idle interval after which a liveness check is sent.
public struct DPDSettings: Hashable, Sendable, Encodable {
    public var interval: TimeSpan
    public var action: DPDAction
}

/// Lifetimes and proposals of one SA kind (IKE or ESP). The SA is rekeyed at
/// `lifetime - rekeyMargin - random(0...rekeyJitter)`, so thousands of tunnels never rekey in
/// the same second, and the hard `lifetime` is never reached while the peer answers.
public struct SASettings: Hashable, Sendable, Encodable {
    public var proposals: [Proposal]
    public var lifetime: TimeSpan
    public var rekeyMargin: TimeSpan
    public var rekeyJitter: TimeSpan
}

/// Everything a tunnel's behaviour depends on, after defaults and overrides are merged.
/// How the two ends of a tunnel prove who they are in IKE_AUTH (RFC 7296 §2.15).
public enum TunnelAuth: Hashable, Sendable, Encodable {
    /// X.509 certificates from the topology's PKI (the default).
    case certificate
    /// A pre-shared key read from `file` when the daemon starts (`auth: psk`, `psk-file:`); the
    /// key itself never appears in the topology, a plan, a log or status.
    case psk(file: String)

    public var name: String {
        switch self {
        case .certificate: "certificate"
        case .psk: "psk"
        }
    }
}

public struct TunnelSettings: Hashable, Sendable, Encodable {
    public var ike: SASettings
    public var esp: SASettings
    public var dpd: DPDSettings
    /// `mtu:` (default `auto`) and `mss-clamp:` (default `auto`).
    public var mtu: TunnelMTU
    public var mssClamp = MSSClamp.auto
    public var routing: RoutingMode
    public var allowWeakCrypto: Bool
    /// RFC 3948 §4: NAT-keepalive period while this gateway is behind a NAT; zero turns them off.
    public var natKeepalive = TimeSpan(seconds: 20)
    /// RFC 7383: fragment large IKE messages (IKE_AUTH with certificate chains) when the peer
    /// supports it, into IP datagrams of at most `fragmentSize` octets.
    public var fragmentation = true
    public var fragmentSize = IKEFragmentSize.fixed(1280)
    /// RFC 7296 §2.8.3: when the IKE SA's rekey time comes, replace it by a new IKE SA with
    /// a full IKE_SA_INIT + IKE_AUTH (certificates checked again) instead of a CREATE_CHILD_SA
    /// rekey, make-before-break (strongSwan's reauth_time, libreswan's reauth=yes).
    public var reauthenticate = false
    /// `auth:` and `psk-file:` on a tunnel entry; `allow-psk: true` permits a key between two
    /// managed gateways.
    public var auth = TunnelAuth.certificate
    public var allowPSK = false

    public static let builtIn = TunnelSettings(
        ike: SASettings(
            proposals: [
                Proposal(kind: .ike, encryption: [.aesGCM16(keyBits: 256)], prf: [.hmacSHA384], keyExchange: [.ecp384]),
                Proposal(kind: .ike, encryption: [.aesGCM16(keyBits: 256)], prf: [.hmacSHA256], keyExchange: [.curve25519]),
            ],
            lifetime: TimeSpan(seconds: 8 * 3600), rekeyMargin: TimeSpan(seconds: 30 * 60),
            rekeyJitter: TimeSpan(seconds: 15 * 60)),
        esp: SASettings(
            proposals: [Proposal(kind: .esp, encryption: [.aesGCM16(keyBits: 256)], keyExchange: [.curve25519])],
            lifetime: TimeSpan(seconds: 3600), rekeyMargin: TimeSpan(seconds: 5 * 60),
            rekeyJitter: TimeSpan(seconds: 3 * 60)),
        dpd: DPDSettings(interval: TimeSpan(seconds: 10), action: .restart),
        mtu: .auto,
        routing: .static,
        allowWeakCrypto: false)
}
