import Dataplane
import Glibc
import KernelDataplane
import KernelModel
import Reconciler

/// What `viaduct down` does: takes everything Viaduct put into this network namespace's kernel
/// out again, and nothing else, deciding what is Viaduct's exactly as the reconciler does
/// (`Ownership`, `KernelSAOwnership`).
public enum KernelTeardown {
    /// SAs first, then `reconcile` to an empty desired state (policies, routes, addresses,
    /// interfaces), then plan-named interfaces the prefix rule did not catch. Returns how many
    /// objects went; `report` gets one line per object.
    public static func run(planNames: Set<String>, planBindings: Set<KernelSABinding>,
                           report: (String) -> Void) throws(NetlinkError) -> Int {
        let reconciliation = try KernelReconciliation()
        let xfrm = try NetlinkSocket(.xfrm)
        let observed = try reconciliation.observe()
        let ownedLinks = observed.links.filter { Ownership.owns($0, desiredNames: planNames) }
        let ownedPolicies = observed.policies.filter(Ownership.owns)
        let bindings = KernelSAOwnership.bindings(ownedLinks: ownedLinks.map(\.link), ownedPolicies: ownedPolicies)
            .union(planBindings)
        let states = KernelSAOwnership.states(try xfrm.states(), bindings: bindings)
        var removed = 0
        for outcome in try xfrm.send(batch: states.map { $0.key.deleteRequest() }) {
            // Gone meanwhile (hard expiry) is as good as deleted.
            if let error = outcome.error, !(error.code == .kernel && error.errno == ESRCH) { throw error }
            report("- \(outcome.request.summary.replacingOccurrences(of: "deleting ", with: ""))")
            removed += 1
        }
        for change in try reconciliation.reconcile(DesiredKernelState()) {
            report(change.description)
            removed += 1
        }
        // Links named by the plan without Viaduct's prefix: the empty desired state does not
        // name them, so the reconciler cannot know they were ours.
        let leftovers = try reconciliation.observe().links
            .filter { planNames.contains($0.link.name) && Ownership.owns($0, desiredNames: planNames) }
            .map { KernelChange.deleteLink(name: $0.link.name) }
        try reconciliation.apply(leftovers)
        for change in leftovers { report(change.description) }
        // `mss-clamp` on the kernel data plane: Viaduct's own nftables table, and only it.
        var tables = 0
        if let nft = try? Nftables(), nft.listTable() != nil {
            do {
                try nft.apply([])
                report("- nftables table \(MSSClampRuleset.family) \(MSSClampRuleset.table)")
                tables = 1
            } catch {
                report("! cannot remove nftables table \(MSSClampRuleset.family) \(MSSClampRuleset.table): \(error)")
            }
        }
        return removed + leftovers.count + tables
    }
}
