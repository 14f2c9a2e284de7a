import DataplaneContract
import Glibc
import IKEv2
import Logging
import NetTypes
import Topology

/// `viaduct apply` inside the daemon: takes a new plan for the running node and changes only
/// what differs (`NodePlanDiff`). Untouched tunnels keep their IKE SA, Child SAs, interface and
/// routes: nothing of them is sent to the kernel or the peer. Runs on the event loop's thread,
/// between two wake-ups, like everything else that touches sessions.
///
/// Order, so that no step can leave a half-made tunnel behind:
///  1. refuse, changing nothing, what a running daemon cannot take (another node, another data
///     plane, a local address it does not listen on) and credentials that do not load;
///  2. drop the sessions of removed and re-established peers (their Child SAs leave the data
///     plane first);
///  3. reconcile without the removed interfaces, then with the new plan (new interfaces, down
///     until their first Child SA; in-place address/MTU/route updates);
///  4. start the new and re-established peers (an initiator opens its IKE SA at once).
///
/// With `confirmWithin`, the previous plan is kept and re-applied at the deadline unless
/// `confirm()` comes first (the way `netplan try` works), so an apply that cuts the operator
/// off undoes itself.
public final class PlanApplier {
    public struct Outcome: Sendable {
        public var diff: NodePlanDiff
        public var applied: Bool
        public var rollbackAt: IKEInstant?
    }

    public private(set) var plan: NodePlan
    private let core: EndpointDriver
    private let dataplane: any DataplaneBackend
    private let listening: Set<[UInt8]>
    private let ports: IKEPorts
    private let makeFactory: (NodePlan) throws(DaemonError) -> any IKESessionFactory
    private let logger: Logger
    /// Told about every applied plan (the status book, metrics).
    public var onApplied: ((NodePlan, NodePlanDiff) -> Void)?
    /// Told when new credentials were taken (what changed, one line each) and when a reload's
    /// credentials were refused (the credentials in use stay): the events stream, metrics.
    public var onCredentialsTaken: ((NodeCredentials, [String]) -> Void)?
    public var onCredentialsRefused: ((DaemonError) -> Void)?
    /// The plan and factory (with its credentials) from before an unconfirmed apply: a rollback
    /// goes back to both, not to whatever the credential files hold by then.
    private var pending: (previous: NodePlan, factory: any IKESessionFactory, deadline: IKEInstant)?
    /// Tests only: seconds to stall between taking the old tunnels out and putting the new ones
    /// in, so a test can kill the daemon mid-apply (`viaduct run --apply-pause`).
    public var pauseBetweenPhasesSeconds: Double = 0

    public init(plan: NodePlan, core: EndpointDriver, dataplane: any DataplaneBackend, listening: [[UInt8]], ports: IKEPorts,
                logger: Logger, makeFactory: @escaping (NodePlan) throws(DaemonError) -> any IKESessionFactory) {
        self.plan = plan
        self.core = core
        self.dataplane = dataplane
        self.listening = Set(listening)
        self.ports = ports
        self.logger = logger
        self.makeFactory = makeFactory
    }

    /// When an unconfirmed apply rolls back.
    public var rollbackDeadline: IKEInstant? { pending?.deadline }

    /// Computes the diff and, unless `dryRun`, applies it. Throws, having changed nothing, when
    /// the plan cannot be taken while running.
    public func apply(_ new: NodePlan, dryRun: Bool = false, confirmWithin: Double? = nil,
                      now: IKEInstant) throws(DaemonError) -> Outcome {
        var diff = NodePlanDiff.compute(from: plan, to: new)
        if !diff.restartRequired.isEmpty {
            throw DaemonError(.configuration, "a running daemon cannot change: \(diff.restartRequired.joined(separator: "; ")); restart it (systemctl restart viaduct@\(plan.node))")
        }
        for t in new.tunnels where !listening.contains(t.ike.localAddress.bytes) {
            throw DaemonError(.configuration, "peer \(t.peer) needs local address \(t.ike.localAddress), which this daemon does not listen on; restart it to add an address")
        }
        let factory: any IKESessionFactory
        do { factory = try makeFactory(new) } catch {
            if error.code == .credentials && !dryRun { refused(error) }
            throw error
        }
        // The plans name the credential files; whether their contents changed only the loaded
        // credentials tell. A credential-only change is a change: it must reach the daemon.
        let credentialChanges = Self.credentialChanges(from: core.factory, to: factory)
        diff.credentials = credentialChanges
        if dryRun { return Outcome(diff: diff, applied: false, rollbackAt: nil) }
        let previous = plan, previousFactory = core.factory
        try execute(diff, to: new, factory: factory, now: now)
        if !credentialChanges.isEmpty, let c = (factory as? any CredentialCarrying)?.credentials { taken(c, credentialChanges) }
        if let seconds = confirmWithin, !diff.isEmpty {
            // A second unconfirmed apply keeps the first's starting point: rollback goes all the way back.
            let base = pending.map { ($0.previous, $0.factory) } ?? (previous, previousFactory)
            pending = (base.0, base.1, now.adding(seconds: seconds))
            logger.notice("apply awaits confirmation", metadata: ["rollback_in": "\(Int(seconds))s"])
        } else if confirmWithin == nil {
            pending = nil
        }
        return Outcome(diff: diff, applied: true, rollbackAt: pending?.deadline)
    }

    /// Keeps an unconfirmed apply. False when there is nothing to confirm.
    public func confirm() -> Bool {
        guard pending != nil else { return false }
        pending = nil
        logger.notice("apply confirmed")
        return true
    }

    /// Rolls an unconfirmed apply back once its deadline has passed.
    public func fireTimers(now: IKEInstant) {
        guard let p = pending, p.deadline <= now else { return }
        logger.warning("apply not confirmed in time: rolling back", metadata: ["node": "\(plan.node)"])
        restore(now: now)
    }

    /// Rolls an unconfirmed apply back now (`viaduct rollback`), like VyOS's `rollback` before
    /// `confirm`. False when there is nothing to roll back.
    public func rollback(now: IKEInstant) -> Bool {
        guard pending != nil else { return false }
        logger.notice("apply rolled back by the operator", metadata: ["node": "\(plan.node)"])
        restore(now: now)
        return true
    }

    /// Goes back to the plan from before the unconfirmed apply(s).
    private func restore(now: IKEInstant) {
        guard let p = pending else { return }
        pending = nil
        do {
            let changes = Self.credentialChanges(from: core.factory, to: p.factory)
            try execute(NodePlanDiff.compute(from: plan, to: p.previous), to: p.previous, factory: p.factory, now: now)
            if !changes.isEmpty, let c = (p.factory as? any CredentialCarrying)?.credentials { taken(c, changes) }
        } catch {
            logger.error("rollback failed", metadata: ["reason": "\(error.message)"])
        }
    }

    /// Re-reads the credential files of the plan in use (SIGHUP without a topology file, a
    /// change of the files on disk) and, when their contents changed and they are usable, makes
    /// new IKE SAs and reauthentications use them. Established IKE and Child SAs are not
    /// touched. Refused (unreadable, unprotected key, key not the certificate's, certificate
    /// expired or not chaining to the CA bundle): logged and announced, the old ones stay.
    /// Returns what changed (empty: the same material).
    @discardableResult
    public func reloadCredentials(now: IKEInstant, cause: String) -> Result<[String], DaemonError> {
        let factory: any IKESessionFactory
        do { factory = try makeFactory(plan) } catch {
            refused(error, cause: cause)
            return .failure(error)
        }
        let changes = Self.credentialChanges(from: core.factory, to: factory)
        guard !changes.isEmpty else {
            logger.info("credentials re-read: unchanged", metadata: ["cause": "\(cause)"])
            return .success([])
        }
        core.factory = factory
        if let c = (factory as? any CredentialCarrying)?.credentials { taken(c, changes, cause: cause) }
        return .success(changes)
    }

    private func taken(_ credentials: NodeCredentials, _ changes: [String], cause: String = "apply") {
        logger.notice("credentials reloaded: new IKE SAs use them, established ones keep running", metadata: [
            "cause": "\(cause)", "changes": "\(changes.joined(separator: "; "))",
        ])
        onCredentialsTaken?(credentials, changes)
    }

    private func refused(_ error: DaemonError, cause: String = "apply") {
        logger.error("credential reload refused: the credentials in use stay", metadata: [
            "cause": "\(cause)", "reason": "\(error.message)",
        ])
        onCredentialsRefused?(error)
    }

    /// What differs between the credentials (certificates, CAs, CRLs, pre-shared keys) of two
    /// factories; empty when either carries none (test factories) or both carry the same material.
    static func credentialChanges(from old: any IKESessionFactory, to new: any IKESessionFactory) -> [String] {
        guard let a = old as? any CredentialCarrying, let b = new as? any CredentialCarrying else { return [] }
        let certificates = b.credentials.sameMaterial(as: a.credentials) ? [] : b.credentials.changes(from: a.credentials)
        return certificates + b.preSharedKeys.changes(from: a.preSharedKeys)
    }

    private func execute(_ diff: NodePlanDiff, to new: NodePlan, factory: any IKESessionFactory,
                         now: IKEInstant) throws(DaemonError) {
        let old = Dictionary(plan.tunnels.map { ($0.peer, $0) }, uniquingKeysWith: { a, _ in a })
        let next = Dictionary(new.tunnels.map { ($0.peer, $0) }, uniquingKeysWith: { a, _ in a })
        let removed = Set(diff.peers(.remove))
        let reestablished = Set(diff.peers(.reestablish))
        for peer in removed.union(reestablished).sorted() { core.removeRunning(TunnelID(peer: peer), now: now) }
        // A re-established tunnel keeps its interface when the interface itself did not change.
        let interfaceGoes = removed.union(reestablished.filter { peer in
            guard let o = old[peer], let n = next[peer] else { return true }
            return o.interface.name != n.interface.name || o.interface.kind != n.interface.kind
                || o.interface.ifID != n.interface.ifID || o.ike.localAddress != n.ike.localAddress
        })
        var intermediate = plan
        intermediate.tunnels.removeAll { interfaceGoes.contains($0.peer) }
        logger.info("applying plan", metadata: [
            "add": "\(diff.peers(.add).joined(separator: ","))", "remove": "\(removed.sorted().joined(separator: ","))",
            "reestablish": "\(reestablished.sorted().joined(separator: ","))",
            "update": "\(diff.peers(.update).joined(separator: ","))", "untouched": "\(diff.peers(.unchanged).count)",
        ])
        if !interfaceGoes.isEmpty { try update(plan: intermediate) }
        plan = intermediate
        if pauseBetweenPhasesSeconds > 0 {
            logger.warning("apply paused (test option --apply-pause)", metadata: ["seconds": "\(pauseBetweenPhasesSeconds)"])
            usleep(UInt32(min(pauseBetweenPhasesSeconds, 60) * 1_000_000))
        }
        core.factory = factory
        try update(plan: new)
        plan = new
        for peer in (diff.peers(.add) + diff.peers(.reestablish)).sorted() {
            guard let t = next[peer] else { continue }
            core.addRunning(peer: IKETunnelPeer(tunnel: t, ports: ports), now: now)
        }
        onApplied?(new, diff)
        logger.notice("plan applied", metadata: ["tunnels": "\(new.tunnels.count)"])
    }

    private func update(plan: NodePlan) throws(DaemonError) {
        do { try dataplane.update(plan: plan) } catch { throw DaemonError(error) }
    }
}
