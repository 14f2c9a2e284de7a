import ArgumentParser
import Daemon
import Foundation
import Glibc
import Tools
import Topology

/// `viaduct apply`: validate FILE here, then let the running daemon diff and apply it
/// (`PlanApplier`); with `--confirm`, keep it only if the operator confirms in time.
struct Apply: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply a changed topology to a running daemon, touching only the tunnels that change.",
        discussion: """
            Validates FILE and plans NODE (exactly as 'viaduct plan' would; any error is printed \
            as FILE:LINE:COLUMN and nothing is sent). Then the running 'viaduct run' of the node \
            (its control socket, root only) compares the new plan with the one it runs and prints \
            what it will do, tunnel by tunnel:

              + add          a new peer: interface created (down until its Child SA), IKE SA opened
              - remove       the peer's SAs deleted, its interface, addresses and routes removed
              ! re-establish IKE/ESP settings or the interface changed: the tunnel drops and comes back
              ~ update       inside addresses, MTU or routes changed in place: no rekey, no loss

            Every other tunnel is not touched: no rekey, no packet lost. A change a running daemon \
            cannot take (another data plane, a local address it does not listen on) is refused \
            with nothing changed; restart the daemon for those. Credentials are re-read, even \
            when the topology is the same: a certificate, CA bundle or CRL whose contents changed \
            is listed as '~ credentials: ...' and taken by new IKE SAs and reauthentications, \
            established ones keep running. New credential files the daemon cannot use (expired, \
            not chaining to the CA bundle, a key that is not the certificate's) are refused.

            The daemon gets FILE's text from this command, so FILE may be anywhere this shell \
            sees it (under systemd the daemon has its own /tmp and no /home); the certificate and \
            key files it names are read by the daemon, so they must be where the daemon sees them \
            (/etc/viaduct). It keeps the new plan in memory: make FILE the file the \
            daemon starts from (/etc/viaduct/topology.yaml under systemd), or a restart goes back \
            to the old one.

            --confirm SECONDS works like 'netplan try': after applying, press Enter within \
            SECONDS to keep the change. Otherwise (no answer, end of input, the session lost) the \
            daemon itself restores the previous plan at the deadline. With --no-wait it returns \
            at once, like VyOS's 'commit-confirm': then 'viaduct confirm' keeps the change and \
            'viaduct rollback' undoes it now, from any shell, SSH session or Ansible task.

            EXAMPLES
              viaduct apply /etc/viaduct/topology.yaml --node dc1
              viaduct apply /etc/viaduct/topology.yaml --node dc1 --dry-run
              viaduct apply /etc/viaduct/topology.yaml --node dc1 --confirm 60
              viaduct apply /etc/viaduct/topology.yaml --node dc1 --confirm 120 --no-wait
              viaduct confirm --node dc1
            """)

    @Argument(help: "The topology file (YAML).")
    var file: String

    @Option(help: "The gateway whose daemon to change.")
    var node: String

    @Option(help: "The daemon's control socket (default /run/viaduct/NODE.sock).")
    var socket: String?

    @Option(help: ArgumentHelp("Roll back unless confirmed (Enter) within this many seconds (1...3600).", valueName: "seconds"))
    var confirm: Int?

    @Flag(help: "Only show what would change.")
    var dryRun = false

    @Flag(help: "With --confirm: return once applied; keep it with 'viaduct confirm', undo it with 'viaduct rollback'.")
    var noWait = false

    func validate() throws {
        if noWait && confirm == nil { throw ValidationError("--no-wait needs --confirm SECONDS") }
    }

    func run() throws {
        if let c = confirm, !(1...3600).contains(c) {
            Output.error("viaduct: error: --confirm must be 1...3600 seconds")
            throw ExitCode(1)
        }
        guard let loaded = Output.loadValid(file), let topology = loaded.topology else { throw ExitCode(1) }
        let plan: NodePlan
        switch NodePlanner.plan(topology, links: loaded.links, node: node, fileExists: FileManager.default.fileExists(atPath:)) {
        case .success(let p): plan = p
        case .failure(let e):
            Output.print(e.diagnostics)
            throw ExitCode(1)
        }
        let absolute = URL(fileURLWithPath: file).standardizedFileURL.path
        // The daemon gets the text, not just the path: under systemd it may not see this file
        // (PrivateTmp, ProtectHome). Read once, here, after it validated above.
        guard let data = FileManager.default.contents(atPath: absolute), let text = String(data: data, encoding: .utf8) else {
            Output.error("viaduct: error: cannot read \(file)")
            throw ExitCode(1)
        }
        let path = socket ?? NodeControl.defaultSocketPath(node: node)
        do {
            let client = try ControlClient(path: path)
            defer { client.close() }
            let preview = try client.exchange(.init(command: "apply", file: absolute, topology: text, dryRun: true))
            guard let diff = preview.apply?.diff else { throw DaemonError(.system, "the daemon sent no plan") }
            print(diff.rendered())
            // Peers known by name are looked up again by every apply the daemon takes (off its
            // event loop; a name that points elsewhere rebuilds its tunnel there), which the plan
            // cannot show: with such peers an unchanged plan is still applied.
            let named = plan.tunnels.contains { if case .name = $0.ike.peerUnderlay { $0.ike.role == .initiator } else { false } }
            if diff.isEmpty {
                print("nothing to change")
                if !named || dryRun { return }
                print("looking the peers' names up again")
            }
            if dryRun { return }
            let applied = try client.exchange(.init(command: "apply", file: absolute, topology: text, confirmSeconds: confirm.map(Double.init)))
            guard applied.apply?.applied == true else { throw DaemonError(.system, "the daemon did not apply the plan") }
            print("applied to \(node)")
            guard let seconds = confirm, !diff.isEmpty else { return }
            if noWait {
                let target = socket.map { "--socket \($0)" } ?? "--node \(node)"
                print("keep it with 'viaduct confirm \(target)' within \(seconds) s, or undo it with 'viaduct rollback \(target)'; otherwise the daemon rolls back by itself")
                return
            }
            print("press Enter within \(seconds) s to keep it; otherwise the daemon rolls back to the previous plan")
            if Self.readLine(within: seconds) {
                let answer = try client.exchange(.init(command: "confirm"))
                if answer.ok { print("confirmed") }
            } else {
                Output.error("viaduct: not confirmed: the daemon rolls back to the previous plan")
                throw ExitCode(1)
            }
        } catch let e as DaemonError {
            Output.error("viaduct: error: \(e.message)")
            throw ExitCode(1)
        } catch let e as ControlMessage.ErrorBody {
            Output.error(e.code == "invalid-topology" ? e.message : "viaduct: error: \(e.message)")
            throw ExitCode(1)
        }
    }

    /// True when a line arrives on standard input within `seconds`; false at the deadline or at
    /// end of input (then it waits out the deadline, so the rollback has happened on return).
    static func readLine(within seconds: Int) -> Bool {
        let deadline = Date().addingTimeInterval(Double(seconds))
        var open = true
        while Date() < deadline {
            let left = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
            if !open {
                usleep(UInt32(min(left, 1000)) * 1000)
                continue
            }
            var p = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, min(left, 1000)) > 0 else { continue }
            var byte: UInt8 = 0
            let n = read(0, &byte, 1)
            if n <= 0 { open = false; continue }
            if byte == 0x0A { return true }
        }
        // One more second so the daemon's own deadline has surely passed.
        sleep(1)
        return false
    }
}
