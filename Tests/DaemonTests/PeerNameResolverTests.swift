@testable import Daemon
import Glibc
import IKEv2
import Logging
import NetTypes
import Synchronization
import System
import TestSupport
import Testing
import Topology

/// Peers known by name are looked up off the event loop (PeerNameResolver.swift,
/// NameLookupPool.swift): a lookup that hangs holds its own peer, never the others.
@Suite struct PeerNameResolverTests {
    /// The resolver the tests control: a lookup blocks its worker until the test opens the gate
    /// (one byte per answer), and answers east.example.net with 192.0.2.50. A lookup asked on
    /// the test's own thread (the event loop) is refused at once and recorded, so a resolver
    /// that blocked the loop fails the test instead of hanging it.
    final class Gate: Sendable {
        let reader: FileDescriptor
        let writer: FileDescriptor
        let loopThread = pthread_self()
        let calls = Mutex<[(name: String, onLoop: Bool)]>([])
        /// What east.example.net resolves to.
        let east = Mutex<[UInt8]>([192, 0, 2, 50])

        init() throws {
            (reader, writer) = try FileDescriptor.socketPair(AF_UNIX, Int32(SOCK_STREAM.rawValue))
        }

        func resolve(_ name: String, _ ipv6: Bool) -> Result<[[UInt8]], NameResolution.Failure> {
            let onLoop = pthread_equal(pthread_self(), loopThread) != 0
            calls.withLock { $0.append((name, onLoop)) }
            if onLoop { return .failure(NameResolution.Failure(description: "looked up on the event loop's thread")) }
            var one: UInt8 = 0
            _ = withUnsafeMutableBytes(of: &one) { reader.read(into: $0) }
            return name == "east.example.net" && !ipv6
                ? .success([east.withLock { $0 }])
                : .failure(NameResolution.Failure(description: "cannot resolve \(name): Name or service not known"))
        }

        /// Lets one blocked lookup answer.
        func open() {
            var one: UInt8 = 1
            _ = withUnsafeBytes(of: &one) { writer.write($0) }
        }

        var names: [String] { calls.withLock { $0.map(\.name) } }
        var onLoop: Bool { calls.withLock { $0.contains { $0.onLoop } } }
    }

    /// Makes FakeSessions like the engine's factory makes sessions: an initiator to a named
    /// peer goes where the resolver says, or waits for it.
    final class ResolvingFactory: IKESessionFactory {
        let fake = FakeFactory()
        let tunnels: [TunnelID: TunnelPlan]
        let names: PeerNameResolver

        init(plan: NodePlan, names: PeerNameResolver) {
            tunnels = Dictionary(uniqueKeysWithValues: plan.tunnels.map { ($0.tunnel, $0) })
            self.names = names
        }

        func makeSession(for peer: IKETunnelPeer, initiator: Bool) throws(IKESessionFactoryError) -> any IKESessionDriving {
            var peer = peer
            if initiator, let t = tunnels[peer.tunnel], let at = try names.endpoint(for: t) {
                peer.remote = IKEEndpoint(address: at.bytes, port: peer.remote.port)
            }
            return try fake.makeSession(for: peer, initiator: initiator)
        }
    }

    static func plan() throws -> NodePlan { try PeerNamesTests.plan() }

    /// Blocks until the pool has an answer (no time limit: the gate was opened), then hands it
    /// to the resolver as the event loop does.
    static func deliver(_ resolver: PeerNameResolver, now: IKEInstant) {
        var fds = resolver.pollDescriptors()
        _ = fds.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), -1) }
        resolver.handle(fds[...], now: now)
    }

    /// A driver over the two-peer plan whose name lookups go through `gate` on `workers` threads,
    /// answers handed back as the daemon's loop does.
    static func harness(workers: Int) throws -> (plan: NodePlan, gate: Gate, resolver: PeerNameResolver,
                                                 factory: ResolvingFactory, driver: EndpointDriver) {
        let plan = try Self.plan()
        let gate = try Gate()
        let resolver = PeerNameResolver(pool: try NameLookupPool(workers: workers, resolve: gate.resolve))
        resolver.configure(plan)
        let factory = ResolvingFactory(plan: plan, names: resolver)
        let driver = EndpointDriver(factory: factory, dataplane: RecordingDataplane(), logger: Logger(label: "test"))
        for t in plan.tunnels { driver.add(peer: IKETunnelPeer(tunnel: t)) }
        resolver.onAnswer = { tunnel, answer, waited, now in
            PeerNameResolver.perform(answer, tunnel: tunnel, waited: waited, now: now, ports: .standard, core: driver,
                                     logger: Logger(label: "test"))
        }
        return (plan, gate, resolver, factory, driver)
    }

    @Test func aHangingLookupHoldsOnlyItsPeer() throws {
        let (plan, gate, resolver, factory, driver) = try Self.harness(workers: 2)
        let t0 = IKEInstant(nanoseconds: 0)
        let east = TunnelID(peer: "east"), dc = TunnelID(peer: "dc")

        driver.start(now: t0)
        // dc (a fixed address) opened its IKE SA; east waits for its name, which a worker looks up.
        let dcSession = try #require(factory.fake.made.first { $0.peer.address == [198, 51, 100, 9] })
        #expect(factory.fake.made.count == 1)
        #expect(driver.takeOutgoing().map(\.destination.address) == [[198, 51, 100, 9]])
        #expect(resolver.status(of: east) == .resolving("east.example.net"))
        #expect(resolver.status(of: dc) == nil)

        // While that lookup hangs, dc's IKE goes on: its answer reaches its session.
        let answer = IKEDatagram(bytes: ikeMessage(spiI: dcSession.spi, spiR: 0x99, initiator: false, response: true),
                                 source: IKEEndpoint(address: [198, 51, 100, 9], port: 500), destination: dcSession.local)
        driver.handle(.ike(answer), now: t0.adding(seconds: 1))
        #expect(dcSession.received.count == 1)
        // east's retry timer fires before the answer: still one lookup of the name in flight.
        driver.fireTimers(now: t0.adding(seconds: 31))
        #expect(factory.fake.made.count == 1)

        // The answer comes in as an event: east moves there and opens its IKE SA at once.
        gate.open()
        Self.deliver(resolver, now: t0.adding(seconds: 32))
        // One lookup for the two attempts, on a worker.
        #expect(gate.names == ["east.example.net"])
        #expect(!gate.onLoop)
        let eastSession = try #require(factory.fake.made.last)
        #expect(factory.fake.made.count == 2)
        #expect(eastSession.peer == IKEEndpoint(address: [192, 0, 2, 50], port: 500))
        #expect(eastSession.started == [t0.adding(seconds: 32)])
        #expect(driver.peers.first { $0.tunnel == east }?.remote == IKEEndpoint(address: [192, 0, 2, 50], port: 500))
        #expect(resolver.status(of: east) == .resolved("east.example.net", IPAddress("192.0.2.50")!))

        // The next IKE SA looks the name up again (one answer serves one IKE SA).
        driver.removeRunning(east, now: t0.adding(seconds: 40))
        driver.addRunning(peer: IKETunnelPeer(tunnel: try #require(plan.tunnels.first { $0.tunnel == east })), now: t0.adding(seconds: 41))
        #expect(factory.fake.made.count == 2)
        #expect(resolver.status(of: east) == .resolving("east.example.net"))
        gate.open()
        Self.deliver(resolver, now: t0.adding(seconds: 42))
        #expect(gate.names == ["east.example.net", "east.example.net"])
        #expect(factory.fake.made.count == 3)
        #expect(!gate.onLoop)
    }

    @Test func anApplyThatFindsTheNameElsewhereRebuildsTheTunnelThere() throws {
        let (plan, gate, resolver, factory, driver) = try Self.harness(workers: 1)
        let t0 = IKEInstant(nanoseconds: 0)
        driver.start(now: t0)
        gate.open()
        Self.deliver(resolver, now: t0)
        let first = try #require(factory.fake.made.last)
        #expect(first.peer.address == [192, 0, 2, 50])

        // The name now points elsewhere; an apply looks it up again (nothing waits for it).
        gate.east.withLock { $0 = [192, 0, 2, 77] }
        resolver.configure(plan)
        resolver.refresh()
        gate.open()
        Self.deliver(resolver, now: t0.adding(seconds: 5))
        // The old IKE SA is deleted; the new one waits for its own lookup, then goes there.
        #expect(first.closes == [t0.adding(seconds: 5)])
        #expect(resolver.status(of: TunnelID(peer: "east")) == .resolving("east.example.net"))
        gate.open()
        Self.deliver(resolver, now: t0.adding(seconds: 6))
        let moved = try #require(factory.fake.made.last)
        #expect(moved.peer == IKEEndpoint(address: [192, 0, 2, 77], port: 500))
        #expect(moved.started == [t0.adding(seconds: 6)])
        #expect(gate.names.count == 3)
    }

    @Test func anAnswerForANameNoLongerConfiguredIsDropped() throws {
        let plan = try Self.plan()
        let gate = try Gate()
        let resolver = PeerNameResolver(pool: try NameLookupPool(workers: 1, resolve: gate.resolve))
        resolver.configure(plan)
        var answered: [TunnelID] = []
        resolver.onAnswer = { tunnel, _, _, _ in answered.append(tunnel) }
        let east = try #require(plan.tunnels.first { $0.peer == "east" })
        #expect(throws: IKESessionFactoryError("resolving east.example.net", waiting: true)) { try resolver.endpoint(for: east) }

        // An apply removes east while its lookup is in flight.
        var without = plan
        without.tunnels.removeAll { $0.peer == "east" }
        resolver.configure(without)
        gate.open()
        Self.deliver(resolver, now: IKEInstant(nanoseconds: 0))
        #expect(answered.isEmpty)
        #expect(resolver.droppedAnswers == 1)
        #expect(resolver.status(of: east.tunnel) == nil)
    }

    @Test func aFailedLookupFailsTheIKESAItWasFor() throws {
        let plan = try Self.plan()
        let gate = try Gate()
        let resolver = PeerNameResolver(pool: try NameLookupPool(workers: 1, resolve: gate.resolve))
        resolver.configure(plan)
        var waited: [Bool] = []
        resolver.onAnswer = { _, _, w, _ in waited.append(w) }
        var east = try #require(plan.tunnels.first { $0.peer == "east" })
        east.ike.peerUnderlay = .name("gone.example.net")
        #expect(throws: IKESessionFactoryError("resolving gone.example.net", waiting: true)) { try resolver.endpoint(for: east) }
        gate.open()
        Self.deliver(resolver, now: IKEInstant(nanoseconds: 0))
        #expect(waited == [true])
        #expect(resolver.status(of: east.tunnel) == .failed("gone.example.net", reason: "cannot resolve gone.example.net: Name or service not known"))
        // The resumed IKE SA takes the failure (logged and reported, retried after the pause).
        #expect(throws: IKESessionFactoryError("cannot resolve gone.example.net: Name or service not known")) { try resolver.endpoint(for: east) }
    }
}
