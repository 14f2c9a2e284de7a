/// Starts a long-running process in a session of its own, with stdio only
/// (`Syscall.spawnDetached`): the door the tools outside the daemon (`viaduct lab`) use, since
/// `Syscall` is the daemon's own.
import System
public enum DetachedProcess {
    public static func spawn(_ argv: [String], log: String) -> Result<Int32, Errno> {
        Syscall.spawnDetached(argv, log: log)
    }
}
