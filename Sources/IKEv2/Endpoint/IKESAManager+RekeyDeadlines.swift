// RFC 7296 §2.8, §2.18: the rekey instants a tunnel's sessions drew, for status.
import NetTypes

extension IKESAManager {
    /// The rekeys the tunnel's established IKE SAs scheduled (two during a reauthentication,
    /// §2.8.3: their Child SAs together, the earlier IKE SA rekey); nil when none is established.
    public func rekeyDeadlines(of tunnel: TunnelID) -> IKERekeyDeadlines? {
        guard let index = table.peerIndex(of: tunnel) else { return nil }
        var merged: IKERekeyDeadlines?
        for id in table.sessionIDs(ofPeer: index, where: { !$0.finished }) {
            guard let d = table.sessions[id]?.session.rekeyDeadlines else { continue }
            var m = merged ?? IKERekeyDeadlines()
            if let ike = d.ike { m.ike = m.ike.map { min($0, ike) } ?? ike }
            m.children.merge(d.children, uniquingKeysWith: min)
            merged = m
        }
        return merged
    }
}
