import System

/// Moving the calling thread into a named network namespace (`ip netns add NAME` makes
/// /run/netns/NAME). Sockets opened afterwards on that thread belong to the namespace for their whole life,
/// so a thread that enters a namespace should open its sockets and do nothing else.
public enum NetworkNamespaceEntry {
    /// Equivalent to what `ip netns exec NAME` does for its child before exec.
    public static func enter(named name: String) throws(NetlinkError) {
        let context = "entering network namespace \(name)"
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw NetlinkError(.invalidRequest, context: context)
        }
        do throws(Errno) { try NetNamespace.enter(named: name) } catch {
            throw NetlinkError(.system, errno: error.rawValue, context: context)
        }
    }
}
