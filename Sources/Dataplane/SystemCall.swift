import Glibc

/// The one door to the system calls of the data plane: EINTR is retried here and nowhere else,
/// and failures come back as the errno value instead of a global read later.
enum SystemCall {
    /// Runs `call` until it does not fail with EINTR. A failure comes back as the errno in
    /// `.failure`, so a caller cannot confuse a count with an error code.
    @inline(__always)
    static func retrying<T: BinaryInteger>(_ call: () -> T) -> Result<T, SystemErrno> {
        while true {
            let r = call()
            if r >= 0 { return .success(r) }
            let e = Glibc.errno
            if e == EINTR { continue }
            return .failure(SystemErrno(e))
        }
    }

    static func describe(_ errno: Int32) -> String {
        guard let text = strerror(errno) else { return "unknown error" }
        return String(cString: text)
    }

    static func close(_ fd: Int32) {
        // close(2) must not be retried on EINTR on Linux: the descriptor is already released.
        _ = Glibc.close(fd)
    }
}

/// An errno value as an error, so `Result` can carry it.
struct SystemErrno: Error, Hashable, Sendable {
    let value: Int32
    init(_ value: Int32) { self.value = value }
    var wouldBlock: Bool { value == EAGAIN || value == EWOULDBLOCK }
}
