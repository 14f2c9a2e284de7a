import ArgumentParser
import Daemon
import Foundation
import IKEv2

/// `viaduct terminate`: see `Rekey`.
struct Terminate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete the IKE SA or the Child SA of a tunnel (RFC 7296 §1.4.1).",
        discussion: """
            Asks a running 'viaduct run' to send the peer an INFORMATIONAL Delete: --child for the \
            tunnel's Child SA (the IKE SA stays; traffic stops until the tunnel is negotiated \
            again), --ike for the IKE SA and everything in it. An initiator opens a new IKE SA \
            after its retry delay; stopping the daemon (SIGTERM) deletes every IKE SA.

            EXAMPLES
              viaduct terminate dc2 --ike
              viaduct terminate dc2 --child --node dc1
            """)

    @Argument(help: "The peer gateway (its name under 'gateways').")
    var peer: String

    @Flag(help: "Delete the IKE SA (and its Child SAs).")
    var ike = false

    @Flag(help: "Delete the Child SA.")
    var child = false

    @OptionGroup var target: ControlTarget

    func validate() throws {
        if ike == child { throw ValidationError("give exactly one of --ike and --child") }
    }

    func run() throws {
        try ControlCommand.send(ike ? .deleteIKE : .deleteChild, peer: peer, target: target)
    }
}
