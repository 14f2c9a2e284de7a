import ArgumentParser

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure Viaduct's own speed and print the figures.",
        discussion: """
            Benchmarks print what they measured; none of them asserts a time. Run them on an idle \
            machine and compare runs on the same machine.
            """,
        subcommands: [BenchPlan.self, BenchCrypto.self, BenchSignatures.self, BenchESP.self, BenchHandshake.self, BenchDataplane.self, BenchApply.self, BenchFlood.self, BenchAdmission.self])
}
