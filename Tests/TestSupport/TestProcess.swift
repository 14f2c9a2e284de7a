import Foundation

/// Runs external tools (ip, openssl, strongSwan's pki, the viaduct binary...) to completion.
public enum TestProcess {
    /// The first of `directories` holding an executable `name`; nil when it is not installed.
    public static func find(_ name: String,
                            in directories: [String] = ["/usr/bin", "/usr/local/bin", "/bin", "/usr/sbin"]) -> String? {
        directories.map { "\($0)/\(name)" }.first(where: FileManager.default.isExecutableFile(atPath:))
    }

    /// Runs `path` with `arguments`, standard input from /dev/null (a tool never waits on the test
    /// runner's input); its exit status and combined stdout and stderr.
    @discardableResult
    public static func run(_ path: String, _ arguments: [String],
                           environment: [String: String]? = nil) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        if let environment { p.environment = environment }
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Runs `executable` with `arguments` (in `directory` when given); its exit status, stdout and
    /// stderr apart.
    public static func runSeparating(_ executable: URL, _ arguments: [String], in directory: URL? = nil) throws
        -> (status: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = executable
        p.arguments = arguments
        if let directory { p.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}
