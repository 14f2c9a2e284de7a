import ArgumentParser
import CryptoCore
import Dataplane
import Foundation
import Glibc
import Tools

/// `viaduct bench dataplane`: one TCP stream LAN↔LAN through Viaduct's userspace data plane
/// (TUN → ESP in UDP → TUN), in network namespaces this command creates and deletes. Prints the
/// iperf3 figures of each run, the best and the median, and the CPU the two data planes used (both
/// run in this process; the iperf3 endpoints and the kernel's forwarding are not counted).
/// A bench tool: needs root, ip(8) and iperf3. Nothing asserts on the figures.
struct BenchDataplane: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataplane",
        abstract: "Measure one TCP stream LAN↔LAN through the userspace data plane (root, iperf3).")

    @Option(help: "Seconds per iperf3 run.")
    var seconds: Int = 10

    @Option(help: "Number of runs.")
    var runs: Int = 3

    @Option(help: "MTU of the TUN devices.")
    var mtu: Int = 1400

    @Option(help: "Packets per recvmmsg/sendmmsg batch.")
    var batch: Int = 64

    @Option(help: "ESP cipher: aes128gcm16, aes256gcm16 or chacha20poly1305.")
    var cipher: String = "aes256gcm16"

    func validate() throws {
        guard getuid() == 0 else { throw ValidationError("needs root (creates network namespaces vdt-bench-*)") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/iperf3") else {
            throw ValidationError("needs iperf3 (apt-get install iperf3)")
        }
        guard seconds >= 1, runs >= 1, (1280...9000).contains(mtu), batch >= 1 else {
            throw ValidationError("--seconds, --runs and --batch must be ≥ 1; --mtu 1280 ... 9000")
        }
    }

    func run() throws {
        let algorithm: EncryptionAlgorithm
        switch cipher {
        case "aes128gcm16": algorithm = .aesGCM16(keyBits: 128)
        case "aes256gcm16": algorithm = .aesGCM16(keyBits: 256)
        case "chacha20poly1305": algorithm = .chacha20Poly1305
        default: throw ValidationError("unknown cipher \(cipher)")
        }
        let lab = DataplaneBenchmarkLab()
        defer { lab.tearDown() }
        try lab.build(mtu: mtu, batchSize: batch, algorithm: algorithm)

        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        server.arguments = ["netns", "exec", lab.hostB, "iperf3", "-s"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        usleep(300_000)

        print("userspace data plane, 1 TCP stream host-a → host-b, \(cipher), TUN MTU \(mtu), batch \(batch), \(seconds) s per run")
        var results: [Double] = []
        for index in 1...runs {
            let before = DataplaneBenchmark.cpuSeconds()
            let threadsBefore = DataplaneBenchmark.workerThreadTicks()
            let start = Date()
            let json = try lab.run("/usr/sbin/ip", ["netns", "exec", lab.hostA, "iperf3", "-c", "198.18.2.10",
                                                    "-t", "\(seconds)", "-J"])
            let wall = Date().timeIntervalSince(start)
            let cpu = DataplaneBenchmark.cpuSeconds() - before
            let threadsAfter = DataplaneBenchmark.workerThreadTicks()
            let gbps = DataplaneBenchmark.receivedBitsPerSecond(json) / 1e9
            results.append(gbps)
            // Per worker thread (named by the data plane): user + system clock ticks over the run.
            let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
            let perThread = threadsAfter.keys.sorted().map { name in
                let ticks = Double((threadsAfter[name] ?? 0) - (threadsBefore[name] ?? 0))
                return "\(name) \(String(format: "%.0f", ticks / ticksPerSecond / wall * 100))%"
            }
            print("  run \(index): \(String(format: "%6.2f", gbps)) Gbit/s   data plane CPU \(String(format: "%5.0f", cpu / wall * 100))% of one core"
                  + "   (\(perThread.joined(separator: ", ")))   TCP retransmits \(DataplaneBenchmark.retransmits(json).map(String.init) ?? "?")")
        }
        let sorted = results.sorted()
        print("  best \(String(format: "%.2f", sorted.last ?? 0)) Gbit/s, median \(String(format: "%.2f", sorted[sorted.count / 2])) Gbit/s")
        let stats = lab.planes.map(\.statistics)
        for (name, s) in zip(["gw-a", "gw-b"], stats) {
            print("  \(name): sent \(s.datagramsSent) received \(s.datagramsReceived) send errors \(s.sendErrors) no SA \(s.outboundWithoutSA) TUN write errors \(s.tunWriteErrors)")
            print("        TUN super-packets read \(s.tunSuperPacketsRead), coalesced writes \(s.tunCoalescedWrites) of \(s.tunCoalescedSegments) segments, offload errors \(s.offloadErrors)")
        }
    }
}
