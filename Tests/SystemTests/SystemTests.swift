import Glibc
import Synchronization
import System
import Testing

/// System, the one door to the OS: errno values, the one descriptor owner, the EINTR loop, the
/// thread start, namespaces and UDP packet info. Nothing here needs root.
struct SystemTests {
    @Test func errnoCarriesTheCodeAndTheLibraryText() {
        let e = Errno(rawValue: EPERM)
        #expect(e == .notPermitted && e.isPermission && !e.isWouldBlock)
        #expect(e.text == String(cString: strerror(EPERM)))
        #expect(e.description == "\(e.text) (errno \(EPERM))")
        #expect(Errno(rawValue: EAGAIN).isWouldBlock)
    }

    /// The descriptor is closed when its owner goes: the other end of a stream pair then reads
    /// end of file. (Not by its number, which a test running alongside may already reuse.)
    @Test func aFileDescriptorClosesWhenItsOwnerGoes() throws {
        let a: FileDescriptor
        do {
            let (kept, dropped) = try FileDescriptor.socketPair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue))
            #expect(fcntl(dropped.rawValue, F_GETFD) & FD_CLOEXEC != 0)
            a = kept
        }
        var buffer = [UInt8](repeating: 0, count: 4)
        #expect(buffer.withUnsafeMutableBytes { a.read(into: $0) } == .success(0))
    }

    @Test func openReportsTheErrno() {
        #expect(throws: Errno(rawValue: ENOENT)) { try FileDescriptor.open("/nonexistent/viaduct", O_RDONLY) }
    }

    @Test func aSocketPairCarriesBytesBothWays() throws {
        let (a, b) = try FileDescriptor.socketPair(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue))
        let sent = [UInt8]("ping".utf8)
        #expect(sent.withUnsafeBytes { a.write($0) } == .success(4))
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(buffer.withUnsafeMutableBytes { b.read(into: $0) } == .success(4))
        #expect(Array(buffer[0..<4]) == sent)
        // Nothing queued: EAGAIN, not a count.
        guard case .failure(let e) = buffer.withUnsafeMutableBytes({ b.read(into: $0) }) else {
            Issue.record("a read on an empty nonblocking socket returned a count")
            return
        }
        #expect(e.isWouldBlock)
    }

    @Test func aThreadRunsItsBodyAndIsJoined() throws {
        let ran = Mutex(false)
        let thread = try PosixThread(name: "viaduct-test") { ran.withLock { $0 = true } }
        thread.join()
        #expect(ran.withLock { $0 })
    }

    /// Two threads contend for one `Mutex` (so its slow path, futex PI in the uninstrumented
    /// libswiftSynchronization, runs). The count is exact; under ThreadSanitizer
    /// (Scripts/sanitize thread) this also checks that TSan sees the lock (CSystem's
    /// tsan_mutex.c): without it every access under the lock is reported as a race.
    @Test func aContendedMutexOrdersItsHolders() throws {
        final class Counts: Sendable { let byKey = Mutex<[Int: Int]>([:]) }
        let counts = Counts()
        let rounds = 20_000
        let body: @Sendable () -> Void = {
            for i in 0..<rounds { counts.byKey.withLock { $0[i % 7, default: 0] += 1 } }
        }
        let threads = [try PosixThread(name: "viaduct-lock-a", body), try PosixThread(name: "viaduct-lock-b", body)]
        threads.forEach { $0.join() }
        #expect(counts.byKey.withLock { $0.values.reduce(0, +) } == 2 * rounds)
    }

    @Test func aNamespaceNameWithASlashIsRefused() {
        #expect(throws: Errno.invalidArgument) { try NetNamespace.enter(named: "../x") }
        #expect(throws: Errno.invalidArgument) { try NetNamespace.enter(named: "") }
    }

    /// IP_PKTINFO (RFC 3542's IPV6_PKTINFO for IPv6): a received datagram reports the address it
    /// was sent to, and a send chooses its source address.
    @Test(arguments: [false, true])
    func packetInfoGivesTheDestinationAddress(ipv6: Bool) throws {
        let family = ipv6 ? AF_INET6 : AF_INET
        let type = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        let receiver = try FileDescriptor.socket(family, type, Int32(IPPROTO_UDP))
        let sender = try FileDescriptor.socket(family, type, Int32(IPPROTO_UDP))
        if ipv6 {
            #expect(Self.ok(receiver.setOption(Int32(IPPROTO_IPV6), IPV6_RECVPKTINFO, Int32(1))))
        } else {
            #expect(Self.ok(receiver.setOption(Int32(IPPROTO_IP), IP_PKTINFO, Int32(1))))
        }
        let loopback: [UInt8] = ipv6 ? Array(repeating: 0, count: 15) + [1] : [127, 0, 0, 1]
        var address = Self.address(loopback, port: 0)
        var length = socklen_t(ipv6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
        let fd = receiver.rawValue
        let bound = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                Syscall.check { bind(fd, sa, length) }.flatMap { Syscall.check { getsockname(fd, sa, &length) } }
            }
        }
        if case .failure(let e) = bound, e == Errno(rawValue: EADDRNOTAVAIL) { return }  // no IPv6 loopback here
        #expect(Self.ok(bound))
        let payload = [UInt8]("hello".utf8)
        let sent = payload.withUnsafeBytes { sender.send($0, to: &address, length: length, from: loopback) }
        #expect(sent == .success(payload.count))
        var buffer = [UInt8](repeating: 0, count: 64)
        var source = sockaddr_storage()
        let received = buffer.withUnsafeMutableBytes { receiver.receive(into: $0, source: &source) }
        guard case .success(let datagram) = received else {
            Issue.record("no datagram: \(received)")
            return
        }
        #expect(datagram.count == payload.count && !datagram.truncated)
        #expect(datagram.destination == loopback)
        #expect(Array(buffer[0..<datagram.count]) == payload)
    }

    private static func ok<T>(_ result: Result<T, Errno>) -> Bool {
        if case .success = result { return true }
        return false
    }

    private static func address(_ bytes: [UInt8], port: UInt16) -> sockaddr_storage {
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { raw in
            if bytes.count == 16 {
                var sin6 = sockaddr_in6()
                sin6.sin6_family = sa_family_t(AF_INET6)
                sin6.sin6_port = port.bigEndian
                withUnsafeMutableBytes(of: &sin6.sin6_addr) { $0.copyBytes(from: bytes) }
                withUnsafeBytes(of: sin6) { raw.copyMemory(from: $0) }
            } else {
                var sin = sockaddr_in()
                sin.sin_family = sa_family_t(AF_INET)
                sin.sin_port = port.bigEndian
                withUnsafeMutableBytes(of: &sin.sin_addr) { $0.copyBytes(from: bytes) }
                withUnsafeBytes(of: sin) { raw.copyMemory(from: $0) }
            }
        }
        return storage
    }
}
