import NetTypes
import Topology

/// A whole topology laid out on one machine, in network namespaces, derived from the topology
/// alone (pure: `viaduct lab` executes it, tests read it):
///
///     vdl-<gw>-host ──eth0/lan0── vdl-<gw> ──wan0/wanN── vdl-wan-<lab> (bridge br0) ── ... other gateways
///
/// The underlay is one Ethernet segment (a bridge in `vdl-wan-<lab>`); each gateway has its topology
/// addresses as /32 (/128) on `wan0` and an on-link /32 route to every other gateway, so
/// the documentation ranges of the examples (192.0.2.x, 198.51.100.x, 203.0.113.x) reach each
/// other without a router. Behind each gateway, one host namespace holds the host `.10` of
/// every network the gateway announces; the gateway holds `.1` and forwards. Only managed
/// gateways are built; unmanaged peers are reported in `notes`.
public struct LabPlan: Hashable, Sendable {
    public struct LAN: Hashable, Sendable {
        public var network: IPPrefix
        public var gatewayAddress: IPAddress
        public var hostAddress: IPAddress
    }

    public struct Node: Hashable, Sendable {
        public var name: String
        public var namespace: String
        public var hostNamespace: String
        /// The bridge port in `vdl-wan-<lab>` (`wan0`, `wan1`, ...), by gateway order.
        public var wanPort: String
        public var underlay: [IPAddress]
        public var lans: [LAN]
        /// Runs BIRD: at least one of its tunnels has `routing: bgp`.
        public var bgp: Bool
        /// BIRD's router id: the gateway's first IPv4 underlay address, else its first IPv4 host.
        public var routerID: IPAddress?
    }

    public static let hostOffset: UInt64 = 10

    public var name: String
    public var nodes: [Node]
    public var notes: [String]

    /// The underlay segment's namespace, one per lab (`vdl-wan-<lab>`), so labs whose gateways
    /// differ can be up side by side; gateway namespaces keep the topology's names.
    public var wanNamespace: String { "vdl-wan-\(name)" }

    /// Every namespace the lab creates, in creation order (removed in reverse).
    public var namespaces: [String] {
        [wanNamespace] + nodes.flatMap { [$0.namespace, $0.hostNamespace] }
    }

    public static func namespace(of gateway: String) -> String { "vdl-\(gateway)" }

    public static func make(_ topology: Topology, name: String, plans: [String: NodePlan]) -> Result<LabPlan, LabError> {
        var nodes: [Node] = []
        var notes: [String] = []
        for gw in topology.gateways {
            guard gw.managed else {
                notes.append("\(gw.name) is not managed by Viaduct (managed: false): not built; its tunnels stay down")
                continue
            }
            guard gw.underlay == .fixed else {
                return .failure(LabError(.unsupported, "\(gw.name) has 'address: \(gw.underlay)'; the lab wires every gateway to fixed underlay addresses, so give it one (the interop scenarios in Deploy/interop cover dynamic and named peers)"))
            }
            var lans: [LAN] = []
            for n in gw.networks {
                let size = n.family.bitCount - n.length
                guard size >= 4 else {
                    notes.append("\(gw.name): network \(n) is too small for a gateway and a host (.1 and .\(hostOffset)); not built")
                    continue
                }
                lans.append(LAN(network: n, gatewayAddress: n.host(1), hostAddress: n.host(hostOffset)))
            }
            let v4 = gw.addresses.first { $0.family == .ipv4 } ?? lans.first { $0.network.family == .ipv4 }?.gatewayAddress
            let bgp = plans[gw.name]?.tunnels.contains { $0.bgp != nil } ?? false
            if bgp && v4 == nil {
                return .failure(LabError(.unsupported, "\(gw.name) has BGP tunnels but no IPv4 address for BIRD's router id"))
            }
            nodes.append(Node(name: gw.name, namespace: namespace(of: gw.name), hostNamespace: namespace(of: gw.name) + "-host",
                              wanPort: "wan\(nodes.count)", underlay: gw.addresses, lans: lans, bgp: bgp, routerID: v4))
        }
        guard !nodes.isEmpty else {
            return .failure(LabError(.unsupported, "\(topology.file) has no managed gateway: nothing to build"))
        }
        let plan = LabPlan(name: name, nodes: nodes, notes: notes)
        // A gateway named `x-host` next to one named `x`, or `wan-<lab>`, would share a namespace.
        var seen: Set<String> = []
        for ns in plan.namespaces where !seen.insert(ns).inserted {
            return .failure(LabError(.unsupported, "two parts of lab '\(name)' would share the namespace \(ns) (gateway names 'x' and 'x-host', or 'wan-\(name)'); rename a gateway or pick another --name"))
        }
        return .success(plan)
    }

    /// The `ip` commands that build the namespaces and links, in order (each an argv). With
    /// `only`, the commands that add those gateways to a lab that is up (the underlay segment
    /// and the other gateways exist): their namespaces and links, and the underlay routes
    /// between them and everyone else.
    public func buildCommands(only: Set<String>? = nil) -> [[String]] {
        let wan = wanNamespace
        var c: [[String]] = only != nil ? [] : [
            ["ip", "netns", "add", wan],
            ["ip", "-n", wan, "link", "set", "lo", "up"],
            ["ip", "-n", wan, "link", "add", "br0", "type", "bridge"],
            ["ip", "-n", wan, "link", "set", "br0", "up"],
        ]
        let selected = { (n: Node) in only?.contains(n.name) ?? true }
        for n in nodes where selected(n) {
            let ns = n.namespace, host = n.hostNamespace
            c += [
                ["ip", "netns", "add", ns],
                ["ip", "-n", ns, "link", "set", "lo", "up"],
                ["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1"],
                ["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"],
                ["ip", "-n", wan, "link", "add", n.wanPort, "type", "veth", "peer", "name", "wan0", "netns", ns],
                ["ip", "-n", wan, "link", "set", n.wanPort, "master", "br0", "up"],
            ]
            for a in n.underlay {
                c.append(["ip", "-n", ns, "addr", "add", "\(a)/\(a.family.bitCount)", "dev", "wan0"] + (a.family == .ipv6 ? ["nodad"] : []))
            }
            c.append(["ip", "-n", ns, "link", "set", "wan0", "up"])
            c += [
                ["ip", "netns", "add", host],
                ["ip", "-n", host, "link", "set", "lo", "up"],
                ["ip", "-n", ns, "link", "add", "lan0", "type", "veth", "peer", "name", "eth0", "netns", host],
            ]
            for l in n.lans {
                let dad = l.network.family == .ipv6 ? ["nodad"] : []
                c.append(["ip", "-n", ns, "addr", "add", "\(l.gatewayAddress)/\(l.network.length)", "dev", "lan0"] + dad)
                c.append(["ip", "-n", host, "addr", "add", "\(l.hostAddress)/\(l.network.length)", "dev", "eth0"] + dad)
            }
            c += [["ip", "-n", ns, "link", "set", "lan0", "up"], ["ip", "-n", host, "link", "set", "eth0", "up"]]
            for family in [IPAddress.Family.ipv4, .ipv6] {
                guard let l = n.lans.first(where: { $0.network.family == family }) else { continue }
                c.append(["ip", "-n", host] + (family == .ipv6 ? ["-6"] : []) + ["route", "add", "default", "via", "\(l.gatewayAddress)"])
            }
        }
        // Every gateway reaches every other one's underlay addresses on the shared segment.
        for n in nodes {
            for other in nodes where other.name != n.name && (selected(n) || selected(other)) {
                for a in other.underlay where n.underlay.contains(where: { $0.family == a.family }) {
                    c.append(["ip", "-n", n.namespace, "route", "add", "\(a)/\(a.family.bitCount)", "dev", "wan0"])
                }
            }
        }
        return c
    }

    /// bird.conf for one gateway: the routing around Viaduct's BGP sessions (`bgpInclude` is the
    /// output of `viaduct bgp --format bird`). The site's networks come from `protocol direct`
    /// on the LAN, BGP routes go to the kernel, and nothing else is learned or exported.
    public func birdConfig(for node: Node, bgpInclude: String) -> String {
        """
        # BIRD for \(node.name) in the Viaduct lab '\(name)' (generated by 'viaduct lab up').
        router id \(node.routerID.map { "\($0)" } ?? "0.0.0.1");
        log stderr all;

        protocol device { scan time 5; }

        # This site's networks, as configured on the LAN side; the BGP export filters pick them.
        protocol direct lan {
            ipv4;
            ipv6;
            interface "lan0";
        }

        # Routes learned over the tunnels go to the kernel; the kernel's own routes stay out.
        # Equal routes over parallel tunnels are installed together (ECMP).
        protocol kernel kernel4 {
            ipv4 { import none; export where source = RTS_BGP; };
            merge paths on;
        }
        protocol kernel kernel6 {
            ipv6 { import none; export where source = RTS_BGP; };
            merge paths on;
        }

        include "\(bgpInclude)";

        """
    }
}
