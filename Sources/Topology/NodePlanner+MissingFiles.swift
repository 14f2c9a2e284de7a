extension NodePlanner {
    /// The plan `viaduct plan` shows before a gateway's credentials exist (the shipped examples, a
    /// design review): a missing certificate, key, CA or CRL is a warning here, returned with the
    /// plan. `run` and `validate --node` keep it an error (`plan`).
    public static func planWarningOfMissingFiles(_ t: Topology, links: [TunnelLink], node: String, fileExists: (String) -> Bool)
        -> Result<(NodePlan, [Diagnostic]), DiagnosticError> {
        switch NodePlanner.plan(t, links: links, node: node, fileExists: fileExists) {
        case .success(let plan): return .success((plan, []))
        case .failure(let e) where e.diagnostics.allSatisfy({ $0.code == .missingFile }):
            guard case .success(let plan) = NodePlanner.plan(t, links: links, node: node, fileExists: { _ in true }) else {
                return .failure(e)
            }
            let warnings = e.diagnostics.map { d in
                Diagnostic(.warning, d.code, at: d.location, d.message.replacingOccurrences(
                    of: "; create it", with: " ('viaduct run' and 'validate --node' refuse it); create it"))
            }
            return .success((plan, warnings))
        case .failure(let e): return .failure(e)
        }
    }
}
