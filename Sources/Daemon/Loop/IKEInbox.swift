import Glibc
import IKEv2
import Synchronization
import System

// RFC 3948 §2.2: IKE and ESP share UDP/4500; the non-ESP marker tells them apart.

/// IKE messages that another thread read for the daemon: when the userspace data plane reads
/// port 4500 (it owns a dup of that socket and batch-receives ESP there), every marker-prefixed
/// datagram it sees is IKE and comes back to the event loop through here.
///
/// `post` may be called from any thread and never blocks: it queues under a lock and makes the
/// inbox's descriptor readable (one byte into a nonblocking socketpair; a full pair means the
/// loop is already due to wake). The event loop polls `descriptor` and calls `take()` on its
/// own thread. Owns both ends of the socketpair; they are closed in `deinit`, when the last
/// holder (the event loop, the data plane's handler) lets go.
public final class IKEInbox: Sendable {
    private let queue = Mutex<[IKEDatagram]>([])
    /// The end the event loop polls.
    public var descriptor: Int32 { reader.rawValue }
    private let reader: FileDescriptor
    private let writer: FileDescriptor
    /// Datagrams queued at most; beyond that new ones are dropped (and counted), so a flood on
    /// 4500 cannot grow the daemon's memory without bound.
    public let capacity: Int
    private let dropped = Atomic<UInt64>(0)

    public init(capacity: Int = 4096) throws(DaemonError) {
        let type = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        do throws(Errno) { (reader, writer) = try FileDescriptor.socketPair(AF_UNIX, type) } catch {
            throw DaemonError(.system, "socketpair for the IKE inbox failed: \(error)", errno: error)
        }
        self.capacity = capacity
    }

    /// Datagrams refused because the queue was full.
    public var droppedCount: UInt64 { dropped.load(ordering: .relaxed) }

    /// Queues one IKE datagram for the event loop. Any thread; never blocks.
    public func post(_ datagram: IKEDatagram) {
        let queued = queue.withLock { q -> Bool in
            guard q.count < capacity else { return false }
            q.append(datagram)
            return true
        }
        guard queued else {
            dropped.add(1, ordering: .relaxed)
            return
        }
        var one: UInt8 = 1
        // EAGAIN (the pair is full) is fine: the loop has wake-ups pending and drains everything.
        _ = withUnsafeBytes(of: &one) { writer.write($0) }
    }

    /// Everything queued, oldest first; clears the wake-up bytes first so a `post` racing with
    /// this call wakes the loop again rather than being missed.
    public func take() -> [IKEDatagram] {
        var sink = [UInt8](repeating: 0, count: 64)
        while case .success(let n) = sink.withUnsafeMutableBytes({ reader.read(into: $0) }), n > 0 {}
        return queue.withLock { q in
            defer { q.removeAll(keepingCapacity: true) }
            return q
        }
    }
}
