/// What one lab's `lab.state` records (pure: `viaduct lab` reads and writes the file, tests
/// read this). One line per fact, appended as it happens, so a lab that failed half way still
/// says what it made:
///
///     file /abs/path/topology.yaml      the FILE given to `lab up` (the last line wins)
///     netns vdl-dc1                     a namespace, recorded before it is created
///     pid 1234 viaduct dc1              a process, recorded as soon as it is started
///
/// A lab owns exactly the namespaces and processes its `lab.state` records: `lab up` refuses
/// to build over a namespace that is not its own, and `lab down` removes only its own.
public struct LabState: Sendable {
    public var file: String?
    public var pids: [(pid: Int32, what: String)] = []
    public var namespaces: [String] = []

    public init(file: String? = nil, pids: [(pid: Int32, what: String)] = [], namespaces: [String] = []) {
        self.file = file
        self.pids = pids
        self.namespaces = namespaces
    }

    public static func parse(_ text: String) -> LabState {
        var s = LabState()
        for line in text.split(separator: "\n") {
            if line.hasPrefix("file ") {
                s.file = String(line.dropFirst("file ".count))
                continue
            }
            let f = line.split(separator: " ", maxSplits: 2).map(String.init)
            if f.count == 3, f[0] == "pid", let pid = Int32(f[1]) { s.pids.append((pid, f[2])) }
            if f.count == 2, f[0] == "netns", !s.namespaces.contains(f[1]) { s.namespaces.append(f[1]) }
        }
        return s
    }

    /// `text` without the lines of one gateway (its processes and namespaces), after the
    /// gateway was stopped and its namespaces deleted: the lab no longer owns them.
    public static func forgetting(gateway: String, in text: String) -> String {
        let names = [LabPlan.namespace(of: gateway), LabPlan.namespace(of: gateway) + "-host"]
        let kept = text.split(separator: "\n").filter { line in
            !(line.hasPrefix("pid ") && line.hasSuffix(" \(gateway)")) && !names.contains { line == "netns \($0)" }
        }
        return kept.map { $0 + "\n" }.joined()
    }
}

extension LabPlan {
    /// The lab name `viaduct lab` uses for FILE when `--name` is not given: its name without
    /// the extension.
    public static func defaultName(file: String) -> String {
        let base = file.split(separator: "/").last.map(String.init) ?? file
        guard let dot = base.lastIndex(of: "."), dot != base.startIndex else { return base }
        return String(base[..<dot])
    }

    /// The command that takes down the lab `name`, started from `file`.
    public static func downCommand(file: String, name: String) -> String {
        let quoted = file.allSatisfy { $0.isLetter || $0.isNumber || "/._-+=:,@".contains($0) } ? file : "'\(file)'"
        return "viaduct lab down \(quoted)" + (defaultName(file: file) == name ? "" : " --name \(name)")
    }

    /// Whether `lab up` may build this lab: every namespace of the plan that already exists
    /// (`existing`) must be recorded in this lab's own state (`own`, nil when it has none). One
    /// recorded by another lab (`others`, by lab name, with the file to name when its state
    /// has none) or by no lab is refused, with a message that names the owner and how to
    /// remove it; nothing has been touched then.
    public func claim(existing: Set<String>, own: LabState?, others: [String: LabState]) -> Result<Void, LabError> {
        let mine = Set(own?.namespaces ?? [])
        var taken: [String: [String]] = [:]  // other lab -> its namespaces this plan needs
        var stray: [String] = []
        for ns in namespaces where existing.contains(ns) && !mine.contains(ns) {
            if let owner = Self.owner(of: ns, among: others) {
                taken[owner, default: []].append(ns)
            } else {
                stray.append(ns)
            }
        }
        var lines: [String] = []
        for (owner, list) in taken.sorted(by: { $0.key < $1.key }) {
            let file = others[owner]?.file
            lines.append("\(list.count == 1 ? "namespace" : "namespaces") \(list.joined(separator: ", ")) \(list.count == 1 ? "belongs" : "belong") to the lab '\(owner)'"
                + (file.map { " (\($0))" } ?? "")
                + ", not to '\(name)'; take that lab down first: "
                + (file.map { Self.downCommand(file: $0, name: owner) } ?? "viaduct lab down FILE --name \(owner)"))
        }
        if !stray.isEmpty {
            lines.append("\(stray.count == 1 ? "namespace" : "namespaces") \(stray.joined(separator: ", ")) \(stray.count == 1 ? "exists" : "exist") but no lab recorded \(stray.count == 1 ? "it" : "them") (made by hand, or left behind); if nothing uses \(stray.count == 1 ? "it" : "them"): "
                + stray.map { "ip netns del \($0)" }.joined(separator: "; "))
        }
        guard !lines.isEmpty else { return .success(()) }
        return .failure(LabError(.conflict, "lab '\(name)' not changed: " + lines.joined(separator: "\n")))
    }

    /// The first lab, by name, whose state records namespace `ns`.
    static func owner(of ns: String, among labs: [String: LabState]) -> String? {
        labs.filter { $0.value.namespaces.contains(ns) }.keys.min()
    }

    /// The namespaces `lab down` deletes, in removal order: those this lab's state records,
    /// newest first, except any another lab records too (left alone and reported).
    public static func removable(own: LabState, others: [String: LabState]) -> (remove: [String], shared: [(namespace: String, lab: String)]) {
        var remove: [String] = []
        var shared: [(namespace: String, lab: String)] = []
        for ns in own.namespaces.reversed() {
            if let other = owner(of: ns, among: others) {
                shared.append((ns, other))
            } else {
                remove.append(ns)
            }
        }
        return (remove, shared)
    }
}
