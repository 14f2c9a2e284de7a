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
        version: buildVersion,
        subcommands: [Validate.self, Plan.self, Apply.self, Confirm.self, Rollback.self, Run.self, Status.self, Events.self, Rekey.self, Terminate.self, Lab.self, BGP.self, Graph.self, PKICommand.self, Bench.self, Down.self])

    /// Exit status contract: 0 success, 1 any user error. ArgumentParser reports usage errors
    /// (unknown options, bad values) with 64; those are user errors too. Every error is printed
    /// in one style, `viaduct: error: message`, like the commands' own (ArgumentParser's
    /// `Error:` prefix is replaced; its usage line and help hint stay).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            // --help, --version, and errors a command has already printed (ExitCode).
            if code == .success || error is ExitCode { exit(withError: error) }
            FileHandle.standardError.write(Data((errorText(fullMessage(for: error)) + "\n").utf8))
            Foundation.exit(1)
        }
    }

    /// ArgumentParser's message in the commands' style.
    static func errorText(_ message: String) -> String {
        let trimmed = message.hasPrefix("Error: ") ? String(message.dropFirst("Error: ".count)) : message
        return "viaduct: error: " + trimmed
    }
}
