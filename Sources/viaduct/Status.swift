import ArgumentParser
import Daemon
import Foundation
import Tools

/// `viaduct status`: asks a running daemon over its control socket. No logic of its own:
/// the daemon keeps the state (`TunnelStatusBook`), `StatusText` words it.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show every configured tunnel of a running daemon: state, why it is down, SAs, counters.",
        discussion: """
            Connects to the control socket of a running 'viaduct run' (root only; members of the \
            'run --status-group' group use the status socket) and prints each \
            tunnel of the node, including those that are down, with the reason in plain words \
            (the last failure, or what the daemon is waiting for), the IKE SA (SPIs as swanctl \
            prints them, proposal, peer identity, NAT traversal, uptime, next rekey) and each \
            Child SA (SPIs, algorithms, UDP encapsulation, packets and bytes each way).

            --json prints the daemon's reply as is: one object, snake_case keys, with a \
            format_version, documented in docs/status-json.md; fields are only ever added.

            --check is for scripts, monitoring and rollouts (Deploy/ansible): exit 0 when every \
            tunnel carries traffic (IKE SA established and a Child SA installed), else exit 1 \
            naming the tunnels that do not, with the reason.

            EXAMPLES
              viaduct status
              viaduct status --node dc1 --json
              viaduct status --socket /run/viaduct-lab/dci-two-site/dc1.sock
              viaduct status --node dc1 --check
            """)

    @OptionGroup var target: ControlTarget

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Flag(help: "Exit 0 only when every tunnel carries traffic; name the others (for scripts).")
    var check = false

    func run() throws {
        let path = try target.path(readOnly: true)
        try ControlCommand.reportingFailures {
            let status = try ControlClient.status(at: path)
            if check {
                let down = status.tunnels.filter { !$0.carriesTraffic }
                guard down.isEmpty else {
                    for t in down { Output.error("\(t.peer): \(t.state.rawValue): \(t.reason ?? "no Child SA")") }
                    Output.error("viaduct: \(down.count) of \(status.tunnels.count) tunnels of \(status.node) carry no traffic")
                    throw ExitCode(1)
                }
                print("\(status.node): all \(status.tunnels.count) tunnels up")
            } else if json {
                print(String(decoding: ControlMessage.encodeLine(status).dropLast(), as: UTF8.self))
            } else {
                print(StatusText.render(status), terminator: "")
            }
        }
    }
}
