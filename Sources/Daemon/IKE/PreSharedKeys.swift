// RFC 7296 §2.15: the pre-shared keys of a node's `auth: psk` tunnels.
import CryptoCore
import NetTypes
import PKI
import System
import Topology

/// Read when the daemon starts and on every `apply`, never logged, planned or shown: only the
/// file's path appears anywhere. A key file that group or others may read, or that holds fewer
/// than `minimumLength` bytes of key, is refused with what to do about it.
public struct PreSharedKeys: Sendable {
    public private(set) var byTunnel: [TunnelID: SecureBytes] = [:]

    /// NIST SP 800-57's 128-bit strength for a random key is 16 bytes; a key a person may have
    /// typed needs far more, and cloud gateways generate 32 characters.
    public static let minimumLength = 32

    public init() {}

    public static func load(plan: NodePlan) throws(DaemonError) -> PreSharedKeys {
        var keys = PreSharedKeys()
        for t in plan.tunnels {
            guard case .psk(let path) = t.ike.auth else { continue }
            // Like a private key: readable by its owner only.
            if case .success(let m) = Syscall.fileModeAndOwner(path) {
                try NodeCredentials.checkPrivateKeyMode(path, mode: m.mode, what: "pre-shared key file")
            }
            var data: [UInt8]
            do {
                data = try PKIFiles.read(path)
            } catch {
                throw DaemonError(.credentials, "cannot read the pre-shared key file of the tunnel to \(t.peer): \(error)")
            }
            defer { PKIFiles.cleanse(&data) }
            keys.byTunnel[t.tunnel] = try key(fromFile: data, path: path)
        }
        return keys
    }

    /// The tunnels of both sets whose key differs (a reload or `apply` that only replaced a key
    /// file), one line each; never the key. A tunnel added or removed is the plan diff's business.
    public func changes(from old: PreSharedKeys) -> [String] {
        byTunnel.keys.sorted { $0.peer < $1.peer }.compactMap { tunnel in
            guard let before = old.byTunnel[tunnel], let after = byTunnel[tunnel],
                  !after.constantTimeEquals(before) else { return nil }
            return "pre-shared key of the tunnel to \(tunnel.peer): replaced"
        }
    }

    /// The key is the file's bytes without trailing whitespace (the newline editors and `echo`
    /// add), exactly the string strongSwan's `secret =` or a cloud console holds.
    static func key(fromFile bytes: [UInt8], path: String) throws(DaemonError) -> SecureBytes {
        var end = bytes.endIndex
        while end > bytes.startIndex, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[end - 1]) { end -= 1 }
        let key = bytes[..<end]
        guard !key.contains(where: { $0 == 0x0a || $0 == 0x0d }) else {
            throw DaemonError(.credentials, "\(path) holds more than one line; a pre-shared key file holds the key alone")
        }
        guard key.count >= minimumLength else {
            throw DaemonError(.credentials, "the pre-shared key in \(path) is \(key.count) bytes; at least \(minimumLength) are needed: make one with 'viaduct pki psk \(path)'")
        }
        return SecureBytes(Array(key))
    }
}
