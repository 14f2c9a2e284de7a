import Glibc
import Synchronization

/// Name lookups off the caller's thread: `submit` hands a name to a small pool of worker
/// threads that run the (blocking) resolver, and their answers queue up here for the caller,
/// whose `poll(2)` sees `descriptor` readable when there are some to `take`. A dead DNS server
/// (getaddrinfo(3) waits its timeout times its attempts) then holds a worker, never the
/// daemon's event loop.
///
/// Jobs go to the workers as one datagram each over a socketpair the workers block reading;
/// answers come back under a lock with one wake-up byte, like `IKEInbox`. When the pool goes
/// (its last holder lets go) the job socket closes, each worker reads end-of-file and ends;
/// a worker still inside a lookup ends after it, its answer going nowhere. Threads are
/// detached: nobody waits for a lookup to finish.
public final class NameLookupPool: Sendable {
    /// One finished lookup: what was asked and what the resolver said.
    public struct Answer: Sendable, Equatable {
        public var name: String
        public var ipv6: Bool
        public var result: Result<[[UInt8]], NameResolution.Failure>

        public init(name: String, ipv6: Bool, result: Result<[[UInt8]], NameResolution.Failure>) {
            self.name = name
            self.ipv6 = ipv6
            self.result = result
        }
    }

    /// What the workers share with the pool; they hold it, not the pool, so the pool's end
    /// (which closes `jobs`) is what stops them.
    private final class Shared: Sendable {
        let answers = Mutex<[Answer]>([])
        let jobs: FileDescriptor
        let wake: FileDescriptor
        let resolve: @Sendable (String, Bool) -> Result<[[UInt8]], NameResolution.Failure>

        init(jobs: FileDescriptor, wake: FileDescriptor,
             resolve: @escaping @Sendable (String, Bool) -> Result<[[UInt8]], NameResolution.Failure>) {
            self.jobs = jobs
            self.wake = wake
            self.resolve = resolve
        }

        /// A worker: one job per datagram (a family byte, then the name) until end of file.
        func work() {
            var buffer = [UInt8](repeating: 0, count: NameLookupPool.maxNameLength + 2)
            while true {
                let n = buffer.withUnsafeMutableBytes { jobs.read(into: $0) }
                guard case .success(let count) = n, count > 0 else { return }
                guard count >= 2 else { continue }
                let name = String(decoding: buffer[1..<count], as: UTF8.self)
                let ipv6 = buffer[0] == 6
                let answer = Answer(name: name, ipv6: ipv6, result: resolve(name, ipv6))
                answers.withLock { $0.append(answer) }
                var one: UInt8 = 1
                // EAGAIN (the pair is full): the owner has wake-ups pending and takes everything.
                _ = withUnsafeBytes(of: &one) { wake.write($0) }
            }
        }
    }

    /// The longest name a job carries (RFC 1035 §2.3.4: 255 octets on the wire, 253 as text).
    public static let maxNameLength = 253

    private let shared: Shared
    private let jobs: FileDescriptor
    private let wakeReader: FileDescriptor
    /// The descriptor the owner polls: readable when answers are waiting.
    public var descriptor: Int32 { wakeReader.rawValue }

    /// - Parameters:
    ///   - workers: lookups that may run at once (each a thread, started now).
    ///   - resolve: the blocking lookup, run on a worker: `NameResolution.addresses` in
    ///     production, a fake in tests.
    public init(workers: Int = 2,
                resolve: @escaping @Sendable (String, Bool) -> Result<[[UInt8]], NameResolution.Failure> = {
                    NameResolution.addresses(of: $0, ipv6: $1)
                }) throws(Errno) {
        let dgram = Int32(SOCK_DGRAM.rawValue)
        let (jobWriter, jobReader) = try FileDescriptor.socketPair(AF_UNIX, dgram)
        // The owner never blocks on a full job queue (the submit fails instead); workers block.
        if case .failure(let e) = jobWriter.setNonBlocking() { throw e }
        let (wakeReader, wakeWriter) = try FileDescriptor.socketPair(AF_UNIX, dgram | Int32(SOCK_NONBLOCK.rawValue))
        jobs = jobWriter
        self.wakeReader = wakeReader
        shared = Shared(jobs: jobReader, wake: wakeWriter, resolve: resolve)
        for i in 0..<max(1, workers) {
            let s = shared
            // The pool may start before the daemon blocks its signals into a signalfd: a worker
            // must never be the thread a SIGTERM or SIGHUP is delivered to.
            try PosixThread(name: "viaduct-dns-\(i)") {
                try? Signals.blockInThisThread()
                s.work()
            }.detach()
        }
    }

    /// Queues a lookup of `name`; false (with why) when the name is too long or the job queue
    /// is full. Never blocks.
    public func submit(name: String, ipv6: Bool) -> Result<Void, NameResolution.Failure> {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= Self.maxNameLength else {
            return .failure(NameResolution.Failure(description: "cannot resolve \(name): not a host name of 1 to \(Self.maxNameLength) characters"))
        }
        let job = [UInt8(ipv6 ? 6 : 4)] + bytes
        switch job.withUnsafeBytes({ jobs.write($0) }) {
        case .success: return .success(())
        case .failure(let e):
            return .failure(NameResolution.Failure(description: "cannot resolve \(name): the resolver's queue refused it (\(e))"))
        }
    }

    /// Every answer since the last call, oldest first; clears the wake-up bytes first so an
    /// answer racing with this call wakes the owner again rather than being missed.
    public func take() -> [Answer] {
        var sink = [UInt8](repeating: 0, count: 64)
        while case .success(let n) = sink.withUnsafeMutableBytes({ wakeReader.read(into: $0) }), n > 0 {}
        return shared.answers.withLock { a in
            defer { a.removeAll(keepingCapacity: true) }
            return a
        }
    }
}
