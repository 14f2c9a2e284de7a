import ArgumentParser
import Daemon
import Foundation
import IKEv2
import Logging
import Topology

/// `viaduct run`: parse, plan, load credentials, then hand everything to `Daemon.NodeDaemon`.
/// Thin on purpose: no protocol or socket logic lives here.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the IKEv2 daemon for one gateway in the foreground.",
        discussion: """
            DESCRIPTION
              Validates FILE, plans NODE (as 'viaduct plan' would), loads the node's private key, \
            certificate, CA certificates and CRLs, opens the IKE sockets, initiates the IKE SAs \
            this end is planned to open, answers the ones its peers open, and runs until SIGINT \
            or SIGTERM. Meant for a terminal or a systemd service (Type=notify: it reports \
            READY=1 once its sockets are open, and STATUS/STOPPING; see docs/operations.md): it \
            never forks. SIGHUP asks it to re-read FILE and apply it.

              Credential files (certificate, key, CA bundle, CRLs) are re-read on SIGHUP, on \
            'viaduct apply', and when they change on disk (2 s after the last change; \
            --no-watch-credentials turns that off). New IKE SAs and reauthentications use the \
            new ones; established SAs keep running. New files that are unreadable, an \
            unprotected key, a key that is not the certificate's, a certificate that is expired \
            or does not chain to the CA bundle are refused with a log line and an event, and the \
            credentials in use stay.

              Each negotiated Child SA is handed to the data plane the topology's 'dataplane' \
            asks for ('auto' by default: the kernel's when it has ESP and xfrm interfaces or VTI, \
            Viaduct's userspace one otherwise). The kernel data plane binds the SAs to one xfrm \
            interface (or VTI) per tunnel and uses UDP encapsulation only when a NAT is detected. \
            The userspace data plane uses one TUN interface per tunnel and always carries ESP in \
            UDP/4500 (AES-GCM or ChaCha20-Poly1305). Either way a tunnel's interface gets its MTU \
            and inside addresses at start and stays down, without its static routes, until its \
            Child SA is installed.

            SOCKETS
              UDP 500 and 4500 on every local underlay address the plan uses (IPv4 and IPv6). \
            Port 4500 carries IKE behind the 4-byte non-ESP marker (RFC 3948) and ESP. Each IKE \
            socket gets per-socket IPsec bypass policies (as strongSwan installs them), so no XFRM \
            policy, Viaduct's or anyone else's, can catch IKE. Needs root, or \
            CAP_NET_BIND_SERVICE + CAP_NET_ADMIN.

            LOGGING
              One line per event on stderr: 'LEVEL message key=value ...' with keys such as \
            peer, spi, proposal, reason, notify; the first line names the version. Under systemd, \
            journald stores the lines and adds the timestamps; when stderr is the journal \
            (JOURNAL_STREAM), each line carries its syslog priority, so 'journalctl -p warning \
            -u viaduct@NODE' shows warnings and errors only. Key material is never logged, at any \
            level.

            EXIT STATUS
              0 after a clean shutdown on SIGINT/SIGTERM. 1 when the input is wrong or the daemon \
            cannot start: an invalid topology (FILE:LINE:COLUMN diagnostics), an unknown node, a \
            missing or unreadable key/certificate/CA/CRL, or an underlay address that is not \
            configured on this host (the message names the address).

            METRICS
              --metrics ADDRESS:PORT serves Prometheus' text format at /metrics on that local \
            address: per-tunnel state (down tunnels included), rekeys, failures by reason, bytes \
            and packets, handshake latency, and the daemon's datagram counters (docs/operations.md).

            EXAMPLES
              viaduct run /etc/viaduct/topology.yaml --node dc1
              viaduct run site.yaml --node branch-a --log-level debug
            """)

    @Argument(help: "The topology file (YAML).")
    var file: String

    @Option(help: "The gateway this host is (a name under 'gateways').")
    var node: String

    @Option(help: "trace, debug, info (default), notice, warning, error or critical.")
    var logLevel = "info"

    @Flag(help: "Prefix each log line with a UTC timestamp (for logs not written to journald).")
    var timestamps = false

    @Flag(help: "Use UDP encapsulation (ESP in UDP/4500) even when no NAT is detected.")
    var forceEncapsulation = false

    @Option(help: ArgumentHelp("The control socket for 'viaduct status' and 'viaduct events' (default /run/viaduct/NODE.sock; 'none' for no socket).", valueName: "path"))
    var controlSocket: String?

    @Option(help: ArgumentHelp("Also serve status and events, read-only, to this group's members on NODE.status.sock beside the control socket (a NOC user needs no root).", valueName: "group"))
    var statusGroup: String?

    @Option(help: ArgumentHelp("Serve Prometheus metrics at http://ADDRESS:PORT/metrics (e.g. 127.0.0.1:9469 or [::1]:9469; off by default).", valueName: "address:port"))
    var metrics: String?

    @Option(help: ArgumentHelp("Seconds before the first retransmission of an IKE request; each next one waits 1.8 times longer (strongSwan's retransmit_timeout).", valueName: "seconds"))
    var retransmitTimeout: Double = 4

    @Option(help: ArgumentHelp("Retransmissions before a peer is declared dead or an attempt failed (strongSwan's retransmit_tries; 5 is about 165 s).", valueName: "count"))
    var retransmitTries: Int = 5

    @Option(help: ArgumentHelp("Seconds before an initiator retries a failed IKE SA or rebuilds a tunnel that lost its Child SA.", valueName: "seconds"))
    var retryDelay: Double = 30

    @Option(help: ArgumentHelp("Tests only: stall an apply this many seconds half-way (to kill the daemon mid-apply).", visibility: .hidden))
    var applyPause: Double = 0

    @Option(help: ArgumentHelp("Half-open IKE SAs at which new ones must return a COOKIE (0: always; for interop tests).", visibility: .hidden))
    var cookieThreshold: Int?

    @Flag(help: "Do not re-read the credential files when they change on disk (SIGHUP and 'viaduct apply' still do).")
    var noWatchCredentials = false

    @Flag(help: ArgumentHelp("Give every IKE_SA_INIT from a configured peer a session: no cookies, no limits (the DoS scenario's control run).", visibility: .hidden))
    var noAdmissionGate = false

    func run() throws {
        guard let level = Logger.Level(rawValue: logLevel.lowercased()) else {
            Output.error("viaduct: error: unknown log level '\(logLevel)'; use trace, debug, info, notice, warning, error or critical")
            throw ExitCode(1)
        }
        let stamps = timestamps
        let journal = KeyValueLogHandler.stderrIsJournal(environment: ProcessInfo.processInfo.environment)
        LoggingSystem.bootstrap { KeyValueLogHandler(label: $0, level: level, timestamps: stamps, journalPriorities: journal) }
        let logger = Logger(label: "viaduct")
        logger.info("viaduct starting", metadata: ["version": "\(buildVersion)", "node": "\(node)"])

        guard retransmitTimeout > 0, retransmitTimeout <= 120, (0...20).contains(retransmitTries) else {
            Output.error("viaduct: error: --retransmit-timeout must be in (0, 120] seconds and --retransmit-tries in 0...20")
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
        do {
            // Peers known by name: looked up off the event loop for every IKE SA opened to them
            // and again on apply; the plan leaves their address open.
            let names = try PeerNameResolver()
            let credentials = try NodeCredentials.load(plan: plan)
            let preSharedKeys = try PreSharedKeys.load(plan: plan)
            // At start there is nothing older to keep: say so loudly and run (status shows it too).
            do throws(DaemonError) { try credentials.checkUsable(at: SystemWallClock().epochSeconds()) } catch {
                logger.warning("the node's certificate is not usable: peers will refuse it", metadata: ["reason": "\(error.message)"])
            }
            let clock = SystemMonotonicClock()
            let dataplane = try DataplaneSelection.backend(for: plan, logger: logger)
            let encapsulate = forceEncapsulation || dataplane.forceUDPEncapsulation
            var options = DaemonOptions(bypassPolicies: dataplane.bypassPolicies, reinitiateDelaySeconds: retryDelay,
                                        forceUDPEncapsulation: encapsulate)
            options.version = buildVersion
            options.applyPauseSeconds = applyPause
            options.topologyFile = URL(fileURLWithPath: file).standardizedFileURL.path
            options.controlSocketPath = controlSocket == "none" ? nil : (controlSocket ?? NodeControl.defaultSocketPath(node: plan.node))
            options.statusGroup = try statusGroup.map { name throws(DaemonError) in try ControlSocket.groupID(named: name) }
            options.metricsAddress = try metrics.map { text throws(DaemonError) in try MetricsAddress(parsing: text) }
            options.retransmitTimeoutSeconds = retransmitTimeout
            options.retransmitTries = retransmitTries
            if let t = cookieThreshold { options.admission?.cookieThreshold = max(0, t) }
            if noAdmissionGate { options.admission = nil }
            options.watchCredentialFiles = !noWatchCredentials
            let espSupport = dataplane.backend.espSupport
            PeerConfigurationMapper.logUncarried(plan: plan, dataplane: espSupport, logger: logger)
            // What peers present at authentication, kept across credential reloads.
            let peerCertificates = PeerCertificateBook()
            let factory = EngineSessionFactory(plan: plan, credentials: credentials, ports: options.ports,
                                               clock: clock, wall: SystemWallClock(), forceUDPEncapsulation: encapsulate,
                                               retransmission: options.retransmission, espSupport: espSupport,
                                               peerCertificates: peerCertificates,
                                               preSharedKeys: preSharedKeys, names: names)
            factory.pathMTU = KernelPathMTU.lookup()
            let ports = options.ports
            let retransmission = options.retransmission
            _ = try NodeDaemon.run(plan: plan, factory: factory, dataplane: dataplane.backend,
                                   options: options, clock: clock, logger: logger, names: names) { (next: NodePlan) throws(DaemonError) -> any IKESessionFactory in
                PeerConfigurationMapper.logUncarried(plan: next, dataplane: espSupport, logger: logger)
                // A reload takes only credentials a peer would accept now; otherwise the old ones stay.
                let reloaded = try NodeCredentials.load(plan: next)
                try reloaded.checkUsable(at: SystemWallClock().epochSeconds())
                let made = EngineSessionFactory(plan: next, credentials: reloaded, ports: ports,
                                                clock: clock, wall: SystemWallClock(), forceUDPEncapsulation: encapsulate,
                                                retransmission: retransmission, espSupport: espSupport,
                                                peerCertificates: peerCertificates,
                                                preSharedKeys: try PreSharedKeys.load(plan: next), names: names)
                made.pathMTU = KernelPathMTU.lookup()
                return made
            }
        } catch {
            Output.error("viaduct: error: \(error.message)")
            throw ExitCode(1)
        }
    }
}
