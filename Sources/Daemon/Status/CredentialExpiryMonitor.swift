import Glibc
import IKEv2
import Logging
import NetTypes
import PKI

/// Watches the dates the node's authentication depends on: our certificate, the CA bundle,
/// the CRLs (from the credentials in use, `EndpointDriver.factory`) and the certificates peers
/// presented (`PeerCertificateBook`). Warns at 30, 7 and 1 days and at expiry, once each
/// (`ExpiryWarnings`), in the log and as an event; gives `status` each tunnel's nearest expiry
/// and a reason that names an expired certificate; gives the metrics every date. Checks at
/// start, after every credential reload and hourly (an EventLoopSource with a deadline only).
public final class CredentialExpiryMonitor: EventLoopSource {
    private let credentials: () -> NodeCredentials?
    public let peers: PeerCertificateBook?
    private let wall: any WallClock
    private let logger: Logger
    private var warnings = ExpiryWarnings()
    private var nextCheck: IKEInstant?
    public static let intervalSeconds = 3600.0
    /// Told about every warning (the events stream).
    public var onWarning: ((ExpiryWarnings.Warning) -> Void)?

    public init(credentials: @escaping () -> NodeCredentials?, peers: PeerCertificateBook?, wall: any WallClock, logger: Logger) {
        self.credentials = credentials
        self.peers = peers
        self.wall = wall
        self.logger = logger
    }

    /// Every dated item in use: ours, the CAs, the CRLs, then the peers' certificates.
    public func items() -> [ExpiringItem] {
        (credentials().map(ExpiringItem.items(of:)) ?? []) + (peers?.items ?? [])
    }

    /// Warns about what crossed a threshold since the last check; schedules the next one.
    public func check(now: IKEInstant) {
        for w in warnings.check(items(), now: wall.epochSeconds()) {
            var metadata: Logger.Metadata = ["role": "\(w.item.role.rawValue)", "subject": "\(w.item.subject)",
                                             "serial": "\(w.item.serial)", "expires": "\(PKITime.format(w.item.expires))"]
            if let p = w.item.peer { metadata["peer"] = "\(p)" }
            if w.thresholdDays == 0 { logger.error("\(w.message)", metadata: metadata) } else { logger.warning("\(w.message)", metadata: metadata) }
            onWarning?(w)
        }
        nextCheck = now.adding(seconds: Self.intervalSeconds)
    }

    public func pollDescriptors() -> [pollfd] { [] }
    public var nextDeadline: IKEInstant? { nextCheck }
    public func handle(_ ready: ArraySlice<pollfd>, now: IKEInstant) {
        guard let due = nextCheck, due <= now else { return }
        check(now: now)
    }
    public func close() {}

    /// Fills in each tunnel's nearest expiry and, for a tunnel that carries no traffic, a reason
    /// that names an expired or refused certificate when that is why.
    public func decorate(_ status: inout NodeStatus) {
        let now = wall.epochSeconds()
        let node = credentials().map(ExpiringItem.items(of:)) ?? []
        let ownProblem = credentials().flatMap { c in Self.ownProblem(c, now: now) }
        for i in status.tunnels.indices {
            let peer = status.tunnels[i].peer
            let seen = peers?.seen[TunnelID(peer: peer)]
            let theirs = peers?.items.filter { $0.peer == peer } ?? []
            if let nearest = (node + theirs).min(by: { $0.expires < $1.expires }) {
                status.tunnels[i].nearestExpiry = .init(what: nearest.words, role: nearest.role.rawValue,
                                                        at: PKITime.format(nearest.expires), inSeconds: nearest.expires - now)
            }
            guard !status.tunnels[i].carriesTraffic else { continue }
            if let ownProblem {
                status.tunnels[i].reason = ownProblem + (status.tunnels[i].reason.map { "; \($0)" } ?? "")
            } else if let seen, let code = seen.refused, [.certificateExpired, .certificateNotYetValid, .certificateRevoked].contains(code) {
                let words = code == .certificateExpired
                    ? "peer \(peer)'s certificate '\(seen.subject)' expired at \(PKITime.format(seen.notAfter)): we refuse it; the peer needs a new one"
                    : "peer \(peer)'s certificate '\(seen.subject)' was refused: \(seen.refusal ?? code.rawValue)"
                status.tunnels[i].reason = words + (status.tunnels[i].reason.map { "; \($0)" } ?? "")
            }
        }
    }

    /// Why peers refuse us whatever we do: our certificate outside its validity.
    static func ownProblem(_ c: NodeCredentials, now: Int64) -> String? {
        let leaf = c.certificate
        if now >= leaf.notAfter {
            return "our certificate '\(leaf.subject)' expired at \(PKITime.format(leaf.notAfter)): peers refuse it; install a new one (docs/pki.md)"
        }
        if now < leaf.notBefore {
            return "our certificate '\(leaf.subject)' is not valid before \(PKITime.format(leaf.notBefore)): peers refuse it"
        }
        return nil
    }
}
