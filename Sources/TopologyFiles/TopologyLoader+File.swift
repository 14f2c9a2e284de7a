import Foundation
import Topology

/// The file half of `TopologyLoader`, in the I/O shell: the pure `Topology` target reads no files,
/// so the checks that need the file system (missing, a directory, unreadable) live here and the
/// bytes go to `TopologyLoader.load(contents:file:)`.
extension TopologyLoader {
    public static func load(file: String) -> LoadedTopology {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDir) else {
            return unreadable(file: file, "no such file")
        }
        if isDir.boolValue { return unreadable(file: file, "is a directory, not a topology file") }
        guard let data = FileManager.default.contents(atPath: file) else { return unreadable(file: file, "cannot read the file (permissions?)") }
        return load(contents: data, file: file)
    }
}
