import Foundation
import IKEv2
import Topology
import TopologyFiles

/// The control socket's `apply`, `confirm` and `rollback` (`ControlMessage`): reads and validates the
/// topology file, plans it for this daemon's node and hands the plan to `PlanApplier`. Invalid
/// input is answered with its diagnostics (FILE:LINE:COLUMN) and changes nothing.
public final class ControlApplyHandler {
    private let applier: PlanApplier

    public init(applier: PlanApplier) {
        self.applier = applier
    }

    var nextDeadline: IKEInstant? { applier.rollbackDeadline }

    func fireTimers(now: IKEInstant) { applier.fireTimers(now: now) }

    /// Loads the topology (the text the client sent, else FILE) and plans this node; the plan or
    /// the reply that refuses it.
    static func plan(file: String, text: String? = nil, node: String,
                     fileExists: (String) -> Bool = FileManager.default.fileExists(atPath:)) -> Result<NodePlan, ControlMessage.ErrorBody> {
        guard file.hasPrefix("/") else {
            return .failure(.init(code: "bad-request", message: "apply needs an absolute path to the topology file"))
        }
        if let text, text.utf8.count > TopologyLoader.maxFileSize {
            return .failure(.init(code: "invalid-topology", message: "\(file): the topology is larger than \(TopologyLoader.maxFileSize) bytes"))
        }
        let loaded = text.map { TopologyLoader.load(yaml: $0, file: file) } ?? TopologyLoader.load(file: file)
        guard loaded.isValid, let topology = loaded.topology else {
            let text = loaded.errors.map(\.description).joined(separator: "\n")
            return .failure(.init(code: "invalid-topology", message: text.isEmpty ? "\(file): invalid topology" : text))
        }
        switch NodePlanner.plan(topology, links: loaded.links, node: node, fileExists: fileExists) {
        // Peers known by name keep their address open in the plan: the daemon's resolver looks
        // them up again after the apply, off the event loop (PeerNameResolver).
        case .success(let plan): return .success(plan)
        case .failure(let e):
            var message = e.description
            if e.diagnostics.contains(where: { $0.code == .missingFile }) {
                message += "\n(the daemon reads credential files itself; under systemd it has its own /tmp and no /home "
                    + "(PrivateTmp, ProtectHome): keep them under /etc/viaduct, or name them by a path the daemon sees)"
            }
            return .failure(.init(code: "invalid-topology", message: message))
        }
    }

    func apply(_ request: ControlMessage.Request, now: IKEInstant) -> ControlMessage.Reply {
        guard let file = request.file else {
            return ControlMessage.Reply(ok: false, error: .init(code: "bad-request", message: #"apply needs "file""#))
        }
        if let s = request.confirmSeconds, !(1...3600).contains(s) {
            return ControlMessage.Reply(ok: false, error: .init(code: "bad-request", message: "confirm_seconds must be 1...3600"))
        }
        let plan: NodePlan
        switch Self.plan(file: file, text: request.topology, node: applier.plan.node) {
        case .success(let p): plan = p
        case .failure(let e): return ControlMessage.Reply(ok: false, error: e)
        }
        do {
            let outcome = try applier.apply(plan, dryRun: request.dryRun ?? false, confirmWithin: request.confirmSeconds, now: now)
            return ControlMessage.Reply(ok: true, apply: .init(
                applied: outcome.applied, diff: outcome.diff,
                rollbackInSeconds: outcome.rollbackAt.map { $0.seconds(since: now) }))
        } catch {
            return ControlMessage.Reply(ok: false, error: .init(code: "refused", message: error.message))
        }
    }

    func rollback(now: IKEInstant) -> ControlMessage.Reply {
        applier.rollback(now: now)
            ? ControlMessage.Reply(ok: true)
            : ControlMessage.Reply(ok: false, error: .init(code: "nothing-to-roll-back", message: "no apply is waiting for confirmation"))
    }

    func confirm() -> ControlMessage.Reply {
        applier.confirm()
            ? ControlMessage.Reply(ok: true)
            : ControlMessage.Reply(ok: false, error: .init(code: "nothing-to-confirm", message: "no apply is waiting for confirmation"))
    }
}
