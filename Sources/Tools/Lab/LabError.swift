/// Why `viaduct lab` could not build, inspect or remove a lab, with a stable `code` and a
/// message that names the namespace, command or file concerned.
public struct LabError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Hashable, Sendable {
        /// The topology cannot be turned into a lab (no managed gateway, an address family or
        /// network size the lab does not build).
        case unsupported = "unsupported"
        /// A command (`ip`, `bird`, `viaduct pki`) failed.
        case command = "command"
        /// A daemon exited right after it was started.
        case daemonExited = "daemon-exited"
        /// Not root, or a tool is missing.
        case environment = "environment"
        /// A namespace the lab needs exists and is not this lab's: another lab recorded it, or
        /// none did. Nothing was changed.
        case conflict = "conflict"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
