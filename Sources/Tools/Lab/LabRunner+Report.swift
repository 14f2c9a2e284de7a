import Daemon
import Topology

extension LabRunner {
    /// The plan of every managed gateway of `topology` that plans (the lab builds those).
    public static func plans(_ topology: Topology, links: [TunnelLink]) -> [String: NodePlan] {
        var plans: [String: NodePlan] = [:]
        for gw in topology.gateways where gw.managed {
            if case .success(let p) = NodePlanner.plan(topology, links: links, node: gw.name, fileExists: { _ in true }) {
                plans[gw.name] = p
            }
        }
        return plans
    }

    /// Gateways `lab.state` says were started.
    public func startedGateways() -> [String] {
        readState().pids.compactMap { $0.what.hasPrefix("viaduct ") ? String($0.what.dropFirst("viaduct ".count)) : nil }
    }

    /// The lab is up and whole: some daemon runs, and every gateway `lab.state` started still
    /// does. `lab up` then changes it in place rather than building it again.
    public func isUpAndWhole() -> Bool {
        let live = running()
        return !live.isEmpty && Set(startedGateways()).isSubset(of: Set(live.keys))
    }

    /// What `lab up` prints once the lab is up: each gateway's tunnels and host, and what to
    /// try (`file` as the user gave it). One element per line.
    public func summary(file: String) -> [String] {
        var lines: [String] = []
        for note in plan.notes { lines.append("note: \(note)") }
        lines.append("lab \(plan.name) is up in \(dir):")
        for n in plan.nodes {
            let s = try? status(of: n)
            let up = s?.tunnels.filter(\.carriesTraffic).count ?? 0
            let lan = n.lans.map { "\($0.hostAddress)" }.joined(separator: ", ")
            lines.append("  \(n.name): namespace \(n.namespace), \(up)/\(s?.tunnels.count ?? 0) tunnels up, host \(n.hostNamespace) (\(lan))\(n.bgp ? ", BIRD" : "")")
        }
        lines.append("\ntry it:")
        if plan.nodes.count >= 2, let a = plan.nodes.first, let b = plan.nodes.dropFirst().first, let target = b.lans.first {
            lines.append("  ip netns exec \(a.hostNamespace) ping -c 3 \(target.hostAddress)      # \(a.name)'s host to \(b.name)'s, through the tunnel")
        }
        lines.append("  viaduct lab status \(file)")
        if let a = plan.nodes.first {
            lines.append("  viaduct status --socket \(socket(a))")
            lines.append("  viaduct events --socket \(socket(a))")
            if a.bgp { lines.append("  birdc -s \(birdSocket(a)) show route") }
            lines.append("  ip netns exec \(a.namespace) curl -s http://\(Self.metricsAddress)/metrics    # Prometheus metrics")
            lines.append("  less \(dir)/\(a.name).log")
        }
        lines.append("  viaduct lab down \(file)")
        return lines
    }

    /// What `lab status` prints: each gateway's tunnels (as `viaduct status`) and BIRD's
    /// protocols.
    public func statusReport() -> String {
        var out = ""
        for n in plan.nodes {
            out += "== \(n.name) (namespace \(n.namespace))\n"
            do {
                out += StatusText.render(try status(of: n))
            } catch {
                out += "  the daemon is not answering on \(socket(n)): \(error)\n"
            }
            if n.bgp {
                out += "\nBIRD:\n"
                out += birdProtocols(n)
            }
            out += "\n"
        }
        return out
    }
}
