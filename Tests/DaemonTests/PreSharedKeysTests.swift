@testable import Daemon
import Testing

/// RFC 7296 §2.15 key files: what `run` and `apply` accept, and what they refuse with a reason.
struct PreSharedKeysTests {
    @Test("The key is the file without its trailing newline; 32 bytes is the least accepted")
    func trailingNewlineAndLength() throws {
        let text = "0123456789abcdef0123456789abcdef"
        let key = try PreSharedKeys.key(fromFile: Array((text + "\n").utf8), path: "k")
        #expect(key.withUnsafeBytes { Array($0) } == Array(text.utf8))
        #expect(throws: DaemonError.self) { try PreSharedKeys.key(fromFile: Array("short key\n".utf8), path: "k") }
        do {
            _ = try PreSharedKeys.key(fromFile: Array(text.dropLast().utf8), path: "/etc/viaduct/aws.psk")
            Issue.record("a 31-byte key was accepted")
        } catch {
            #expect(error.message.contains("31 bytes; at least 32") && error.message.contains("viaduct pki psk /etc/viaduct/aws.psk"), "\(error.message)")
        }
    }

    @Test("A file of several lines is refused (a key file holds the key alone)")
    func oneLine() {
        let text = "0123456789abcdef0123456789abcdef\nsecond line that is also long enough\n"
        #expect(throws: DaemonError.self) { try PreSharedKeys.key(fromFile: Array(text.utf8), path: "k") }
    }

    @Test("A key file group or others can read is refused with the chmod to run", arguments: [0o640, 0o604, 0o644, 0o660])
    func mode(mode: Int) throws {
        #expect(throws: Never.self) { try NodeCredentials.checkPrivateKeyMode("k", mode: 0o600, what: "pre-shared key file") }
        do {
            try NodeCredentials.checkPrivateKeyMode("/etc/viaduct/aws.psk", mode: UInt32(mode), what: "pre-shared key file")
            Issue.record("mode \(String(mode, radix: 8)) was accepted")
        } catch {
            #expect(error.message.hasPrefix("pre-shared key file /etc/viaduct/aws.psk is accessible") && error.message.contains("chmod 600 /etc/viaduct/aws.psk"))
        }
    }
}
