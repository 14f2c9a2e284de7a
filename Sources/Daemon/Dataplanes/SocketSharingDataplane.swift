import DataplaneContract
/// A data plane that needs the daemon's IKE sockets and lives as long as the daemon: the
/// userspace one reads ESP on port 4500 and creates the tunnel interfaces. `NodeDaemon` calls
/// `attach` once the sockets are open and before any session starts, and `detach` before it
/// closes them, on every exit path.
///
/// Port 4500 has one reader (docs/dataplane.md, "File descriptors"): a data plane that reads it
/// returns the endpoints it took over, and hands IKE back through the returned `IKEInbox`; the
/// event loop then stops polling those sockets for reading (it still sends from them).
public protocol SocketSharingDataplane: DataplaneBackend {
    func attach(sockets: IKESocketSet) throws(DaemonError) -> SharedSockets
    func detach()
}

/// What a data plane took over from the daemon in `attach`.
public struct SharedSockets {
    /// Where IKE read by the data plane arrives; nil when it reads nothing.
    public var inbox: IKEInbox?
    /// Descriptors of the daemon's sockets the data plane reads in its place (it holds dups).
    public var readByDataplane: Set<Int32>

    public init(inbox: IKEInbox? = nil, readByDataplane: Set<Int32> = []) {
        self.inbox = inbox
        self.readByDataplane = readByDataplane
    }
}
