import DataplaneContract
import Glibc
import Synchronization

/// How the control plane talks to a worker thread: it submits `Sendable` commands, wakes the
/// worker, and can wait until the worker has applied them.
///
/// The SAs themselves never cross threads: each worker builds and owns its ESP SA objects (they
/// hold mutable cipher contexts and counters, and are not `Sendable`). Only descriptions of them
/// (`ChildSAParameters`) travel through here, and only counters (`ESPStatistics`) travel back.
final class CommandQueue<Command: Sendable>: Sendable {
    private struct Pending: Sendable {
        var next: UInt64 = 0
        var items: [Command] = []
    }
    private let pending = Mutex(Pending())
    private let applied = Atomic<UInt64>(0)
    let wake: WakeEvent

    init() throws(DataplaneError) { wake = try WakeEvent() }

    /// Queues `command`, wakes the worker, and returns the ticket to wait for.
    @discardableResult
    func submit(_ command: Command) -> UInt64 {
        let ticket = pending.withLock { p in
            p.items.append(command)
            p.next &+= 1
            return p.next
        }
        wake.signal()
        return ticket
    }

    /// Takes everything queued (worker side) and the ticket of the last command taken.
    func take() -> (commands: [Command], through: UInt64) {
        pending.withLock { p in
            let items = p.items
            p.items.removeAll(keepingCapacity: true)
            return (items, p.next)
        }
    }

    /// Worker side: everything up to `ticket` is in effect.
    func markApplied(_ ticket: UInt64) {
        applied.store(ticket, ordering: .releasing)
    }

    /// Waits (bounded, by polling: this is the rare control path) until the worker applied
    /// `ticket`. Returns false on timeout; the command stays queued and takes effect later.
    @discardableResult
    func wait(for ticket: UInt64, milliseconds: Int = 2_000) -> Bool {
        for _ in 0..<(milliseconds * 10) {
            if applied.load(ordering: .acquiring) >= ticket { return true }
            usleep(100)
        }
        return applied.load(ordering: .acquiring) >= ticket
    }
}
