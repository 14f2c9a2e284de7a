import ArgumentParser
import Daemon
import Foundation

/// `viaduct confirm` / `viaduct rollback`: settle an `apply --confirm` from any shell, Ansible
/// or SSH session, like VyOS's `confirm` after `commit-confirm` and `netplan try`'s answer.
/// Both talk to the daemon, which holds the pending change and its deadline.
struct Confirm: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Keep a change made with 'viaduct apply --confirm' before it rolls back.",
        discussion: """
            Tells the running daemon to keep the plan it applied with --confirm SECONDS. Without \
            it, the daemon restores the previous plan at the deadline by itself. Exits 1 when no \
            apply is waiting for confirmation.

            EXAMPLES
              viaduct apply /etc/viaduct/topology.yaml --node dc1 --confirm 120 --no-wait
              viaduct confirm --node dc1
            """)

    @OptionGroup var target: ControlTarget

    func run() throws {
        try ControlCommand.settle("confirm", done: "confirmed: the daemon keeps the applied plan", target: target)
    }
}

struct Rollback: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Undo a change made with 'viaduct apply --confirm' now, without waiting for its deadline.",
        discussion: """
            Tells the running daemon to restore the plan it ran before the unconfirmed apply (or \
            applies, when several were made before a confirmation), at once. Exits 1 when no \
            apply is waiting for confirmation: a confirmed change is undone by applying the old \
            file again.

            EXAMPLES
              viaduct rollback --node dc1
            """)

    @OptionGroup var target: ControlTarget

    func run() throws {
        try ControlCommand.settle("rollback", done: "rolled back: the daemon runs the previous plan", target: target)
    }
}
