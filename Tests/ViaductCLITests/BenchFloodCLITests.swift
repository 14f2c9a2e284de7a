import Testing

/// `viaduct bench flood` refuses, before opening any socket, every address outside the
/// documentation ranges and every unbounded load.
@Suite("viaduct bench flood bounds")
struct BenchFloodCLITests {
    let cli = CLITests()

    @Test(arguments: [
        (["--target", "8.8.8.8", "--source", "203.0.113.0/24"], "not in 192.0.2.0/24, 198.51.100.0/24 or 203.0.113.0/24"),
        (["--target", "192.0.2.1", "--source", "10.0.0.0/24"], "not in 192.0.2.0/24, 198.51.100.0/24 or 203.0.113.0/24"),
        (["--target", "192.0.2.1", "--source", "203.0.0.0/8"], "prefix of /16 or longer"),
        (["--target", "192.0.2.1", "--source", "203.0.113.0/24", "--rate", "1000000"], "outside 0 < rate <= 50000/s"),
        (["--target", "192.0.2.1", "--source", "203.0.113.0/24", "--seconds", "3600"], "outside 0 < seconds <= 600"),
        (["--target", "2001:db8::1", "--source", "203.0.113.0/24"], "must be an IPv4 address"),
    ])
    func refused(_ args: [String], _ message: String) throws {
        let r = try cli.viaduct(["bench", "flood"] + args)
        #expect(r.status == 1)
        #expect(r.stderr.contains(message), "stderr: \(r.stderr)")
    }
}
