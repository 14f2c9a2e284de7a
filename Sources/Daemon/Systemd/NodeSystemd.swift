import IKEv2
import NetTypes

/// What systemd hears from a running daemon (`Type=notify`): READY=1 once the sockets are open
/// and the kernel state is reconciled, a STATUS line (`2 of 3 tunnels up`) whenever that count
/// changes, RELOADING=1 … READY=1 around a SIGHUP reload (`IKEEventLoop.notifier`), and
/// STOPPING=1 on the way out. A tunnel counts as up while it has a Child SA installed, which is
/// also when its interface is up. Does nothing when not started by systemd.
public final class NodeSystemd {
    public let notifier: SystemdNotifier
    /// Configured tunnels; `viaduct apply` changes it.
    public var tunnels: Int
    private var installed: [TunnelID: Set<ESPSPI>] = [:]
    private var lastStatus: String?

    public init(notifier: SystemdNotifier, tunnels: Int) {
        self.notifier = notifier
        self.tunnels = tunnels
    }

    public var statusLine: String {
        "\(installed.values.filter { !$0.isEmpty }.count) of \(tunnels) tunnel\(tunnels == 1 ? "" : "s") up"
    }

    /// Hooks the loop: tunnel events update the STATUS line, reloads are announced.
    public func attach(to loop: IKEEventLoop) {
        loop.notifier = notifier
        let previous = loop.core.onEvent
        loop.core.onEvent = { [self] tunnel, event in
            previous?(tunnel, event)
            record(tunnel: tunnel, event: event)
        }
    }

    func record(tunnel: TunnelID, event: IKEEvent) {
        switch event {
        case .childSAReady(let sa): installed[tunnel, default: []].insert(sa.inboundSPI)
        case .childSADeleted(let inbound, _): installed[tunnel]?.remove(inbound)
        default: return
        }
        announce()
    }

    /// A new plan (`viaduct apply`): the tunnel count, and tunnels that are gone.
    public func update(tunnels: [TunnelID]) {
        self.tunnels = tunnels.count
        let keep = Set(tunnels)
        installed = installed.filter { keep.contains($0.key) }
        announce()
    }

    private func announce() {
        let line = statusLine
        guard line != lastStatus, lastStatus != nil else { return }
        lastStatus = line
        notifier.status(line)
    }

    public func ready() {
        lastStatus = statusLine
        notifier.ready(status: statusLine)
    }

    public func stopping() {
        notifier.send(["STOPPING=1", "STATUS=stopping"])
    }
}
