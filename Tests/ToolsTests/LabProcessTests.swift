@testable import Daemon
import Foundation
import Glibc
import Testing
@testable import Tools

/// The processes `viaduct lab` starts (daemons, BIRD) get stdio and nothing else of the caller.
@Suite struct LabProcessTests {
    /// The daemons and BIRD are started through `LabProcess.spawn`: a descriptor the caller
    /// holds (a lock of the calling script) must not reach them.
    @Test func aSpawnedProcessGetsStdioAndNoOtherDescriptorOfTheCaller() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("viaduct-fd-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let marker = "\(dir)/held-by-parent.lock"
        let fd = open(marker, O_WRONLY | O_CREAT, 0o600)
        try #require(fd >= 0)
        defer { close(fd) }
        try #require(fcntl(fd, F_GETFD) & FD_CLOEXEC == 0, "the test needs an inheritable descriptor")
        let log = "\(dir)/child.log"
        let pid = try LabProcess.spawn(["sh", "-c", "ls -l /proc/$$/fd/"], log: log)
        var status: Int32 = 0
        #expect(waitpid(pid, &status, 0) == pid)
        let listing = try String(contentsOfFile: log, encoding: .utf8)
        #expect(listing.contains("/dev/null") && listing.contains(log), "stdin and the log: \(listing)")
        #expect(!listing.contains(marker), "the child holds the caller's fd \(fd): \(listing)")
    }
}
