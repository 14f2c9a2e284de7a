import ArgumentParser
import Daemon
import Foundation
import IKEv2

/// `viaduct rekey` / `viaduct terminate`: operator commands for one tunnel of a running daemon,
/// what `swanctl --rekey` and `swanctl --terminate` are for strongSwan. The daemon starts the
/// exchange and answers at once; `viaduct events` shows how it ends.
struct Rekey: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rekey the IKE SA or the Child SA of a tunnel now (RFC 7296 §2.18, §2.8).",
        discussion: """
            Asks a running 'viaduct run' over its control socket to rekey the tunnel to PEER now \
            instead of at its soft lifetime: --child (the default) makes a new Child SA (with PFS \
            when the esp proposal has a group) and deletes the old one after traffic moved; --ike \
            makes a new IKE SA with new SPIs and keys, moves the Child SAs to it and deletes the \
            old one. Exits 0 once the exchange is started; 'viaduct events' shows its outcome \
            (child-up/child-switched/child-down, ike-rekeyed).

            EXAMPLES
              viaduct rekey dc2
              viaduct rekey dc2 --ike --node dc1
            """)

    @Argument(help: "The peer gateway (its name under 'gateways').")
    var peer: String

    @Flag(help: "Rekey the IKE SA instead of the Child SA.")
    var ike = false

    @Flag(help: "Rekey the Child SA (the default).")
    var child = false

    @OptionGroup var target: ControlTarget

    func validate() throws {
        if ike && child { throw ValidationError("--ike and --child exclude each other") }
    }

    func run() throws {
        try ControlCommand.send(ike ? .rekeyIKE : .rekeyChild, peer: peer, target: target)
    }
}
