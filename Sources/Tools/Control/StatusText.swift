import Daemon

/// `viaduct status` for people: one block per tunnel, the state and the reason first, then
/// the IKE SA and each Child SA with what an operator compares with the peer's `swanctl
/// --list-sas` (SPIs, algorithms) and what tells whether traffic flows (counters).
public enum StatusText {
    public static func render(_ s: NodeStatus) -> String {
        let up = s.tunnels.filter(\.carriesTraffic).count
        var out = "\(s.node): \(up) of \(s.tunnels.count) tunnel\(s.tunnels.count == 1 ? "" : "s") up, data plane \(s.dataplane), daemon up \(duration(s.uptimeSeconds))"
        if let v = s.version { out += ", viaduct \(v)" }
        out += "\n"
        if let a = s.admission, a.admitted + a.cookiesSent + a.droppedTotal > 0 { out += admissionLine(a) }
        for t in s.tunnels {
            out += "\n\(t.peer)  \(t.state.rawValue)  \(t.interface)  \(t.localAddress) -> \(t.peerAddress)  (\(t.role))\n"
            if let r = t.reason { out += "  why: \(r)\n" }
            if let x = t.nearestExpiry {
                let when = x.inSeconds > 0 ? "in \(duration(Int(clamping: x.inSeconds)))" : "\(duration(Int(clamping: -x.inSeconds))) ago"
                out += "  expires: \(x.what) at \(x.at) (\(when))\(x.inSeconds < 30 * 86_400 ? "  !" : "")\n"
            }
            if let i = t.ike {
                out += "  IKE  \(i.spis)  \(i.proposal)  peer \(i.peerIdentity)\(i.udpEncapsulation ? "  udp-encap" : "")\n"
                out += "       \(i.local) <-> \(i.remote)  up \(duration(i.uptimeSeconds)), rekey in \(duration(i.rekeyInSeconds))\n"
            }
            for c in t.childSAs {
                let alg = c.encryption + (c.integrity.map { "-" + $0 } ?? "")
                out += "  ESP  \(c.spiIn)_i \(c.spiOut)_o  \(alg)\(c.udpEncapsulation ? "  udp-encap" : "")  up \(duration(c.uptimeSeconds)), rekey in \(duration(c.rekeyInSeconds))\n"
                out += "       in \(c.packetsIn) packets \(bytes(c.bytesIn)), out \(c.packetsOut) packets \(bytes(c.bytesOut))\n"
            }
            if let e = t.lastError, t.state == .established {
                out += "  last error \(duration(e.secondsAgo)) ago: \(e.code): \(e.message)\n"
            }
            if let r = t.refusedChildSA {
                out += "  refused the peer's new Child SA \(duration(r.secondsAgo)) ago (\(r.notify)): \(r.reason)\n"
            }
        }
        return out
    }

    /// One line: what new IKE SA requests cost (cookies, drops by reason, half-open now and peak).
    static func admissionLine(_ a: AdmissionStatus) -> String {
        let drops = a.dropped.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return "IKE_SA_INIT: \(a.admitted) admitted, \(a.cookiesSent) cookies sent, \(a.droppedTotal) dropped"
            + (drops.isEmpty ? "" : " (\(drops))") + ", half-open \(a.halfOpen) (peak \(a.halfOpenPeak))\n"
    }

    public static func render(_ e: TunnelEvent) -> String {
        "\(e.peer) \(e.kind.rawValue)\(e.spis.map { " " + $0 } ?? "") \(e.detail)"
    }

    static func duration(_ seconds: Int) -> String {
        let s = max(0, seconds)
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(s % 60)s" }
        if s < 86_400 { return "\(s / 3600)h\(s % 3600 / 60)m" }
        return "\(s / 86_400)d\(s % 86_400 / 3600)h"
    }

    static func bytes(_ n: UInt64) -> String {
        if n < 1024 { return "\(n) B" }
        let units = ["KiB", "MiB", "GiB", "TiB"]
        var v = Double(n) / 1024
        var i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return "\(Double(Int(v * 10)) / 10) \(units[i])"
    }
}
