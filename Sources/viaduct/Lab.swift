import ArgumentParser
import Daemon
import Foundation
import Tools
import Topology

/// `viaduct lab up|status|down FILE`: a whole topology on one machine, in network namespaces.
struct Lab: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a topology's gateways on this machine in network namespaces, and tear them down.",
        discussion: """
            'up' builds every managed gateway of FILE in its own network namespace (vdl-GATEWAY), \
            joined by an underlay segment (namespace vdl-wan-NAME) carrying the gateways' topology \
            addresses, with a host namespace behind each gateway (vdl-GATEWAY-host) holding \
            address .10 of each of the gateway's networks (the gateway has .1). It makes a PKI \
            with 'viaduct pki init' in /run/viaduct-lab/NAME/, starts 'viaduct run' in each \
            gateway's namespace and, for gateways with BGP tunnels, BIRD with the output of \
            'viaduct bgp --format bird', waits for the tunnels, and prints how to try it. \
            Use the topology's documentation addresses only (192.0.2.0/24, 198.51.100.0/24, \
            203.0.113.0/24, 198.18.0.0/15): the lab never touches the host's own interfaces.

            'status' shows each gateway's tunnels (as 'viaduct status') and BIRD's protocols. \
            'down' stops the processes the lab started, by PID, deletes its namespaces (and with \
            them every link, address, route and SA inside) and its work directory. Both 'up' and \
            'down' can be run again at any time. 'up' on a lab that is running changes it in \
            place to match FILE: gateways that stay get the new plan with 'viaduct apply' (their \
            untouched tunnels are not disturbed) and a BIRD reconfigure, new gateways are built \
            and started, removed ones are stopped and deleted; a lab that is only partly there \
            is removed and built again.

            A lab owns the namespaces and processes its work directory records, and 'down' \
            removes only those. Labs whose gateway names differ can be up side by side; 'up' \
            refuses, changing nothing, when a namespace it needs belongs to another lab (it \
            names that lab's file and the command that takes it down) or to no lab.

            Needs root, iproute2, and bird2 for BGP topologies.

            EXAMPLES
              viaduct lab up Topologies/dci-two-site.yaml
              ip netns exec vdl-dc1-host ping 198.18.2.10
              viaduct lab status Topologies/dci-two-site.yaml
              viaduct lab down Topologies/dci-two-site.yaml
            """)

    enum Action: String, ExpressibleByArgument, CaseIterable { case up, status, down }

    @Argument(help: "up, status or down.")
    var action: Action

    @Argument(help: "The topology file (YAML).")
    var file: String

    @Option(help: "Seconds 'up' waits for the tunnels to be established.")
    var wait: Double = 30

    @Option(help: "The lab's name (default: FILE's name without extension); 'up' with the name of a running lab changes it in place.")
    var name: String?

    func run() throws {
        guard geteuid() == 0 else {
            Output.error("viaduct: error: 'viaduct lab' needs root (it creates network namespaces)")
            throw ExitCode(1)
        }
        guard let loaded = Output.loadValid(file), let topology = loaded.topology else { throw ExitCode(1) }
        var plans: [String: NodePlan] = [:]
        for gw in topology.gateways where gw.managed {
            if case .success(let p) = NodePlanner.plan(topology, links: loaded.links, node: gw.name, fileExists: { _ in true }) {
                plans[gw.name] = p
            }
        }
        let name = self.name ?? LabPlan.defaultName(file: file)
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }), !name.isEmpty else {
            Output.error("viaduct: error: --name takes letters, digits, '-' and '_'")
            throw ExitCode(1)
        }
        let plan: LabPlan
        switch LabPlan.make(topology, name: name, plans: plans) {
        case .success(let p): plan = p
        case .failure(let e):
            Output.error("viaduct: error: \(e.message)")
            throw ExitCode(1)
        }
        let runner = LabRunner(plan: plan, plans: plans, dir: "\(LabRunner.root)/\(name)",
                               viaduct: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        switch action {
        case .up: try up(runner, file: file)
        case .status: status(runner)
        case .down:
            let problems = runner.down()
            for p in problems { Output.error("viaduct: error: \(p)") }
            if !problems.isEmpty { throw ExitCode(1) }
            print("lab \(name) is down: no namespace, process or work directory left")
        }
    }

    private func up(_ runner: LabRunner, file: String) throws {
        let plan = runner.plan
        if plan.nodes.contains(where: \.bgp), (try? LabRunner.shell(["sh", "-c", "command -v bird && command -v birdc"])) == nil {
            Output.error("viaduct: error: this topology has BGP tunnels; install BIRD 2 first: apt-get install bird2")
            throw ExitCode(1)
        }
        // Another lab's namespaces (same gateway names) are never taken over, nor deleted below.
        do { try runner.claim() } catch {
            Output.error("viaduct: error: \(error)")
            throw ExitCode(1)
        }
        let live = runner.running()
        if !live.isEmpty && Set(readStateNames(runner)).isSubset(of: Set(live.keys)) {
            // The lab is up and whole: change it in place.
            do {
                let text = try String(contentsOfFile: file, encoding: .utf8)
                for line in try runner.converge(topologyText: text, file: file, wait: wait) { print(line) }
            } catch {
                Output.error("viaduct: error: \(error)")
                throw ExitCode(1)
            }
            summary(runner, file: file)
            return
        }
        _ = runner.down()
        do {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            try runner.up(topologyText: text, file: file, wait: wait)
        } catch {
            Output.error("viaduct: error: \(error)")
            let problems = runner.down()
            Output.error(problems.isEmpty ? "viaduct: the partial lab was removed" : "viaduct: could not remove everything: \(problems.joined(separator: "; "))")
            throw ExitCode(1)
        }
        summary(runner, file: file)
    }

    /// Gateways `lab.state` says were started.
    private func readStateNames(_ runner: LabRunner) -> [String] {
        runner.readState().pids.compactMap { $0.what.hasPrefix("viaduct ") ? String($0.what.dropFirst("viaduct ".count)) : nil }
    }

    private func summary(_ runner: LabRunner, file: String) {
        let plan = runner.plan
        for note in plan.notes { print("note: \(note)") }
        print("lab \(plan.name) is up in \(runner.dir):")
        for n in plan.nodes {
            let s = try? runner.status(of: n)
            let up = s?.tunnels.filter(\.carriesTraffic).count ?? 0
            let lan = n.lans.map { "\($0.hostAddress)" }.joined(separator: ", ")
            print("  \(n.name): namespace \(n.namespace), \(up)/\(s?.tunnels.count ?? 0) tunnels up, host \(n.hostNamespace) (\(lan))\(n.bgp ? ", BIRD" : "")")
        }
        print("\ntry it:")
        if plan.nodes.count >= 2, let a = plan.nodes.first, let b = plan.nodes.dropFirst().first, let target = b.lans.first {
            print("  ip netns exec \(a.hostNamespace) ping -c 3 \(target.hostAddress)      # \(a.name)'s host to \(b.name)'s, through the tunnel")
        }
        let f = file
        print("  viaduct lab status \(f)")
        if let a = plan.nodes.first {
            print("  viaduct status --socket \(runner.socket(a))")
            print("  viaduct events --socket \(runner.socket(a))")
            if a.bgp { print("  birdc -s \(runner.birdSocket(a)) show route") }
            print("  ip netns exec \(a.namespace) curl -s http://\(LabRunner.metricsAddress)/metrics    # Prometheus metrics")
            print("  less \(runner.dir)/\(a.name).log")
        }
        print("  viaduct lab down \(f)")
    }

    private func status(_ runner: LabRunner) {
        for n in runner.plan.nodes {
            print("== \(n.name) (namespace \(n.namespace))")
            do {
                print(StatusText.render(try runner.status(of: n)), terminator: "")
            } catch {
                print("  the daemon is not answering on \(runner.socket(n)): \(error)")
            }
            if n.bgp {
                print("\nBIRD:")
                print(runner.birdProtocols(n), terminator: "")
            }
            print("")
        }
    }
}
