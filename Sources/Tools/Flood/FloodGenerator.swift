import CryptoCore
import Daemon
import Glibc
import IKEv2

/// Sends well-formed IKE_SA_INIT requests with fresh SPIs and nonces from many (spoofed) source
/// addresses at a bounded rate for a bounded time: the load behind the DoS scenario
/// (`viaduct bench flood`). Every bound is checked before the first packet leaves; addresses
/// must lie in the documentation ranges (RFC 5737), so a mistyped target cannot hit a real host.
public struct FloodGenerator {
    public struct Plan: Sendable {
        public var target: IKEEndpoint
        /// Source addresses picked uniformly.
        public var sources: [[UInt8]]
        /// Addresses of a real peer to impersonate, and the share of packets that do.
        public var impersonated: [[UInt8]]
        public var impersonatedShare: Double
        public var packetsPerSecond: Double
        public var seconds: Double
        public var seed: UInt64

        public init(target: IKEEndpoint, sources: [[UInt8]], impersonated: [[UInt8]] = [], impersonatedShare: Double = 0,
                    packetsPerSecond: Double, seconds: Double, seed: UInt64) {
            self.target = target
            self.sources = sources
            self.impersonated = impersonated
            self.impersonatedShare = impersonatedShare
            self.packetsPerSecond = packetsPerSecond
            self.seconds = seconds
            self.seed = seed
        }
    }

    public struct Report: Sendable {
        public var sent: UInt64 = 0
        public var impersonating: UInt64 = 0
        public var sendErrors: UInt64 = 0
        public var seconds: Double = 0
        public var perSecond: Double { seconds > 0 ? Double(sent) / seconds : 0 }
    }

    /// The largest rate and duration accepted: a test load, not a weapon.
    public static let maxPacketsPerSecond = 50_000.0
    public static let maxSeconds = 600.0

    /// RFC 5737 TEST-NET-1/2/3: the only addresses the generator sends from or to.
    public static func isDocumentationAddress(_ a: [UInt8]) -> Bool {
        a.count == 4 && ((a[0] == 192 && a[1] == 0 && a[2] == 2) || (a[0] == 198 && a[1] == 51 && a[2] == 100)
            || (a[0] == 203 && a[1] == 0 && a[2] == 113))
    }

    public let plan: Plan
    private var template: FloodRequestTemplate

    public init(plan: Plan, proposal: IKEAlgorithmSet) throws(DaemonError) {
        guard plan.packetsPerSecond > 0, plan.packetsPerSecond <= Self.maxPacketsPerSecond else {
            throw DaemonError(.configuration, "flood rate \(plan.packetsPerSecond)/s is outside 0 < rate <= \(Int(Self.maxPacketsPerSecond))/s")
        }
        guard plan.seconds > 0, plan.seconds <= Self.maxSeconds else {
            throw DaemonError(.configuration, "flood duration \(plan.seconds) s is outside 0 < seconds <= \(Int(Self.maxSeconds))")
        }
        guard !plan.sources.isEmpty || !plan.impersonated.isEmpty else {
            throw DaemonError(.configuration, "the flood needs at least one source address")
        }
        for a in [plan.target.address] + plan.sources + plan.impersonated where !Self.isDocumentationAddress(a) {
            throw DaemonError(.configuration, "\(IKEEndpoint(address: a, port: 0).description.dropLast(2)) is not in 192.0.2.0/24, 198.51.100.0/24 or 203.0.113.0/24: the flood only uses documentation addresses")
        }
        self.plan = plan
        template = try FloodRequestTemplate(proposal: proposal)
    }

    /// Sends until the duration is over, pacing by `clock` in 1 ms steps.
    public mutating func run(sender: RawIPv4Sender, clock: any MonotonicClock) -> Report {
        var random = SeededRandomSource(seed: plan.seed)
        var report = Report()
        let start = clock.now()
        while true {
            let elapsed = clock.now().seconds(since: start)
            if elapsed >= plan.seconds { break }
            let due = UInt64(elapsed * plan.packetsPerSecond)
            while report.sent + report.sendErrors < due {
                let impersonate = !plan.impersonated.isEmpty
                    && (plan.sources.isEmpty || Double(random.next() >> 11) / Double(1 << 53) < plan.impersonatedShare)
                let pool = impersonate ? plan.impersonated : plan.sources
                let source = pool[Int(random.next() % UInt64(pool.count))]
                let bytes = template.next(random: &random)
                do {
                    try sender.send(bytes, from: IKEEndpoint(address: source, port: 500), to: plan.target)
                    report.sent += 1
                    if impersonate { report.impersonating += 1 }
                } catch {
                    report.sendErrors += 1
                }
            }
            usleep(1000)
        }
        report.seconds = clock.now().seconds(since: start)
        return report
    }
}
