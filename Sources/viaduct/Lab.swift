import ArgumentParser
import Daemon
import Foundation
import Tools
import Topology

/// `viaduct lab up|status|down FILE`: a whole topology on one machine, in network namespaces
/// (`Tools.LabPlan` says what, `Tools.LabRunner` does it).
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
        let plans = LabRunner.plans(topology, links: loaded.links)
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
        case .status: print(runner.statusReport(), terminator: "")
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
        if runner.isUpAndWhole() {
            // The lab is up and whole: change it in place.
            do {
                let text = try String(contentsOfFile: file, encoding: .utf8)
                for line in try runner.converge(topologyText: text, file: file, wait: wait) { print(line) }
            } catch {
                Output.error("viaduct: error: \(error)")
                throw ExitCode(1)
            }
            for line in runner.summary(file: file) { print(line) }
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
        for line in runner.summary(file: file) { print(line) }
    }
}
