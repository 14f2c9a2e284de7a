import Foundation

/// Targets whose seeds come from running the engines themselves write them when started with
/// VIADUCT_FUZZ_WRITE_SEEDS=DIR (Scripts/fuzz --write-seeds), instead of fuzzing.
public enum SeedFiles {
    public static var requestedDirectory: String? { ProcessInfo.processInfo.environment["VIADUCT_FUZZ_WRITE_SEEDS"] }

    public static func write(_ seeds: [(name: String, bytes: [UInt8])], to directory: String) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for (name, bytes) in seeds {
                try Data(bytes).write(to: URL(fileURLWithPath: directory).appendingPathComponent(name))
            }
            print("wrote \(seeds.count) seeds to \(directory)")
        } catch {
            print("cannot write seeds to \(directory): \(error)")
        }
    }
}
