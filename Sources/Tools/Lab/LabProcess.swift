import Daemon
import System
/// Long-running processes `viaduct lab` starts (the daemons, BIRD).
public enum LabProcess {
    /// Starts `argv` in a session of its own, stdin from /dev/null, stdout and stderr appended
    /// to `log`, with no descriptor of this process but those three (`Syscall.spawnDetached`).
    public static func spawn(_ argv: [String], log: String) throws(LabError) -> Int32 {
        switch Syscall.spawnDetached(argv, log: log) {
        case .success(let pid): return pid
        case .failure(let e): throw LabError(.environment, "cannot start \(argv.first ?? "(nothing)"): \(e)")
        }
    }
}
