import COpenSSL
import CryptoCore
import Glibc
import System

/// File access for PKI material. Private keys are created with `open(O_CREAT|O_EXCL, 0600)` so
/// the file is never, even briefly, readable by others; public material gets 0644.
public enum PKIFiles {
    /// Reads a whole file (certificates, CRLs, keys). Bounded to 1 MiB: PKI files are small and a
    /// huge file is a mistake (or /dev/zero).
    public static func read(_ path: String) throws -> [UInt8] {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(path, O_RDONLY)
        } catch {
            throw CryptoError(.fileIO, "\(path): \(error.text)")
        }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        defer { cleanse(&chunk) }
        while true {
            switch chunk.withUnsafeMutableBytes({ fd.read(into: $0) }) {
            case .failure(let e):
                cleanse(&out)
                throw CryptoError(.fileIO, "\(path): \(e.text)")
            case .success(0):
                return out
            case .success(let n):
                out += chunk[0..<n]
                guard out.count <= 1 << 20 else {
                    cleanse(&out)
                    throw CryptoError(.fileIO, "\(path): larger than 1 MiB; not a certificate, key or CRL")
                }
            }
        }
    }

    /// Overwrites a buffer that held key material (OPENSSL_cleanse cannot be optimised away).
    public static func cleanse(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { raw in
            if let base = raw.baseAddress { OPENSSL_cleanse(base, raw.count) }
        }
    }

    /// Creates `path` with mode 0600 and writes `bytes`. Fails if the file exists unless
    /// `overwrite`, in which case the old file is unlinked first (its mode must not be inherited).
    public static func writeSecret(path: String, bytes: UnsafeRawBufferPointer, overwrite: Bool) throws {
        try write(path: path, bytes: bytes, mode: 0o600, overwrite: overwrite)
    }

    /// Writes public material (certificates, CRLs) with mode 0644, replacing any existing file.
    public static func writePublic(path: String, bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write(path: path, bytes: $0, mode: 0o644, overwrite: true) }
    }

    private static func write(path: String, bytes: UnsafeRawBufferPointer, mode: mode_t, overwrite: Bool) throws {
        if overwrite {
            if case .failure(let e) = Syscall.check({ unlink(path) }), e.rawValue != ENOENT {
                throw CryptoError(.fileIO, "\(path): cannot replace: \(e.text)")
            }
        }
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: mode)
        } catch {
            let reason = error.rawValue == EEXIST ? "already exists (refusing to overwrite)" : error.text
            throw CryptoError(.fileIO, "\(path): \(reason)")
        }
        var offset = 0
        while offset < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            switch fd.write(rest) {
            case .failure(let e): throw CryptoError(.fileIO, "\(path): write failed: \(e.text)")
            case .success(let n): offset += n
            }
        }
        // fsync reports what the writes could not; the descriptor closes when `fd` goes.
        if case .failure(let e) = Syscall.check({ fsync(fd.rawValue) }) {
            throw CryptoError(.fileIO, "\(path): \(e.text)")
        }
    }
}
