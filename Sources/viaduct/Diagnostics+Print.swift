import Foundation
import Topology
import TopologyFiles

/// Where the commands write: results to stdout, diagnostics to stderr.
enum Output {
    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    static func print(_ diagnostics: [Diagnostic]) {
        guard !diagnostics.isEmpty else { return }
        error(diagnostics.map(\.description).joined(separator: "\n"))
    }

    /// Loads and validates a topology; prints every diagnostic and returns nil when it is invalid.
    static func loadValid(_ file: String) -> LoadedTopology? {
        let loaded = TopologyLoader.load(file: file)
        print(loaded.diagnostics)
        guard loaded.isValid else {
            let n = loaded.errors.count
            error("\(file): \(n) error\(n == 1 ? "" : "s"); nothing was changed")
            return nil
        }
        return loaded
    }
}
