import Foundation
import Glibc
import IKEv2
import Logging
import System
import Topology

/// Re-reads the node's credentials when their files change on disk: watches the directories
/// of the certificate, key, CA, CRL and pre-shared key files (`FileWatch`, inotify through System), waits for
/// the burst of changes to settle (`ReloadDebounce`) and then calls `reload` on the loop's
/// thread, like every other input. `PlanApplier.reloadCredentials` does the rest: it takes the
/// new files if they are usable and keeps the old ones otherwise.
public final class CredentialFileWatcher: EventLoopSource {
    private let watch: FileWatch
    private var files: Set<String> = []
    private var debounce: ReloadDebounce
    private let logger: Logger
    private let reload: (IKEInstant) -> Void

    public init(plan: NodePlan, debounce: ReloadDebounce = ReloadDebounce(), logger: Logger,
                reload: @escaping (IKEInstant) -> Void) throws(DaemonError) {
        do { watch = try FileWatch() } catch {
            throw DaemonError(.system, "inotify_init1 failed: \(error)", errno: error)
        }
        self.debounce = debounce
        self.logger = logger
        self.reload = reload
        follow(plan)
    }

    /// The credential files of `plan`, as absolute paths (relative ones as the daemon sees them):
    /// certificate, key, CAs, CRLs and the pre-shared key files of `auth: psk` tunnels.
    public static func files(of plan: NodePlan) -> [String] {
        let keys = plan.tunnels.compactMap { t -> String? in
            if case .psk(let path) = t.ike.auth { path } else { nil }
        }
        return [plan.certificate, plan.key] + plan.caCertificates + plan.crls + keys
    }

    /// Watches the files of `plan` (after an apply that may name others).
    public func follow(_ plan: NodePlan) {
        let next = Set(Self.files(of: plan).map(Self.normalized))
        guard next != files else { return }
        files = next
        watch.unwatchAll()
        for dir in Set(files.map(Self.directory)).sorted() {
            if case .failure(let e) = watch.watch(directory: dir) {
                logger.warning("cannot watch credential directory: changes there need 'systemctl reload' or 'viaduct apply'",
                               metadata: ["directory": "\(dir)", "reason": "\(e)"])
            }
        }
    }

    /// Whether a change of `path` concerns the credentials.
    func concerns(_ path: String) -> Bool { files.contains(path) }

    public func pollDescriptors() -> [pollfd] { [pollfd(fd: watch.descriptor, events: Int16(POLLIN), revents: 0)] }

    public var nextDeadline: IKEInstant? { debounce.deadline }

    public func handle(_ ready: ArraySlice<pollfd>, now: IKEInstant) {
        // Drained at every call, ready or not: a nonblocking read of an empty queue costs one
        // syscall, and a change is never noted late because a wake-up was for something else.
        let changed = watch.drain().filter(concerns)
        if !changed.isEmpty {
            logger.debug("credential files changed", metadata: ["files": "\(changed.sorted().joined(separator: ","))"])
            debounce.noteChange(at: now)
        }
        if debounce.fire(at: now) { reload(now) }
    }

    public func close() {}

    static func normalized(_ path: String) -> String {
        let path = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var parts: [Substring] = []
        for p in path.split(separator: "/", omittingEmptySubsequences: true) {
            if p == "." { continue }
            if p == "..", !parts.isEmpty { parts.removeLast(); continue }
            parts.append(p)
        }
        return "/" + parts.joined(separator: "/")
    }

    static func directory(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "/" }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
