import CryptoCore
import DataplaneContract
import IKEv2
import KernelModel
import NetTypes
import Topology

// RFC 4301 §4.4.2 (the SAD) as Linux holds it: one negotiated Child SA (RFC 7296 §2.17 keys,
// §1.3 SPIs) becomes two XFRM states, outbound (us -> peer, the peer's SPI) and inbound
// (peer -> us, our SPI). Algorithms by their kernel crypto API names:
//   RFC 4106 AES-GCM-16          rfc4106(gcm(aes))                 key + 4-byte salt, ICV 128
//   RFC 7634 ChaCha20-Poly1305   rfc7539esp(chacha20,poly1305)     32-byte key + 4-byte salt, ICV 128
//   RFC 3602 AES-CBC + RFC 4868  cbc(aes) + hmac(sha256|384|512)   ICV 128/192/256
// RFC 3948 UDP encapsulation: the encap ports go with each state's own source and destination.

/// The two kernel SAs of one Child SA, built without touching the kernel (a pure function of the
/// negotiated parameters and the tunnel's binding), so what the kernel receives can be checked
/// field by field without root.
public struct KernelSAStates: Sendable {
    public var inbound: XfrmState
    public var outbound: XfrmState

    /// Inbound anti-replay window (RFC 4303 §3.4.3): larger than the 32 of the legacy field, so
    /// reordering on a multi-queue underlay does not look like a replay.
    public static let defaultReplayWindow: UInt32 = 128

    /// NAT-T port (RFC 3948 §2.2): ESP in UDP always uses it, even when IKE started on 500.
    public static let natTraversalPort: UInt16 = 4500

    public init(_ sa: ChildSAParameters, binding: KernelSABinding,
                replayWindow: UInt32 = KernelSAStates.defaultReplayWindow) throws(DataplaneError) {
        guard let local = IPAddress(networkBytes: sa.local.address), let peer = IPAddress(networkBytes: sa.peer.address) else {
            throw DataplaneError(.invalidSA, "Child SA endpoints are not IPv4/IPv6 addresses")
        }
        guard local.family == peer.family else {
            throw DataplaneError(.unsupportedSA, "Child SA endpoints \(local) and \(peer) are of different address families")
        }
        guard replayWindow > 0, replayWindow <= XfrmReplay.maximumWindow else {
            throw DataplaneError(.invalidSA, "replay window \(replayWindow) outside 1...\(XfrmReplay.maximumWindow)")
        }
        let inboundAlgorithms = try KernelSAStates.algorithms(sa.encryption, sa.integrity,
                                                              key: sa.inboundEncryptionKey, integrityKey: sa.inboundIntegrityKey)
        let outboundAlgorithms = try KernelSAStates.algorithms(sa.encryption, sa.integrity,
                                                               key: sa.outboundEncryptionKey, integrityKey: sa.outboundIntegrityKey)
        // RFC 4303 §2.2.1: with ESN the kernel keeps a 64-bit counter on both states and wants a
        // non-zero window on both; without, the outbound state has no replay check at all.
        let inboundReplay: XfrmReplay = sa.extendedSequenceNumbers ? .extendedSequenceNumbers(window: replayWindow) : .window(replayWindow)
        let outboundReplay: XfrmReplay = sa.extendedSequenceNumbers ? .extendedSequenceNumbers(window: replayWindow) : .window(0)
        let lifetime = KernelSAStates.lifetime(seconds: sa.lifetimeSeconds)
        let localPort = KernelSAStates.espPort(sa.local.port)
        let peerPort = KernelSAStates.espPort(sa.peer.port)
        // af-unspec: one route-based SA carries IPv4 and IPv6 inner packets alike.
        let flags: XfrmStateFlags = [.addressFamilyUnspecified]
        inbound = XfrmState(source: peer, destination: local, spi: sa.inboundSPI.rawValue, mode: .tunnel,
                            reqid: binding.interfaceID, algorithms: inboundAlgorithms, replay: inboundReplay,
                            lifetime: lifetime,
                            encapsulation: sa.udpEncapsulation ? XfrmEncapsulation(sourcePort: peerPort, destinationPort: localPort) : nil,
                            interfaceID: binding.stateInterfaceID, mark: binding.stateMark, flags: flags)
        outbound = XfrmState(source: local, destination: peer, spi: sa.outboundSPI.rawValue, mode: .tunnel,
                             reqid: binding.interfaceID, algorithms: outboundAlgorithms, replay: outboundReplay,
                             lifetime: lifetime,
                             encapsulation: sa.udpEncapsulation ? XfrmEncapsulation(sourcePort: localPort, destinationPort: peerPort) : nil,
                             interfaceID: binding.stateInterfaceID, mark: binding.stateMark, flags: flags)
    }

    /// IKE on 500 means ESP in UDP on 4500 (RFC 3948 §2.2); a NAT-mapped port is kept as is.
    static func espPort(_ ikePort: UInt16) -> UInt16 {
        ikePort == 500 ? natTraversalPort : ikePort
    }

    /// The hard lifetime only: the engine owns the clock and rekeys before it; the kernel deleting
    /// the SA at the hard limit is the backstop RFC 4301 §4.4.2.1 asks for.
    static func lifetime(seconds: Double) -> XfrmLifetime {
        guard seconds.isFinite, seconds > 0 else { return .unlimited }
        let whole = seconds >= Double(UInt32.max) ? UInt64(UInt32.max) : UInt64(seconds.rounded(.up))
        return XfrmLifetime(hardAddSeconds: whole)
    }

    /// The kernel's names and key layout for a negotiated transform.
    static func algorithms(_ encryption: EncryptionAlgorithm, _ integrity: IntegrityAlgorithm?,
                           key: SecureBytes, integrityKey: SecureBytes?) throws(DataplaneError) -> XfrmAlgorithms {
        guard key.count == encryption.keyMaterialLength else {
            throw DataplaneError(.invalidSA, "encryption key of \(key.count) bytes, \(encryption) needs \(encryption.keyMaterialLength)")
        }
        let keyBytes = key.withUnsafeBytes { Array($0) }
        switch encryption {
        case .aesGCM16:
            guard integrity == nil else { throw DataplaneError(.unsupportedSA, "AES-GCM with a separate integrity algorithm") }
            return .aead(name: "rfc4106(gcm(aes))", key: keyBytes, icvBits: 128)
        case .chacha20Poly1305:
            guard integrity == nil else { throw DataplaneError(.unsupportedSA, "ChaCha20-Poly1305 with a separate integrity algorithm") }
            return .aead(name: "rfc7539esp(chacha20,poly1305)", key: keyBytes, icvBits: 128)
        case .aesCBC, .tripleDES:
            guard let integrity, let integrityKey else {
                throw DataplaneError(.unsupportedSA, "\(encryption) without an integrity algorithm")
            }
            guard integrityKey.count == integrity.keyLength else {
                throw DataplaneError(.invalidSA, "integrity key of \(integrityKey.count) bytes, \(integrity) needs \(integrity.keyLength)")
            }
            let cipher = encryption == .tripleDES ? "cbc(des3_ede)" : "cbc(aes)"
            let auth: String
            switch integrity {
            case .hmacMD5_96: auth = "hmac(md5)"
            case .hmacSHA1_96: auth = "hmac(sha1)"
            case .hmacSHA256_128: auth = "hmac(sha256)"
            case .hmacSHA384_192: auth = "hmac(sha384)"
            case .hmacSHA512_256: auth = "hmac(sha512)"
            }
            return .cipherAndAuth(cipher: cipher, cipherKey: keyBytes, auth: auth,
                                  authKey: integrityKey.withUnsafeBytes { Array($0) },
                                  truncationBits: UInt32(integrity.icvLength * 8))
        }
    }
}
