import Foundation
import Glibc
@testable import Daemon
import IKEv2
import System
import Testing
import TestSupport

/// Reload on a change of the credential files on disk: the change is seen through inotify
/// (System's `FileWatch`), and the reload waits until the files are quiet (`ReloadDebounce`),
/// driven here by a fake clock: no sleep, no timed assertion.
struct CredentialFileWatcherTests {
    let t0 = IKEInstant(nanoseconds: 5_000_000_000)

    @Test func aBurstOfChangesReloadsOnceWhenQuiet() {
        var d = ReloadDebounce(quietSeconds: 2, maxDelaySeconds: 10)
        #expect(d.deadline == nil)
        d.noteChange(at: t0)
        d.noteChange(at: t0.adding(seconds: 0.5))
        #expect(d.deadline == t0.adding(seconds: 2.5))
        let early = d.fire(at: t0.adding(seconds: 2.4))
        let due = d.fire(at: t0.adding(seconds: 2.5))
        let again = d.fire(at: t0.adding(seconds: 3))
        #expect(!early)
        #expect(due)
        #expect(!again, "fired twice for one burst")
        #expect(d.deadline == nil)
    }

    @Test func aFileRewrittenForEverStillReloadsAtTheMaximumDelay() {
        var d = ReloadDebounce(quietSeconds: 2, maxDelaySeconds: 10)
        var fired: [Double] = []
        for tenth in 0...150 {
            let now = t0.adding(seconds: Double(tenth) / 10)
            if tenth % 10 == 0 { d.noteChange(at: now) }  // a change every second
            if d.fire(at: now) { fired.append(Double(tenth) / 10) }
        }
        #expect(fired == [10])
    }

    /// The watcher sees a file replaced by rename (the way tools install certificates), ignores
    /// other files in the same directory, and reloads once, after the quiet time.
    @Test func replacingACertificateFileReloadsOnceAfterTheQuietTime() throws {
        let pki = try TestPKIFiles()
        try pki.writeNode(try pki.gateway("hub.example.net"))
        let plan = try pki.plan()
        var reloads: [IKEInstant] = []
        let watcher = try CredentialFileWatcher(plan: plan, debounce: ReloadDebounce(quietSeconds: 2, maxDelaySeconds: 10),
                                                logger: LogCapture().logger()) { reloads.append($0) }
        #expect(Set(CredentialFileWatcher.files(of: plan)) == [pki.path("hub.pem"), pki.path("hub.key"), pki.path("ca.pem")])
        func ready() -> ArraySlice<pollfd> {
            var fds = watcher.pollDescriptors()
            _ = Syscall.retrying { poll(&fds, nfds_t(fds.count), 0) }
            return fds[...]
        }

        // Another file in the directory: no reload.
        try pki.replace("notes.txt", with: Array("hello".utf8))
        watcher.handle(ready(), now: t0)
        #expect(watcher.nextDeadline == nil)

        // The certificate, then the key half a second later.
        let gw = try pki.gateway("hub.example.net")
        try pki.writeCertificate("hub.pem", [gw.0])
        watcher.handle(ready(), now: t0)
        try pki.writeKey("hub.key", gw.1)
        watcher.handle(ready(), now: t0.adding(seconds: 0.5))
        #expect(watcher.nextDeadline == t0.adding(seconds: 2.5))
        watcher.handle(ready(), now: t0.adding(seconds: 2))
        #expect(reloads.isEmpty)
        watcher.handle(ready(), now: t0.adding(seconds: 2.5))
        #expect(reloads == [t0.adding(seconds: 2.5)])
        watcher.handle(ready(), now: t0.adding(seconds: 10))
        #expect(reloads.count == 1)

        // A chmod (fixing a key's mode) is a change too.
        chmod(pki.path("hub.key"), 0o400)
        watcher.handle(ready(), now: t0.adding(seconds: 20))
        #expect(watcher.nextDeadline == t0.adding(seconds: 22))
    }

    /// After an apply that names other files, the watcher follows them.
    @Test func followsTheFilesOfANewPlan() throws {
        let pki = try TestPKIFiles(), other = try TestPKIFiles()
        try pki.writeNode(try pki.gateway("hub.example.net"))
        try other.writeNode(try other.gateway("hub.example.net"))
        var reloads = 0
        let capture = LogCapture()
        let watcher = try CredentialFileWatcher(plan: try pki.plan(), logger: capture.logger()) { _ in reloads += 1 }
        watcher.follow(try other.plan())
        func ready() -> ArraySlice<pollfd> {
            var fds = watcher.pollDescriptors()
            _ = Syscall.retrying { poll(&fds, nfds_t(fds.count), 0) }
            return fds[...]
        }
        try pki.writeCertificate("ca.pem", [pki.ca])
        watcher.handle(ready(), now: t0)
        #expect(watcher.nextDeadline == nil)
        try other.writeCertificate("ca.pem", [other.ca])
        watcher.handle(ready(), now: t0)
        watcher.handle(ready(), now: t0.adding(seconds: 2))
        #expect(reloads == 1, "\(capture.text)")
    }
}
