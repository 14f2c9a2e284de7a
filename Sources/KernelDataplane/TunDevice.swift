import KernelModel
import System

// Documentation/networking/tuntap.rst: a TUN device is created by TUNSETIFF on /dev/net/tun, not by
// rtnetlink; TUNSETPERSIST keeps it after the descriptor closes, so it can be configured (MTU, up,
// addresses) and deleted (RTM_DELLINK) like any other link.

/// Creation of persistent TUN links.
public enum TunDevice {
    /// Creates the persistent TUN device `name` (IFF_TUN | IFF_NO_PI) in the current network namespace.
    ///
    /// Equivalent to: `ip tuntap add NAME mode tun`.
    public static func createPersistent(name: String) throws(NetlinkError) {
        let context = "creating link \(name) type tun"
        guard !name.isEmpty, name.utf8.count <= Link.maximumNameLength, !name.contains("/") else {
            throw NetlinkError(.invalidRequest, context: context, kernelMessage: "bad interface name")
        }
        do throws(TUN.Failure) {
            // The descriptor closes on return; the device stays (TUNSETPERSIST).
            _ = try TUN.open(name: name, nonBlocking: false, persistent: true)
        } catch {
            throw NetlinkError(.system, errno: error.errno.rawValue, context: context)
        }
    }
}
