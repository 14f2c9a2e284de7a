import Glibc

/// A file descriptor with exactly one owner, and the only place in the program that closes one.
/// Immutable and `Sendable`, so worker threads can hold a reference while they poll or read it;
/// it is closed in `deinit`, i.e. only when the last holder lets go. That is what keeps a
/// descriptor number from being closed and reused under a thread that is still reading it. An
/// owner that must close early (a socket's `close()`) holds it as an optional and drops it.
public final class FileDescriptor: Sendable {
    public let rawValue: Int32

    /// Takes ownership of `rawValue`, which nobody else may close.
    public init(taking rawValue: Int32) { self.rawValue = rawValue }

    deinit {
        // close(2) must NOT be retried on EINTR on Linux: the descriptor is already gone, and a
        // retry could close a descriptor another owner just received.
        _ = Glibc.close(rawValue)
    }

    /// open(2), close-on-exec added.
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0) throws(Errno) -> FileDescriptor {
        switch Syscall.retrying({ Glibc.open(path, flags | O_CLOEXEC, mode) }) {
        case .success(let fd): return FileDescriptor(taking: fd)
        case .failure(let e): throw e
        }
    }

    /// socket(2), close-on-exec added.
    public static func socket(_ domain: Int32, _ type: Int32, _ proto: Int32) throws(Errno) -> FileDescriptor {
        switch Syscall.retrying({ Glibc.socket(domain, type | Int32(SOCK_CLOEXEC.rawValue), proto) }) {
        case .success(let fd): return FileDescriptor(taking: fd)
        case .failure(let e): throw e
        }
    }

    /// socketpair(2), close-on-exec added.
    public static func socketPair(_ domain: Int32, _ type: Int32) throws(Errno) -> (FileDescriptor, FileDescriptor) {
        var pair: [Int32] = [-1, -1]
        let made = pair.withUnsafeMutableBufferPointer { p in
            Syscall.check { Glibc.socketpair(domain, type | Int32(SOCK_CLOEXEC.rawValue), 0, p.baseAddress) }
        }
        if case .failure(let e) = made { throw e }
        return (FileDescriptor(taking: pair[0]), FileDescriptor(taking: pair[1]))
    }

    /// One read(2) into `buffer`: the byte count (0 at end of file), or the errno.
    @inlinable
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, Errno> {
        let fd = rawValue
        return Syscall.retrying { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    /// One write(2) of `bytes`: how many were written, or the errno.
    @inlinable
    public func write(_ bytes: UnsafeRawBufferPointer) -> Result<Int, Errno> {
        let fd = rawValue
        return Syscall.retrying { Glibc.write(fd, bytes.baseAddress, bytes.count) }
    }

    /// setsockopt(2) with a value type.
    public func setOption<T>(_ level: Int32, _ name: Int32, _ value: T) -> Result<Void, Errno> {
        let fd = rawValue
        return withUnsafeBytes(of: value) { raw in
            Syscall.check { setsockopt(fd, level, name, raw.baseAddress, socklen_t(raw.count)) }
        }
    }

    /// Sets O_NONBLOCK.
    public func setNonBlocking() -> Result<Void, Errno> {
        let fd = rawValue
        return Syscall.retrying { fcntl(fd, F_GETFL) }.flatMap { flags in Syscall.check { fcntl(fd, F_SETFL, flags | O_NONBLOCK) } }
    }

    /// dup(2), close-on-exec: a second owner of the same open file.
    public func duplicate() throws(Errno) -> FileDescriptor {
        let fd = rawValue
        switch Syscall.retrying({ fcntl(fd, F_DUPFD_CLOEXEC, 0) }) {
        case .success(let d): return FileDescriptor(taking: d)
        case .failure(let e): throw e
        }
    }
}
