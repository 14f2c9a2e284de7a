import CryptoCore
import NetTypes
import PKI

/// The certificate each peer presented at its last authentication, and whether it was taken:
/// for the expiry metrics and warnings, and for a `status` reason that says "the peer's
/// certificate expired" rather than only "authentication failed". Filled by
/// `ObservingAuthenticator` on the daemon's one thread; shared by the factories of successive
/// reloads so a reload does not forget what peers showed.
public final class PeerCertificateBook {
    public struct Seen: Hashable, Sendable {
        public var subject: String
        public var serial: String
        public var notAfter: Int64
        /// Nil when the certificate was taken; the refusal's code otherwise.
        public var refused: PeerAuthenticationError.Code?
        public var refusal: String?
    }

    public private(set) var seen: [TunnelID: Seen] = [:]

    public init() {}

    func record(_ tunnel: TunnelID, _ seen: Seen) { self.seen[tunnel] = seen }

    /// A tunnel that is gone (apply) has no peer certificate to watch.
    public func keep(only tunnels: Set<TunnelID>) { seen = seen.filter { tunnels.contains($0.key) } }

    public var items: [ExpiringItem] {
        seen.sorted { $0.key.peer < $1.key.peer }.map {
            ExpiringItem(role: .peer, subject: $0.value.subject, serial: $0.value.serial, peer: $0.key.peer, expires: $0.value.notAfter)
        }
    }
}

/// Our X.509 authenticator, reporting the peer's end-entity certificate to a
/// `PeerCertificateBook` at every verification, taken or refused. Everything else is the
/// wrapped authenticator's.
final class ObservingAuthenticator: PeerAuthenticator {
    private let inner: X509PeerAuthenticator
    private let tunnel: TunnelID
    private let book: PeerCertificateBook

    init(_ inner: X509PeerAuthenticator, tunnel: TunnelID, book: PeerCertificateBook) {
        self.inner = inner
        self.tunnel = tunnel
        self.book = book
    }

    var certificateChainDER: [[UInt8]] { inner.certificateChainDER }
    var trustedCAKeyHashes: [[UInt8]] { inner.trustedCAKeyHashes }
    var supportedSignatureHashes: [UInt16] { inner.supportedSignatureHashes }

    func sign(_ octets: [UInt8], peerSupportedHashes: [UInt16]?) throws(PeerAuthenticationError) -> (authMethod: UInt8, authData: [UInt8]) {
        try inner.sign(octets, peerSupportedHashes: peerSupportedHashes)
    }

    func verify(peerCertificateChainDER: [[UInt8]], claimedIdentityType: UInt8, claimedIdentityData: [UInt8],
                authMethod: UInt8, authData: [UInt8], octets: [UInt8], now: Int64) throws(PeerAuthenticationError) -> String {
        let ee = peerCertificateChainDER.first.flatMap { try? inner.validator.certificate(derEncoded: $0) }
        func note(_ error: PeerAuthenticationError?) {
            guard let ee else { return }
            book.record(tunnel, .init(subject: ee.subject.string, serial: ee.serialHex, notAfter: ee.notAfter,
                                      refused: error?.code, refusal: error?.message))
        }
        do {
            let identity = try inner.verify(peerCertificateChainDER: peerCertificateChainDER, claimedIdentityType: claimedIdentityType,
                                            claimedIdentityData: claimedIdentityData, authMethod: authMethod, authData: authData,
                                            octets: octets, now: now)
            note(nil)
            return identity
        } catch {
            note(error)
            throw error
        }
    }
}
