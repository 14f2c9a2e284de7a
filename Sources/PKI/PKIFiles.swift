import COpenSSL
import CryptoCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// File access for PKI material. Private keys are created with `open(O_CREAT|O_EXCL, 0600)` so
/// the file is never, even briefly, readable by others; public material gets 0644.
public enum PKIFiles {
    /// Reads a whole file (certificates, CRLs, keys). Bounded to 1 MiB: PKI files are small and a
    /// huge file is a mistake (or /dev/zero).
    public static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CryptoError(.fileIO, "\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                cleanse(&chunk)
                throw CryptoError(.fileIO, "\(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            out += chunk[0..<n]
            guard out.count <= 1 << 20 else {
                cleanse(&chunk)
                cleanse(&out)
                throw CryptoError(.fileIO, "\(path): larger than 1 MiB; not a certificate, key or CRL")
            }
        }
        cleanse(&chunk)
        return out
    }

    /// Overwrites a buffer that held key material (OPENSSL_cleanse cannot be optimised away).
    public static func cleanse(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { raw in
            if let base = raw.baseAddress { OPENSSL_cleanse(base, raw.count) }
        }
    }

    /// Creates `path` with mode 0600 and writes `bytes`. Fails if the file exists unless
    /// `overwrite`, in which case the old file is unlinked first (its mode must not be inherited).
    static func writeSecret(path: String, bytes: UnsafeRawBufferPointer, overwrite: Bool) throws {
        try write(path: path, bytes: bytes, mode: 0o600, overwrite: overwrite)
    }

    /// Writes public material (certificates, CRLs) with mode 0644, replacing any existing file.
    public static func writePublic(path: String, bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write(path: path, bytes: $0, mode: 0o644, overwrite: true) }
    }

    private static func write(path: String, bytes: UnsafeRawBufferPointer, mode: mode_t, overwrite: Bool) throws {
        if overwrite {
            if unlink(path) != 0 && errno != ENOENT {
                throw CryptoError(.fileIO, "\(path): cannot replace: \(String(cString: strerror(errno)))")
            }
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else {
            let reason = errno == EEXIST ? "already exists (refusing to overwrite)" : String(cString: strerror(errno))
            throw CryptoError(.fileIO, "\(path): \(reason)")
        }
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                close(fd)
                throw CryptoError(.fileIO, "\(path): write failed: \(reason)")
            }
            offset += n
        }
        guard fsync(fd) == 0, close(fd) == 0 else {
            throw CryptoError(.fileIO, "\(path): \(String(cString: strerror(errno)))")
        }
    }
}
