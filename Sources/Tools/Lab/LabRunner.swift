import Daemon
import Foundation
import Glibc
import Topology

/// Executes a `LabPlan` on this machine: namespaces and links with `ip`, a PKI with `viaduct
/// pki init`, and per gateway a `viaduct run` (and BIRD for BGP tunnels) started in the
/// gateway's namespace, each in its own session so it outlives this command. Every process
/// started is written to `lab.state` with its PID before anything else happens, and so is
/// every namespace (before it is created), so `down` removes exactly what `up` made, even after
/// a partial failure, and nothing another lab made (`LabState`).
public struct LabRunner: Sendable {
    public let plan: LabPlan
    public let plans: [String: NodePlan]
    public let dir: String
    /// The `viaduct` binary the lab runs (`viaduct lab` passes itself, so the lab runs the
    /// daemon that was built with it).
    public let viaduct: String

    public init(plan: LabPlan, plans: [String: NodePlan], dir: String, viaduct: String) {
        self.plan = plan
        self.plans = plans
        self.dir = dir
        self.viaduct = viaduct
    }

    public static let root = "/run/viaduct-lab"
    var stateFile: String { "\(dir)/lab.state" }
    var topologyCopy: String { "\(dir)/topology.yaml" }
    public func socket(_ n: LabPlan.Node) -> String { "\(dir)/\(n.name).sock" }
    public func birdSocket(_ n: LabPlan.Node) -> String { "\(dir)/\(n.name).bird.ctl" }
    /// Each daemon's Prometheus endpoint, on the loopback of its own gateway namespace.
    public static let metricsAddress = "127.0.0.1:9469"
    /// Lab timers: retransmit after 1 s, give up after 2 more (about 6 s in all), so a killed
    /// peer is declared dead within the topology's DPD interval plus a few seconds.
    static let labTimers = ["--retry-delay", "3", "--retransmit-timeout", "1", "--retransmit-tries", "2"]

    // MARK: up

    public func up(topologyText: String, file: String, wait: Double) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        try topologyText.write(toFile: topologyCopy, atomically: true, encoding: .utf8)
        guard FileManager.default.createFile(atPath: stateFile, contents: nil) else {
            throw LabError(.environment, "cannot create \(stateFile)")
        }
        try record("file \(Self.absolute(file))")
        _ = try Self.shell([viaduct, "pki", "init", topologyCopy])
        for ns in plan.namespaces { try record("netns \(ns)") }
        for argv in plan.buildCommands() { _ = try Self.shell(argv) }
        for n in plan.nodes { try start(n) }
        try waitForDaemons(timeout: 10)
        waitForTunnels(timeout: wait)
    }

    /// BIRD (BGP gateways) and `viaduct run` for one gateway, recorded in `lab.state`.
    private func start(_ n: LabPlan.Node) throws {
        guard let p = plans[n.name] else { return }
        if n.bgp {
            let conf = "\(dir)/\(n.name).bird.conf"
            try plan.birdConfig(for: n, bgpInclude: try writeBGPInclude(n, p)).write(toFile: conf, atomically: true, encoding: .utf8)
            let pid = try LabProcess.spawn(["ip", "netns", "exec", n.namespace, "bird", "-f", "-c", conf, "-s", birdSocket(n)],
                                           log: "\(dir)/\(n.name).bird.log")
            try record("pid \(pid) bird \(n.name)")
        }
        let pid = try LabProcess.spawn(["ip", "netns", "exec", n.namespace, viaduct, "run", topologyCopy, "--node", n.name,
                                        "--control-socket", socket(n), "--metrics", Self.metricsAddress, "--timestamps"] + Self.labTimers,
                                       log: "\(dir)/\(n.name).log")
        try record("pid \(pid) viaduct \(n.name)")
    }

    private func writeBGPInclude(_ n: LabPlan.Node, _ p: NodePlan) throws -> String {
        let include = "\(dir)/\(n.name).viaduct-bgp.conf"
        try BGPConfigRenderer.render(p, format: .bird, source: "topology.yaml", password: try BGPPasswordFile.password(of: p))
            .write(toFile: include, atomically: true, encoding: .utf8)
        return include
    }

    // MARK: converge

    /// Gateways whose `viaduct run` is alive, by name.
    public func running() -> [String: pid_t] {
        var out: [String: pid_t] = [:]
        for (pid, what) in readState().pids where what.hasPrefix("viaduct ") && Self.alive(pid, in: dir) {
            out[String(what.dropFirst("viaduct ".count))] = pid
        }
        return out
    }

    /// Makes a running lab match a changed topology without rebuilding it: gateways that stay
    /// get the new plan through `viaduct apply` (their untouched tunnels are not disturbed) and
    /// a BIRD reconfigure; new gateways are built and started; removed ones are stopped and
    /// their namespaces deleted. Returns one line per action.
    public func converge(topologyText: String, file: String, wait: Double) throws -> [String] {
        var done: [String] = []
        let live = running()
        try topologyText.write(toFile: topologyCopy, atomically: true, encoding: .utf8)
        if readState().file != Self.absolute(file) { try record("file \(Self.absolute(file))") }
        _ = try Self.shell([viaduct, "pki", "init", topologyCopy])
        let wanted = Set(plan.nodes.map(\.name))
        let added = plan.nodes.filter { live[$0.name] == nil }
        for n in added {
            for ns in [n.namespace, n.hostNamespace] { try record("netns \(ns)") }
        }
        if !added.isEmpty {
            for argv in plan.buildCommands(only: Set(added.map(\.name))) { _ = try Self.shell(argv) }
        }
        for n in plan.nodes where live[n.name] != nil {
            guard let p = plans[n.name] else { continue }
            let out = try Self.shell([viaduct, "apply", topologyCopy, "--node", n.name, "--socket", socket(n)])
            let summary = out.split(separator: "\n").filter { $0.contains("to add,") || $0 == "nothing to change" }.last.map(String.init) ?? ""
            done.append("\(n.name): viaduct apply: \(summary)")
            if n.bgp {
                _ = try writeBGPInclude(n, p)
                _ = try Self.shell(["birdc", "-s", birdSocket(n), "configure"])
            }
        }
        for n in added {
            try start(n)
            done.append("\(n.name): built and started")
        }
        // Removed gateways go last: their peers have already dropped them.
        let state = readState()
        for (name, _) in live where !wanted.contains(name) {
            for (pid, what) in state.pids where what.hasSuffix(" \(name)") && Self.alive(pid, in: dir) {
                kill(pid, SIGTERM)
                var waited = 0.0
                while Self.alive(pid, in: dir) && waited < 5 { usleep(100_000); waited += 0.1 }
                if Self.alive(pid, in: dir) { kill(pid, SIGKILL) }
            }
            for ns in [LabPlan.namespace(of: name) + "-host", LabPlan.namespace(of: name)]
            where FileManager.default.fileExists(atPath: "/run/netns/\(ns)") {
                _ = try Self.shell(["ip", "netns", "del", ns])
            }
            // Forget its processes and namespaces (they are gone), so the lab reads as whole
            // again and never claims a namespace another lab may create later under that name.
            let text = (try? String(contentsOfFile: stateFile, encoding: .utf8)) ?? ""
            try LabState.forgetting(gateway: name, in: text).write(toFile: stateFile, atomically: true, encoding: .utf8)
            done.append("\(name): stopped and removed")
        }
        try waitForDaemons(timeout: 10)
        waitForTunnels(timeout: wait)
        return done
    }

    private func record(_ line: String) throws {
        guard let h = FileHandle(forWritingAtPath: stateFile) else {
            throw LabError(.environment, "cannot write \(stateFile)")
        }
        defer { try? h.close() }
        h.seekToEndOfFile()
        h.write(Data((line + "\n").utf8))
    }

    /// Every daemon answers on its control socket, or the lab is broken: say which and why.
    private func waitForDaemons(timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var pending = plan.nodes
        while !pending.isEmpty {
            pending = pending.filter { (try? status(of: $0)) == nil }
            // Just spawned: the command line may not be exec'd yet, so only existence counts here.
            for (pid, what) in readState().pids where !Self.alive(pid, in: nil) {
                throw LabError(.daemonExited, "\(what) exited right after it started; its log:\n" + tail("\(dir)/\(what.split(separator: " ").last.map(String.init) ?? "")\(what.hasPrefix("bird") ? ".bird" : "").log"))
            }
            if pending.isEmpty { break }
            if Date() > deadline {
                throw LabError(.daemonExited, "no answer on the control socket of \(pending.map(\.name).joined(separator: ", ")) after \(Int(timeout))s")
            }
            usleep(200_000)
        }
    }

    /// Waits until every tunnel between built gateways is established with a Child SA.
    private func waitForTunnels(timeout: Double) {
        let built = Set(plan.nodes.map(\.name))
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let allUp = plan.nodes.allSatisfy { n in
                guard let s = try? status(of: n) else { return false }
                return s.tunnels.filter { built.contains($0.peer) }.allSatisfy(\.carriesTraffic)
            }
            if allUp { return }
            usleep(250_000)
        }
    }

    public func status(of n: LabPlan.Node) throws -> NodeStatus {
        try ControlClient.status(at: socket(n))
    }

    public func birdProtocols(_ n: LabPlan.Node) -> String {
        (try? Self.shell(["birdc", "-s", birdSocket(n), "show", "protocols"])) ?? "(BIRD is not answering on \(birdSocket(n)))\n"
    }

    public func tail(_ file: String, lines: Int = 15) -> String {
        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? "(no log at \(file))"
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    // MARK: down

    public func readState() -> LabState {
        LabState.parse((try? String(contentsOfFile: stateFile, encoding: .utf8)) ?? "")
    }

    /// The state of every other lab on this machine, by name; a lab whose state names no file
    /// (made before `lab.state` recorded it) is named by its topology copy.
    public func otherLabs() -> [String: LabState] {
        var out: [String: LabState] = [:]
        let names = (try? FileManager.default.contentsOfDirectory(atPath: Self.root)) ?? []
        for other in names where "\(Self.root)/\(other)" != dir {
            guard let text = try? String(contentsOfFile: "\(Self.root)/\(other)/lab.state", encoding: .utf8) else { continue }
            var s = LabState.parse(text)
            if s.file == nil { s.file = "\(Self.root)/\(other)/topology.yaml" }
            out[other] = s
        }
        return out
    }

    /// The namespaces on this machine (`ip netns add` makes /run/netns/NAME).
    public static func existingNamespaces() -> Set<String> {
        Set((try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? [])
    }

    /// Refuses, before anything is touched, to build over a namespace that is not this lab's.
    public func claim() throws {
        let own = FileManager.default.fileExists(atPath: stateFile) ? readState() : nil
        try plan.claim(existing: Self.existingNamespaces(), own: own, others: otherLabs()).get()
    }

    /// Stops what `up` started (by PID, only if the process still is ours) and deletes the
    /// namespaces `lab.state` records, except any another lab records too; returns what it
    /// could not remove. Nothing it did not record is touched, whatever the plan says.
    public func down() -> [String] {
        var problems: [String] = []
        let state = readState()
        for (pid, what) in state.pids.reversed() where Self.alive(pid, in: dir) {
            kill(pid, SIGTERM)
            var waited = 0.0
            while Self.alive(pid, in: dir) && waited < 5 { usleep(100_000); waited += 0.1 }
            if Self.alive(pid, in: dir) {
                kill(pid, SIGKILL)
                usleep(200_000)
            }
            if Self.alive(pid, in: dir) { problems.append("\(what) (pid \(pid)) did not stop") }
        }
        let (names, shared) = LabPlan.removable(own: state, others: otherLabs())
        for (ns, other) in shared {
            problems.append("namespace \(ns) is recorded by the lab '\(other)' too: left alone")
        }
        for ns in names where FileManager.default.fileExists(atPath: "/run/netns/\(ns)") {
            if let left = try? Self.shell(["ip", "netns", "pids", ns]), !left.isEmpty {
                problems.append("namespace \(ns) still has processes: \(left.split(separator: "\n").joined(separator: " "))")
            }
            do { _ = try Self.shell(["ip", "netns", "del", ns]) } catch { problems.append("\(error)") }
        }
        if problems.isEmpty {
            try? FileManager.default.removeItem(atPath: dir)
            _ = rmdir(Self.root)  // only when no other lab is up
        }
        return problems
    }

    // MARK: processes

    /// True when `pid` runs (not a zombie) and its command line mentions a file in the lab
    /// directory `dir` (so a reused PID is never taken for ours, nor one of lab `dci-two-site`
    /// for lab `dci`'s); any command line when `dir` is nil.
    public static func alive(_ pid: pid_t, in dir: String?) -> Bool {
        guard kill(pid, 0) == 0 || errno == EPERM,
              let cmd = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
              let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        // A zombie (state Z) has already stopped.
        if let close = stat.lastIndex(of: ")"), stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z") { return false }
        return dir.map { cmd.contains($0 + "/") } ?? true
    }

    /// Runs a command to completion; its stdout, or an error with its stderr.
    @discardableResult
    public static func shell(_ argv: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        do { try p.run() } catch { throw LabError(.environment, "cannot run \(argv[0]): \(error)") }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw LabError(.command, "'\(argv.joined(separator: " "))' failed: \(String(decoding: e, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return String(decoding: o, as: UTF8.self)
    }

    /// `file` as an absolute path, so another lab's refusal can name it from anywhere.
    public static func absolute(_ file: String) -> String {
        URL(fileURLWithPath: file).standardizedFileURL.path
    }
}
