import CSystem
import Glibc

/// The one door to the system calls the program makes (after swift-system's
/// `Internals/Syscalls.swift`): every call goes through `retrying`, so EINTR is handled in one
/// place and every failure comes back as an `Errno` value rather than -1 plus a global.
/// Descriptors are closed by `FileDescriptor` alone.
public enum Syscall {
    /// Runs `body` until it does not fail with EINTR. A negative result becomes `errno`.
    @inlinable
    public static func retrying<T: FixedWidthInteger>(_ body: () -> T) -> Result<T, Errno> {
        while true {
            let r = body()
            if r >= 0 { return .success(r) }
            let e = Errno.current
            if e == .interrupted { continue }
            return .failure(e)
        }
    }

    /// The next pending connection on listening socket `fd`, non-blocking and close-on-exec, or
    /// nil when none waits. (accept4 is hidden behind _GNU_SOURCE; the same flags in two calls.)
    public static func acceptConnection(_ fd: Int32) -> FileDescriptor? {
        guard case .success(let c) = retrying({ Glibc.accept(fd, nil, nil) }) else { return nil }
        _ = fcntl(c, F_SETFD, FD_CLOEXEC)
        _ = fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK)
        return FileDescriptor(taking: c)
    }

    /// Like `retrying`, for calls whose result carries no value.
    @inlinable
    public static func check(_ body: () -> Int32) -> Result<Void, Errno> {
        retrying(body).map { _ in () }
    }

    /// Starts `argv` (argv[0] looked up in PATH) in a session of its own (POSIX_SPAWN_SETSID, so
    /// it outlives the caller's terminal), stdin from /dev/null, stdout and stderr appended to
    /// `log`, and no other descriptor: every descriptor from 3 up is closed in the child, so a
    /// lock or socket the caller holds is not kept alive by a long-running child. Returns its PID.
    public static func spawnDetached(_ argv: [String], log: String) -> Result<pid_t, Errno> {
        guard !argv.isEmpty else { return .failure(Errno(rawValue: EINVAL)) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // Each call only records an action; a failure here (ENOMEM) stops the spawn.
        for r in [posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0),
                  posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o600),
                  posix_spawn_file_actions_adddup2(&actions, 1, 2),
                  viaduct_spawn_file_actions_addclosefrom(&actions, 3),
                  posix_spawnattr_setflags(&attr, viaduct_posix_spawn_setsid)] where r != 0 {
            return .failure(Errno(rawValue: r))
        }
        var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for a in cargs { free(a) } }
        var pid: pid_t = 0
        let r = posix_spawnp(&pid, argv[0], &actions, &attr, &cargs, environ)
        return r == 0 ? .success(pid) : .failure(Errno(rawValue: r))
    }

    /// The device and inode of descriptor `fd` (fstat(2)), or nil when it is not open.
    public static func deviceAndInode(_ fd: Int32) -> (device: UInt64, inode: UInt64)? {
        var st = stat()
        guard case .success = check({ fstat(fd, &st) }) else { return nil }
        return (UInt64(st.st_dev), UInt64(st.st_ino))
    }

    /// Renames `from` over `to` (rename(2)): readers of `to` see the old file or the new one,
    /// never half of it, and a process watching the directory (inotify) sees one change.
    public static func rename(_ from: String, over to: String) -> Result<Void, Errno> {
        check { Glibc.rename(from, to) }
    }

    /// The permission bits and owner of `path` (stat(2), following links).
    public static func fileModeAndOwner(_ path: String) -> Result<(mode: UInt32, owner: UInt32), Errno> {
        var st = stat()
        return check({ stat(path, &st) }).map { (UInt32(st.st_mode) & 0o7777, UInt32(st.st_uid)) }
    }
}
