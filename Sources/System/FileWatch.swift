import CSystem
import Glibc

/// Changes to files, as a readable descriptor (inotify(7)), for the daemon's event loop: it
/// polls `descriptor` like any other input and calls `drain` when it is readable.
///
/// Directories are watched, not the files: tools replace a certificate by writing a new file
/// and renaming it over the old one, which a watch on the old file's inode would never see.
/// `drain` reports the names (within the watched directories) that were written, created,
/// moved in, deleted or had their mode changed. Owns the descriptor.
public final class FileWatch {
    public let file: FileDescriptor
    private var directories: [Int32: String] = [:]

    /// What changes count: a write finished, a file created, renamed in or out, deleted, or its
    /// mode/owner changed (a `chmod 600` that fixes a key is a change worth re-reading for).
    static let mask = UInt32(IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB)

    public init() throws(Errno) {
        switch Syscall.retrying({ inotify_init1(Int32(viaduct_in_nonblock | viaduct_in_cloexec)) }) {
        case .success(let fd): file = FileDescriptor(taking: fd)
        case .failure(let e): throw e
        }
    }

    public var descriptor: Int32 { file.rawValue }

    /// Watches `directory` (again: a second call for the same directory is harmless).
    public func watch(directory: String) -> Result<Void, Errno> {
        Syscall.retrying { inotify_add_watch(file.rawValue, directory, Self.mask) }.map { directories[$0] = directory }
    }

    /// Stops watching every directory (before watching a new set).
    public func unwatchAll() {
        for wd in directories.keys { _ = inotify_rm_watch(file.rawValue, wd) }
        directories = [:]
    }

    /// The paths (directory + "/" + name) that changed since the last call; empty when nothing
    /// is queued. Events on a directory itself (no name) are reported as the directory.
    public func drain() -> [String] {
        var paths: [String] = []
        let size = 64 * 1024
        var buffer = [UInt8](repeating: 0, count: size)
        while true {
            let r = buffer.withUnsafeMutableBytes { file.read(into: $0) }
            guard case .success(let n) = r, n > 0 else { return paths }
            var offset = 0
            let header = MemoryLayout<inotify_event>.size
            while offset + header <= n {
                let (wd, length) = buffer.withUnsafeBytes { raw in
                    let e = raw.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                    return (e.wd, Int(e.len))
                }
                let nameBytes = buffer[(offset + header)..<min(n, offset + header + length)].prefix { $0 != 0 }
                if let directory = directories[wd] {
                    paths.append(nameBytes.isEmpty ? directory : directory + "/" + String(decoding: nameBytes, as: UTF8.self))
                }
                offset += header + length
            }
        }
    }
}
