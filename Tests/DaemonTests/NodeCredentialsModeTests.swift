@testable import Daemon
import Foundation
import System
import Testing

/// A private key others can read is refused before it is used, with the command that fixes it
/// (as OpenSSH refuses an unprotected identity file).
struct NodeCredentialsModeTests {
    @Test(arguments: [UInt32(0o600), 0o400, 0o700])
    func ownerOnlyKeysAreAccepted(mode: UInt32) throws {
        try NodeCredentials.checkPrivateKeyMode("/etc/viaduct/pki/dc1.key", mode: mode)
    }

    @Test(arguments: [UInt32(0o640), 0o644, 0o604, 0o660, 0o666, 0o602])
    func groupOrOthersAccessIsRefused(mode: UInt32) {
        do {
            try NodeCredentials.checkPrivateKeyMode("/etc/viaduct/pki/dc1.key", mode: mode)
            Issue.record("mode \(String(mode, radix: 8)) was accepted")
        } catch {
            #expect(error.code == .credentials)
            #expect(error.message.contains("chmod 600 /etc/viaduct/pki/dc1.key"))
            #expect(error.message.contains("mode 0\(String(mode, radix: 8))"))
        }
    }

    /// The mode comes from the file itself, not from what the umask would give.
    @Test func modeIsReadFromTheFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("viaduct-key-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(FileManager.default.createFile(atPath: path, contents: Data("k".utf8), attributes: [.posixPermissions: 0o644]))
        let m = try Syscall.fileModeAndOwner(path).get()
        #expect(m.mode == 0o644)
        #expect(throws: DaemonError.self) { try NodeCredentials.checkPrivateKeyMode(path, mode: m.mode) }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        #expect(try Syscall.fileModeAndOwner(path).get().mode == 0o600)
        if case .success = Syscall.fileModeAndOwner(path + ".missing") { Issue.record("stat of a missing file succeeded") }
    }
}
