import Daemon
import PKI
import System
import Topology

/// `bgp.password-file`: the TCP MD5 password (RFC 2385) of every generated BGP session. Like a
/// key file it must not be readable by group or others; it holds one line, the password, which
/// BIRD takes in double quotes and FRR as one word, so it is 1 to 80 printable characters
/// (RFC 2385 keys are at most 80 bytes in Linux) without spaces, quotes or backslashes.
public enum BGPPasswordFile {
    public static let maximumLength = 80

    /// The password of `plan`'s sessions, nil when the topology names no file.
    public static func password(of plan: NodePlan) throws(DaemonError) -> String? {
        guard let path = plan.tunnels.lazy.compactMap({ $0.bgp?.passwordFile }).first else { return nil }
        return try read(path)
    }

    public static func read(_ path: String) throws(DaemonError) -> String {
        if case .success(let m) = Syscall.fileModeAndOwner(path) {
            try NodeCredentials.checkPrivateKeyMode(path, mode: m.mode, what: "BGP password file")
        }
        var bytes: [UInt8]
        do { bytes = try PKIFiles.read(path) } catch {
            throw DaemonError(.credentials, "cannot read the BGP password file \(path): \(error)")
        }
        defer { PKIFiles.cleanse(&bytes) }
        while let last = bytes.last, [0x0a, 0x0d].contains(last) { bytes.removeLast() }
        guard (1...maximumLength).contains(bytes.count),
              bytes.allSatisfy({ (0x21...0x7e).contains($0) && $0 != 0x22 && $0 != 0x5c }) else {
            throw DaemonError(.credentials, "\(path) must hold one line of 1 to \(maximumLength) printable characters without spaces, quotes or backslashes (the BGP session password)")
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
