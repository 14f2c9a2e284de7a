#if canImport(Glibc)
import Glibc
#endif
import CMnl
import KernelModel
import System

// netlink(7), libmnl: one socket per purpose (route changes, XFRM changes, XFRM notifications), each owning
// its descriptor (a System `FileDescriptor`; libmnl builds the batches). The socket belongs to the network namespace of the thread that opened it, for its whole
// life, wherever it is used from afterwards.

/// The netlink family a socket speaks.
public enum NetlinkBus: Sendable {
    case route
    case xfrm

    var protocolNumber: Int32 {
        switch self {
        case .route: return viaduct_netlink_route
        case .xfrm: return viaduct_netlink_xfrm
        }
    }

    var name: String { self == .route ? "NETLINK_ROUTE" : "NETLINK_XFRM" }
}

/// A netlink socket. Requests go out in batches (libmnl's `mnl_nlmsg_batch`, several messages per
/// `sendto`); every message asks for an ACK so each one gets its own result. Not `Sendable`: one owner.
public final class NetlinkSocket {
    public let bus: NetlinkBus
    private let file: FileDescriptor
    public let portID: UInt32
    private var nextSequence: UInt32
    /// The largest datagram sent at once; the kernel reads a batch message by message.
    public static let batchLimit = 32 * 1024
    /// At most this many requests per datagram, so their ACKs fit a receive buffer of rmem_max
    /// even when SO_RCVBUFFORCE is not permitted (seen: ENOBUFS at 1,000 interfaces).
    public static let maxMessagesPerDatagram = 128
    private static let receiveBufferSize = 64 * 1024

    /// Opens and binds a socket in the current network namespace; `groups` are multicast groups to join
    /// (numbers, e.g. `XfrmMulticastGroup.expire`). Replies time out after `timeoutSeconds`.
    public init(_ bus: NetlinkBus, groups: [UInt32] = [], timeoutSeconds: Int = 5, firstSequence: UInt32 = 1) throws(NetlinkError) {
        let context = "opening \(bus.name) socket"
        let file: FileDescriptor
        let portID: UInt32
        do throws(Errno) {
            file = try FileDescriptor.socket(AF_NETLINK, Int32(SOCK_RAW.rawValue), bus.protocolNumber)
            portID = try Self.bind(file)
        } catch {
            throw NetlinkError(.system, errno: error.rawValue, context: context)
        }
        self.bus = bus
        self.file = file
        self.portID = portID
        self.nextSequence = firstSequence
        let fd = file.rawValue
        var one: Int32 = 1
        // Capped ACKs (no echo of our request) and extended ACK text; both optional on old kernels.
        _ = setsockopt(fd, viaduct_sol_netlink, viaduct_netlink_cap_ack, &one, socklen_t(MemoryLayout<Int32>.size))
        _ = setsockopt(fd, viaduct_sol_netlink, viaduct_netlink_ext_ack, &one, socklen_t(MemoryLayout<Int32>.size))
        // Every ACK is its own skb (~900 bytes of truesize), so a batch of small requests fills
        // the default receive buffer (rmem_max, ~208 KiB) long before its bytes do, and the
        // kernel drops ACKs with ENOBUFS. Ask for 8 MiB past rmem_max (CAP_NET_ADMIN), else as
        // much as rmem_max allows; `maxMessagesPerDatagram` keeps even that enough.
        var rcvbuf: Int32 = 8 << 20
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, socklen_t(MemoryLayout<Int32>.size))
        }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        for group in groups {
            var g = Int32(bitPattern: group)
            guard setsockopt(fd, viaduct_sol_netlink, viaduct_netlink_add_membership, &g, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
                throw NetlinkError(.system, errno: Errno.current.rawValue, context: "joining \(bus.name) multicast group \(group)")
            }
        }
    }

    /// The descriptor, for poll(2); it stays owned by this socket.
    public var fileDescriptor: Int32 { file.rawValue }

    /// Binds to a port ID the kernel picks, in no multicast group, and returns that port ID
    /// (what libmnl's `mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID)` does).
    private static func bind(_ file: FileDescriptor) throws(Errno) -> UInt32 {
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        let fd = file.rawValue
        let length = socklen_t(MemoryLayout<sockaddr_nl>.size)
        let bound = withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in Syscall.check { Glibc.bind(fd, sa, length) } }
        }
        if case .failure(let e) = bound { throw e }
        var actual = socklen_t(MemoryLayout<sockaddr_nl>.size)
        let named = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in Syscall.check { getsockname(fd, sa, &actual) } }
        }
        if case .failure(let e) = named { throw e }
        guard actual == length, address.nl_family == sa_family_t(AF_NETLINK) else { throw Errno.invalidArgument }
        return address.nl_pid
    }

    /// One datagram to the kernel (port ID 0): the byte count or the errno.
    private func sendToKernel(_ bytes: UnsafeRawBufferPointer) -> Result<Int, Errno> {
        var kernel = sockaddr_nl()
        kernel.nl_family = sa_family_t(AF_NETLINK)
        let fd = file.rawValue
        return withUnsafePointer(to: &kernel) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                Syscall.retrying { sendto(fd, bytes.baseAddress, bytes.count, 0, sa, socklen_t(MemoryLayout<sockaddr_nl>.size)) }
            }
        }
    }

    /// One datagram from the kernel into `buffer`: its length, or the errno; a datagram longer than
    /// the buffer is ENOSPC, as libmnl's `mnl_socket_recvfrom` reports it.
    private func receiveFromKernel(_ buffer: UnsafeMutableRawBufferPointer) -> Result<Int, Errno> {
        var sender = sockaddr_nl()
        let fd = file.rawValue
        return withUnsafeMutablePointer(to: &sender) { name in
            var iov = iovec(iov_base: buffer.baseAddress, iov_len: buffer.count)
            return withUnsafeMutablePointer(to: &iov) { iovp in
                var msg = msghdr()
                msg.msg_name = UnsafeMutableRawPointer(name)
                msg.msg_namelen = socklen_t(MemoryLayout<sockaddr_nl>.size)
                msg.msg_iov = iovp
                msg.msg_iovlen = 1
                return Syscall.retrying { recvmsg(fd, &msg, 0) }.flatMap { n in
                    if msg.msg_flags & Int32(MSG_TRUNC) != 0 { return .failure(Errno(rawValue: ENOSPC)) }
                    if msg.msg_namelen != socklen_t(MemoryLayout<sockaddr_nl>.size) { return .failure(Errno.invalidArgument) }
                    return .success(n)
                }
            }
        }
    }

    private func takeSequence() -> UInt32 {
        defer { nextSequence = nextSequence &+ 1 == 0 ? 1 : nextSequence &+ 1 }
        return nextSequence
    }

    // MARK: Batches

    /// Sends every request (in order, batched into as few datagrams as fit `batchLimit`) and returns one
    /// outcome per request, in the same order. The kernel goes on after a failed message, so later
    /// messages are still applied; callers that need all-or-nothing look at every outcome.
    /// Throws only when the socket itself fails (then the outcomes are unknown).
    public func send(batch requests: [NetlinkRequest]) throws(NetlinkError) -> [NetlinkOutcome] {
        var numbered: [NetlinkRequest] = []
        numbered.reserveCapacity(requests.count)
        for r in requests {
            guard NetlinkMessage.headerSize + r.message.payload.count <= NetlinkSocket.batchLimit else {
                throw NetlinkError(.invalidRequest, context: r.summary, kernelMessage: "message larger than \(NetlinkSocket.batchLimit) bytes")
            }
            var copy = r.numbered(sequence: takeSequence(), portID: 0)
            copy.message.flags.insert(.request)
            numbered.append(copy)
        }
        var errors: [UInt32: NetlinkError] = [:]
        var chunk: [NetlinkRequest] = []
        var chunkBytes = 0
        for r in numbered {
            let size = (NetlinkMessage.headerSize + r.message.payload.count + 3) & ~3
            if !chunk.isEmpty && (chunkBytes + size > NetlinkSocket.batchLimit || chunk.count >= NetlinkSocket.maxMessagesPerDatagram) {
                try flush(chunk, into: &errors)
                chunk = []
                chunkBytes = 0
            }
            chunk.append(r)
            chunkBytes += size
        }
        if !chunk.isEmpty { try flush(chunk, into: &errors) }
        return numbered.enumerated().map { i, r in NetlinkOutcome(request: requests[i], error: errors[r.message.sequence]) }
    }

    /// Sends a batch and throws the first failure (in request order), after the whole batch was answered.
    public func apply(_ requests: [NetlinkRequest]) throws(NetlinkError) {
        for outcome in try send(batch: requests) {
            if let error = outcome.error { throw error }
        }
    }

    /// One datagram through libmnl's batch buffer, then the errors of the messages that failed
    /// and the ACK of the last one.
    private func flush(_ chunk: [NetlinkRequest], into errors: inout [UInt32: NetlinkError]) throws(NetlinkError) {
        let capacity = NetlinkSocket.batchLimit * 2  // libmnl wants twice the batch size
        var buffer = [UInt8](repeating: 0, count: capacity)
        let sent: Result<Int, Errno> = buffer.withUnsafeMutableBytes { raw -> Result<Int, Errno> in
            guard let base = raw.baseAddress, let batch = mnl_nlmsg_batch_start(base, NetlinkSocket.batchLimit) else { return .failure(Errno.invalidArgument) }
            defer { mnl_nlmsg_batch_stop(batch) }
            for (i, r) in chunk.enumerated() {
                var r = r
                // Only the last message asks for an ACK: the kernel answers every failed message
                // with its error whatever the flags, and in order, so the last ACK closes the
                // datagram. That spares it building (and us reading) an ACK per success.
                if i == chunk.count - 1 { r.message.flags.insert(.ack) }
                let bytes = r.encoded()
                guard let current = mnl_nlmsg_batch_current(batch) else { return .failure(Errno.invalidArgument) }
                bytes.withUnsafeBytes { src in
                    if let s = src.baseAddress { memcpy(current, s, bytes.count) }
                }
                _ = mnl_nlmsg_batch_next(batch)
            }
            let size = mnl_nlmsg_batch_size(batch)
            guard let head = mnl_nlmsg_batch_head(batch) else { return .failure(Errno.invalidArgument) }
            return sendToKernel(UnsafeRawBufferPointer(start: head, count: size))
        }
        if case .failure(let e) = sent {
            throw NetlinkError(.system, errno: e.rawValue, context: "sending \(chunk.count) \(bus.name) messages (\(chunk.first?.summary ?? ""))")
        }
        var pending = Dictionary(uniqueKeysWithValues: chunk.map { ($0.message.sequence, $0) })
        guard let last = chunk.last?.message.sequence else { return }
        var closed = false
        while !closed {
            let context = chunk.last?.summary ?? "batch"
            for message in try receive(context: context) {
                guard message.type == NetlinkControl.error, let request = pending[message.sequence] else { continue }
                pending[message.sequence] = nil
                if message.sequence == last { closed = true }
                do {
                    let ack = try NetlinkAck(decoding: message)
                    if !ack.isSuccess {
                        errors[message.sequence] = NetlinkError(.kernel, errno: ack.errno, context: request.summary, kernelMessage: ack.message)
                    }
                } catch {
                    errors[message.sequence] = NetlinkError(.malformedReply, context: request.summary, kernelMessage: error.description)
                }
            }
        }
    }

    // MARK: Requests with replies

    /// Sends a dump request and collects every reply message up to NLMSG_DONE. A dump the kernel marks
    /// interrupted (objects changed meanwhile) is retried up to `attempts` times.
    public func dump(_ request: NetlinkRequest, attempts: Int = 3) throws(NetlinkError) -> [NetlinkMessage] {
        var remaining = max(1, attempts)
        while true {
            var interrupted = false
            let replies = try exchange(request, dump: true, interrupted: &interrupted)
            if !interrupted { return replies }
            remaining -= 1
            if remaining == 0 { throw NetlinkError(.dumpInterrupted, context: request.summary) }
        }
    }

    /// Sends one request that the kernel answers with a message (GETSA, ALLOCSPI) and returns that answer.
    public func query(_ request: NetlinkRequest) throws(NetlinkError) -> NetlinkMessage {
        var interrupted = false
        let replies = try exchange(request, dump: false, interrupted: &interrupted)
        guard let first = replies.first else { throw NetlinkError(.malformedReply, context: request.summary, kernelMessage: "no reply message") }
        return first
    }

    private func exchange(_ request: NetlinkRequest, dump: Bool, interrupted: inout Bool) throws(NetlinkError) -> [NetlinkMessage] {
        let numbered = request.numbered(sequence: takeSequence(), portID: 0)
        let seq = numbered.message.sequence
        let bytes = numbered.encoded()
        if case .failure(let e) = bytes.withUnsafeBytes({ sendToKernel($0) }) {
            throw NetlinkError(.system, errno: e.rawValue, context: request.summary)
        }
        var replies: [NetlinkMessage] = []
        while true {
            for message in try receive(context: request.summary) where message.sequence == seq {
                if message.flags.contains(.dumpInterrupted) { interrupted = true }
                switch message.type {
                case NetlinkControl.done:
                    return replies
                case NetlinkControl.error:
                    let ack: NetlinkAck
                    do { ack = try NetlinkAck(decoding: message) } catch {
                        throw NetlinkError(.malformedReply, context: request.summary, kernelMessage: error.description)
                    }
                    if !ack.isSuccess {
                        throw NetlinkError(.kernel, errno: ack.errno, context: request.summary, kernelMessage: ack.message)
                    }
                    return replies
                case NetlinkControl.noop:
                    continue
                default:
                    replies.append(message)
                    if !dump { return replies }
                }
            }
        }
    }

    // MARK: Receiving

    /// Reads one datagram and splits it into messages. EINTR is retried; EAGAIN (the receive timeout) is
    /// `timeout`; ENOBUFS (the kernel dropped notifications) is a `system` error the caller resyncs from.
    public func receive(context: String) throws(NetlinkError) -> [NetlinkMessage] {
        var buffer = [UInt8](repeating: 0, count: NetlinkSocket.receiveBufferSize)
        let count: Int
        switch buffer.withUnsafeMutableBytes({ receiveFromKernel($0) }) {
        case .success(let n): count = n
        case .failure(let e) where e.isWouldBlock: throw NetlinkError(.timeout, context: context)
        case .failure(let e): throw NetlinkError(.system, errno: e.rawValue, context: context)
        }
        do {
            return try NetlinkMessage.decodeAll(Array(buffer[0..<count]))
        } catch {
            throw NetlinkError(.malformedReply, context: context, kernelMessage: error.description)
        }
    }
}
