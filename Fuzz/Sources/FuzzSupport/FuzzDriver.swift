// The libFuzzer entry. SwiftPM links an executable with `--defsym main=<Module>_main`, so each
// target defines `<Module>_main` (with `@_cdecl`) and hands its input function to libFuzzer's
// driver here; `-sanitize=fuzzer` links libFuzzer without its own `main`'s object being needed.

@_silgen_name("LLVMFuzzerRunDriver")
private func llvmFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

public enum FuzzDriver {
    /// Runs libFuzzer with the process arguments; `body` gets each input. With
    /// `VIADUCT_FUZZ_WRITE_SEEDS=DIR` (`SeedFiles.requestedDirectory`) a target that builds its
    /// seeds (`writeSeeds`) writes them there instead and exits.
    public static func run(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
                           _ body: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt,
                           writeSeeds: ((String) -> Void)? = nil) -> CInt {
        if let writeSeeds, let directory = SeedFiles.requestedDirectory {
            writeSeeds(directory)
            return 0
        }
        var count = argc
        var vector = argv
        return llvmFuzzerRunDriver(&count, &vector, body)
    }

    /// The input as an array (libFuzzer passes nil for the empty input).
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        guard let data, size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// A broken invariant: a crash libFuzzer records (never reached on bad input alone).
    public static func invariant(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { fatalError("fuzz invariant: \(message())") }
    }
}
