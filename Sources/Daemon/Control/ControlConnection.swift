import Glibc
import System

/// One accepted control client: its fd (owned), the request bytes not yet ending in a
/// newline, and the reply bytes the socket did not take yet. Non-blocking both ways.
final class ControlConnection {
    private var file: FileDescriptor?
    var descriptor: Int32 { file?.rawValue ?? -1 }
    private var input: [UInt8] = []
    private(set) var output: [UInt8] = []
    /// Streams events after an `events` request.
    var subscribed = false
    /// Output a subscriber may leave unread before it is cut off.
    static let maxBacklog = 1 << 20

    /// The longest request line this connection takes (the control socket takes a whole
    /// topology in an `apply`; the status socket only short requests).
    let maxLine: Int
    /// Complete lines read but not yet returned.
    private var ready: [[UInt8]] = []

    init(_ file: FileDescriptor, maxLine: Int = ControlMessage.maxRequestLine) {
        self.file = file
        self.maxLine = maxLine
    }

    deinit { close() }

    var isOpen: Bool { descriptor >= 0 }

    func close() {
        guard file != nil else { return }
        file = nil
    }

    /// Reads what is queued and returns the complete lines; nil when the peer closed or the
    /// request line is too long (the caller closes).
    func readLines() -> [[UInt8]]? {
        var buf = [UInt8](repeating: 0, count: 65_536)
        let fd = descriptor
        while true {
            let r = buf.withUnsafeMutableBytes { raw in Syscall.retrying { Glibc.read(fd, raw.baseAddress, raw.count) } }
            switch r {
            case .success(0): return nil
            case .success(let n):
                let chunk = buf[0..<n]
                input += chunk
                // Only a chunk with a newline can complete a line: each byte is scanned once.
                if chunk.contains(0x0A) { splitLines() }
                if input.count > maxLine { return nil }
            case .failure(let e) where e == .wouldBlock:
                defer { ready.removeAll() }
                return ready
            case .failure: return nil
            }
        }
    }

    private func splitLines() {
        var start = input.startIndex
        while let nl = input[start...].firstIndex(of: 0x0A) {
            ready.append(Array(input[start..<nl]))
            start = nl + 1
        }
        input.removeSubrange(..<start)
    }

    /// Queues bytes; false when a slow subscriber has let too much pile up.
    func enqueue(_ bytes: [UInt8]) -> Bool {
        output += bytes
        return output.count <= Self.maxBacklog
    }

    /// Writes as much as the socket takes; false on a write error (peer gone).
    func flush() -> Bool {
        let fd = descriptor
        while !output.isEmpty {
            let r = output.withUnsafeBytes { raw in
                Syscall.retrying { Glibc.send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL)) }
            }
            switch r {
            case .success(let n): output.removeFirst(n)
            case .failure(let e) where e == .wouldBlock: return true
            case .failure: return false
            }
        }
        return true
    }

    /// The connecting process's uid (SO_PEERCRED), nil when the kernel will not say.
    func peerUID() -> uid_t? {
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; } (hidden behind _GNU_SOURCE in Swift's Glibc).
        var cred: (Int32, UInt32, UInt32) = (0, 0, 0)
        var len = socklen_t(MemoryLayout<(Int32, UInt32, UInt32)>.size)
        let fd = descriptor
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 else { return nil }
        return cred.1
    }
}
