import ArgumentParser
import Daemon
import IKEv2
import NetTypes
import Tools
import Topology

/// `viaduct bench flood`: the IKE_SA_INIT flood of the DoS scenario. Thin: parsing and
/// printing; `Tools.FloodGenerator` paces and sends.
struct BenchFlood: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flood",
        abstract: "Send a bounded IKE_SA_INIT flood from spoofed sources (test namespaces only).",
        discussion: """
            Sends well-formed IKE_SA_INIT requests (the proposal's group with a real public \
            value, fresh SPI and nonce per packet) to TARGET:PORT at RATE packets/s for SECONDS, \
            from source addresses picked uniformly from every --source (an address or a prefix \
            of /16 or longer), and from the --impersonate addresses for the --impersonate-share \
            of packets (a real peer's address: what makes a responder create sessions). Uses a \
            raw socket (CAP_NET_RAW) to choose the source address, so run it only in a network \
            namespace made for the test. Every address must be in 192.0.2.0/24, \
            198.51.100.0/24 or 203.0.113.0/24 (RFC 5737); rate <= 50000/s; seconds <= 600. \
            Prints the packets sent and the rate achieved; the last line is machine-readable.

            EXAMPLE
              ip netns exec vdt-ds-f viaduct bench flood --target 192.0.2.1 \\
                --source 203.0.113.0/24 --source 198.51.100.0/24 \\
                --impersonate 192.0.2.2 --impersonate-share 0.5 --rate 2000 --seconds 20
            """)

    @Option(help: "The responder's address.") var target: String
    @Option(help: "The responder's IKE port.") var port: UInt16 = 500
    @Option(help: "A source address or prefix (repeatable).") var source: [String] = []
    @Option(help: "A real peer's address to send from (repeatable).") var impersonate: [String] = []
    @Option(help: "Share of packets sent from an --impersonate address (0...1).") var impersonateShare = 0.5
    @Option(help: "Packets per second.") var rate = 1000.0
    @Option(help: "Seconds to send.") var seconds = 10.0
    @Option(help: "IKE proposal of the requests (strongSwan syntax).") var ike = "aes256gcm16-prfsha384-ecp384"
    @Option(help: "Seed of the SPI/nonce/source sequence.") var seed: UInt64 = 1

    func run() throws {
        guard let t = IPAddress(target), t.family == .ipv4 else { throw PKICLI.fail("--target must be an IPv4 address, not '\(target)'") }
        guard case .success(let p) = ProposalSyntax.parse(ike, kind: .ike) else { throw PKICLI.fail("bad IKE proposal '\(ike)'") }
        let proposal = IKEAlgorithmSet(proposal: p)
        var sources: [[UInt8]] = [], peers: [[UInt8]] = []
        do {
            for s in source { sources += try FloodGenerator.addresses(s) }
            for s in impersonate { peers += try FloodGenerator.addresses(s) }
        } catch {
            throw PKICLI.fail(error.message)
        }
        let plan = FloodGenerator.Plan(target: IKEEndpoint(address: t.bytes, port: port), sources: sources,
                                       impersonated: peers, impersonatedShare: min(1, max(0, impersonateShare)),
                                       packetsPerSecond: rate, seconds: seconds, seed: seed)
        do {
            var generator = try FloodGenerator(plan: plan, proposal: proposal)
            let sender = try RawIPv4Sender()
            defer { sender.close() }
            let r = generator.run(sender: sender, clock: SystemMonotonicClock())
            print("flood: \(r.sent) IKE_SA_INIT to \(target):\(port) in \(String(format: "%.1f", r.seconds)) s, \(String(format: "%.0f", r.perSecond))/s, from \(sources.count + peers.count) addresses (\(r.impersonating) impersonating \(impersonate.joined(separator: ","))), \(r.sendErrors) send errors")
            print("flood-result sent=\(r.sent) seconds=\(String(format: "%.2f", r.seconds)) per_second=\(String(format: "%.0f", r.perSecond)) impersonating=\(r.impersonating) send_errors=\(r.sendErrors)")
        } catch {
            throw PKICLI.fail(error.message)
        }
    }
}
