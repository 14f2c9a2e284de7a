import ArgumentParser
import Foundation

@main
struct Viaduct: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "viaduct",
        abstract: "Route-based IPsec tunnels between Linux gateways, from one topology file.",
        discussion: """
            One YAML file declares a network of sites: gateways, their networks, and the tunnels \
            between them (pairs, full meshes, hubs with spokes). On each gateway, viaduct builds that \
            gateway's part: one tunnel interface per peer, IKEv2 with X.509 certificates, the ESP \
            SAs, the inside addresses and the routes, so BGP daemons can peer over the tunnels.

            Start with 'viaduct validate FILE', then 'viaduct plan FILE --node NAME' to see what a \
            gateway will look like. The topology language is described in docs/topology.md.

            Exit status: 0 on success, 1 when the input is wrong (each problem is printed as \
            FILE:LINE:COLUMN: error: message).
            """,
        version: viaductVersion,
        subcommands: [Validate.self, Plan.self, Apply.self, Run.self, Status.self, Events.self, Rekey.self, Terminate.self, Lab.self, BGP.self, PKICommand.self, Bench.self, Down.self])

    /// Exit status contract: 0 success, 1 any user error. ArgumentParser reports usage errors
    /// (unknown options, bad values) with 64; those are user errors too.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(1)
            }
            exit(withError: error)
        }
    }
}
