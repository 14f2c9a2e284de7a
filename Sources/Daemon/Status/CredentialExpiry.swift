import NetTypes
import PKI

/// One dated thing the node's authentication depends on: a certificate in use (ours, a CA we
/// trust, a peer's as it presented it at its last authentication) or a CRL. `expires` is the
/// certificate's notAfter or the CRL's nextUpdate, epoch seconds.
public struct ExpiringItem: Hashable, Sendable {
    public enum Role: String, Hashable, Sendable, Codable {
        /// Our certificate (what peers validate).
        case own
        /// A CA certificate of the bundle we trust.
        case ca
        /// The certificate a peer presented.
        case peer
        /// A CRL we check peers against (its nextUpdate).
        case crl
    }

    public var role: Role
    /// The certificate's subject, or the CRL's issuer.
    public var subject: String
    /// The certificate's serial (hex), or the CRL's number.
    public var serial: String
    /// The tunnel, for a peer's certificate.
    public var peer: String?
    public var expires: Int64

    public init(role: Role, subject: String, serial: String, peer: String? = nil, expires: Int64) {
        self.role = role
        self.subject = subject
        self.serial = serial
        self.peer = peer
        self.expires = expires
    }

    /// "our certificate 'CN=dc1'", "peer dc2's certificate 'CN=dc2'", "CA certificate 'CN=Root'",
    /// "CRL of 'CN=Root'".
    public var words: String {
        switch role {
        case .own: "our certificate '\(subject)'"
        case .ca: "CA certificate '\(subject)'"
        case .peer: "peer \(peer ?? "?")'s certificate '\(subject)'"
        case .crl: "CRL of '\(subject)' (next update)"
        }
    }

    /// What an item is for: replacing it (a new serial) starts its warnings afresh.
    var key: String { "\(role.rawValue)|\(peer ?? "")|\(subject)|\(serial)" }

    /// The items of the node's credentials: ours, every CA of the bundle, every CRL (a CRL
    /// without nextUpdate never goes stale and is left out).
    public static func items(of c: NodeCredentials) -> [ExpiringItem] {
        var out = [ExpiringItem(role: .own, subject: c.certificate.subject.string, serial: c.certificate.serialHex,
                                expires: c.certificate.notAfter)]
        out += c.intermediates.map { ExpiringItem(role: .ca, subject: $0.subject.string, serial: $0.serialHex, expires: $0.notAfter) }
        out += c.trustAnchors.map { ExpiringItem(role: .ca, subject: $0.subject.string, serial: $0.serialHex, expires: $0.notAfter) }
        out += c.crls.compactMap { crl in
            crl.nextUpdate.map { ExpiringItem(role: .crl, subject: crl.issuer.string, serial: crl.crlNumber.map(String.init) ?? "?", expires: $0) }
        }
        return out
    }
}

/// Warnings before something expires, at 30, 7 and 1 days and once it has: each threshold
/// once per item (not at every check), the nearest one only when several are already passed
/// (a daemon started 5 days before expiry warns "7 days", not "30" and "7"). An item that is
/// replaced (new serial) or gone is forgotten, so its successor is warned about afresh. Pure:
/// the time is passed in.
public struct ExpiryWarnings: Sendable {
    public static let thresholdDays = [30, 7, 1]
    public static let day: Int64 = 86_400

    public struct Warning: Hashable, Sendable {
        public var item: ExpiringItem
        /// 30, 7 or 1; 0 once it has expired.
        public var thresholdDays: Int
        public var secondsLeft: Int64

        /// One line for the log and the event.
        public var message: String {
            if thresholdDays == 0 {
                return item.role == .crl
                    ? "\(item.words) is past: peers of its CA fail to authenticate until a new CRL is installed"
                    : "\(item.words) has expired"
            }
            return "\(item.words) expires in \(Self.left(secondsLeft)) (less than \(thresholdDays) day\(thresholdDays == 1 ? "" : "s")) at \(PKITime.format(item.expires))"
        }

        static func left(_ s: Int64) -> String {
            s >= ExpiryWarnings.day ? "\(s / ExpiryWarnings.day)d\(s % ExpiryWarnings.day / 3600)h" : "\(s / 3600)h\(s % 3600 / 60)m"
        }
    }

    /// Per item key: the smallest threshold already warned about.
    private var warned: [String: Int] = [:]

    public init() {}

    /// The warnings due at `now` for `items` that were not given before.
    public mutating func check(_ items: [ExpiringItem], now: Int64) -> [Warning] {
        var out: [Warning] = []
        let keys = Set(items.map(\.key))
        warned = warned.filter { keys.contains($0.key) }
        for item in items {
            let left = item.expires - now
            let due: Int
            if left <= 0 {
                due = 0
            } else if let t = Self.thresholdDays.last(where: { left <= Int64($0) * Self.day }) {
                due = t
            } else {
                continue
            }
            if let already = warned[item.key], already <= due { continue }
            warned[item.key] = due
            out.append(Warning(item: item, thresholdDays: due, secondsLeft: max(0, left)))
        }
        return out
    }
}
