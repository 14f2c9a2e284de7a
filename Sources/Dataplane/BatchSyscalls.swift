import Glibc
import System

// recvmmsg(2), sendmmsg(2) and eventfd(2) are declared by glibc only under _GNU_SOURCE, which the
// Swift Glibc module does not define, and CSystem does not wrap them.
// They are plain exported libc functions with stable ABIs, so they are looked up once with
// dlsym(3) and called through C function pointers. If the lead adds C shims later, only this
// file changes.

/// `struct mmsghdr` (sys/socket.h): a `msghdr` and the byte count the kernel fills in. Swift lays
/// stored properties out in order at their natural alignment, which gives C's layout here: 56 + 4,
/// stride 64 on LP64 (checked by `BatchSyscallsLayoutTests`).
struct MultiMessageHeader {
    var header: msghdr
    var length: UInt32
}

enum BatchSyscalls {
    typealias MultiMessageCall = @convention(c) (Int32, UnsafeMutableRawPointer?, UInt32, Int32, UnsafeMutableRawPointer?) -> Int32
    typealias SendMultiCall = @convention(c) (Int32, UnsafeMutableRawPointer?, UInt32, Int32) -> Int32
    typealias EventFDCall = @convention(c) (UInt32, Int32) -> Int32

    /// The libc entry points, or nil when this libc lacks one (then the callers fall back).
    struct Table: Sendable {
        let recvmmsg: MultiMessageCall?
        let sendmmsg: SendMultiCall?
        let eventfd: EventFDCall?
    }

    static let table: Table = {
        let handle = dlopen(nil, RTLD_NOW)
        func symbol(_ name: String) -> UnsafeMutableRawPointer? { dlsym(handle, name) }
        return Table(
            recvmmsg: symbol("recvmmsg").map { unsafeBitCast($0, to: MultiMessageCall.self) },
            sendmmsg: symbol("sendmmsg").map { unsafeBitCast($0, to: SendMultiCall.self) },
            eventfd: symbol("eventfd").map { unsafeBitCast($0, to: EventFDCall.self) })
    }()

    /// MSG_WAITFORONE (linux/socket.h): return as soon as one datagram is there.
    static let waitForOne: Int32 = 0x10000
    /// EFD_NONBLOCK | EFD_CLOEXEC (sys/eventfd.h: the O_ values).
    static let eventFlags: Int32 = Int32(O_NONBLOCK) | Int32(O_CLOEXEC)

    /// recvmmsg(2) into `count` prepared headers; the number received or the errno.
    static func receive(_ fd: Int32, _ headers: UnsafeMutablePointer<MultiMessageHeader>, count: Int) -> Result<Int, Errno> {
        guard let call = table.recvmmsg else {
            // One recvmsg(2) when the batch call is missing: correct, slower.
            return Syscall.retrying { recvmsg(fd, &headers[0].header, Int32(MSG_DONTWAIT)) }.map { n in
                headers[0].length = UInt32(n)
                return 1
            }
        }
        return Syscall.retrying { call(fd, UnsafeMutableRawPointer(headers), UInt32(count), Int32(MSG_DONTWAIT), nil) }.map(Int.init)
    }

    /// sendmmsg(2) of `count` prepared headers; how many were sent, or the errno.
    static func send(_ fd: Int32, _ headers: UnsafeMutablePointer<MultiMessageHeader>, count: Int) -> Result<Int, Errno> {
        guard let call = table.sendmmsg else {
            return Syscall.retrying { sendmsg(fd, &headers[0].header, Int32(MSG_DONTWAIT)) }.map { _ in 1 }
        }
        return Syscall.retrying { call(fd, UnsafeMutableRawPointer(headers), UInt32(count), Int32(MSG_DONTWAIT)) }.map(Int.init)
    }
}
