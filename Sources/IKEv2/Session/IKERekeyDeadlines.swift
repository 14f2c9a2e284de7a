// RFC 7296 §2.8 (rekeying Child SAs), §2.18 (rekeying the IKE SA): the instants this end drew
// for its rekeys (`rekeyDelay`: lifetime − margin − a random part of the jitter), as status shows them.
import NetTypes

/// When an established IKE SA will start its own rekeys: the scheduled instants, random part
/// of the jitter included, so status tells the time the engine will really act.
public struct IKERekeyDeadlines: Equatable, Sendable {
    /// The IKE SA's rekey (or reauthentication, §2.8.3); nil once it is due or under way.
    public var ike: IKEInstant?
    /// Each Child SA's rekey, by inbound SPI (in the past once it is due or under way).
    public var children: [ESPSPI: IKEInstant]

    public init(ike: IKEInstant? = nil, children: [ESPSPI: IKEInstant] = [:]) {
        self.ike = ike
        self.children = children
    }
}

extension IKESession {
    /// The rekeys this session scheduled; nil unless its IKE SA is established.
    public var rekeyDeadlines: IKERekeyDeadlines? {
        guard state == .established, let up else { return nil }
        return IKERekeyDeadlines(ike: up.ikeRekeyAt,
                                 children: Dictionary(up.children.map { ($0.inboundSPI, $0.rekeyAt) }, uniquingKeysWith: min))
    }
}
