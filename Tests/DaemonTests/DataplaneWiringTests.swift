import CryptoCore
@testable import Daemon
import Foundation
import Glibc
import IKEv2
import KernelDataplane
import Logging
import NetTypes
import TestSupport
import Testing
import Topology

/// The daemon's data-plane wiring without root: which tunnels are down, which backend a plan
/// selects, the inbox IKE comes back through, and Child SAs of a dead IKE SA.
struct DataplaneWiringTests {
    // MARK: TunnelLinkStates

    @Test func tunnelIsDownUntilItsFirstChildSAAndAfterItsLast() {
        var links = TunnelLinkStates(interfaces: ["dc2": "vd-dc2", "dc3": "vd-dc3"])
        #expect(links.down == ["vd-dc2", "vd-dc3"])
        let cameUp = links.installed(TunnelID(peer: "dc2"), inboundSPI: 0xC000_0001)
        #expect(cameUp)
        #expect(links.down == ["vd-dc3"])
        // A rekey installs a second SA: no change to report.
        let rekeyChanged = links.installed(TunnelID(peer: "dc2"), inboundSPI: 0xC000_0002)
        #expect(!rekeyChanged)
        let oldGoneChanged = links.deleted(TunnelID(peer: "dc2"), inboundSPI: 0xC000_0001)
        #expect(!oldGoneChanged)
        #expect(links.down == ["vd-dc3"])
        let wentDown = links.deleted(TunnelID(peer: "dc2"), inboundSPI: 0xC000_0002)
        #expect(wentDown)
        #expect(links.down == ["vd-dc2", "vd-dc3"])
    }

    @Test func unknownPeersAndSPIsChangeNothing() {
        var links = TunnelLinkStates(interfaces: ["dc2": "vd-dc2"])
        let strangerUp = links.installed(TunnelID(peer: "nobody"), inboundSPI: 1)
        #expect(!strangerUp)
        let unknownSPI = links.deleted(TunnelID(peer: "dc2"), inboundSPI: 7)
        #expect(!unknownSPI)
        let strangerDown = links.deleted(TunnelID(peer: "nobody"), inboundSPI: 1)
        #expect(!strangerDown)
        #expect(links.down == ["vd-dc2"])
        #expect(links.spis(of: TunnelID(peer: "dc2")).isEmpty)
    }

    // MARK: IKEInbox

    @Test func inboxDeliversInOrderAndWakesThePoller() throws {
        let inbox = try IKEInbox()
        #expect(!Self.readable(inbox.descriptor))
        let a = IKEEndpoint(address: gwA, port: 4500), b = IKEEndpoint(address: gwB, port: 4500)
        let posted = (0..<5).map { IKEDatagram(bytes: [UInt8($0)], source: b, destination: a) }
        let poster = Thread { for d in posted { inbox.post(d) } }
        poster.start()
        var got: [IKEDatagram] = []
        for _ in 0..<200 where got.count < posted.count {
            if Self.readable(inbox.descriptor, waitMilliseconds: 10) { got += inbox.take() }
        }
        #expect(got.map(\.bytes) == posted.map(\.bytes))
        #expect(!Self.readable(inbox.descriptor))
    }

    @Test func inboxDropsBeyondCapacityAndCounts() throws {
        let inbox = try IKEInbox(capacity: 3)
        let e = IKEEndpoint(address: gwA, port: 4500)
        for i in 0..<5 { inbox.post(IKEDatagram(bytes: [UInt8(i)], source: e, destination: e)) }
        #expect(inbox.take().map(\.bytes) == [[0], [1], [2]])
        #expect(inbox.droppedCount == 2)
    }

    static func readable(_ fd: Int32, waitMilliseconds: Int32 = 0) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, waitMilliseconds) == 1 && p.revents & Int16(POLLIN) != 0
    }

    // MARK: EndpointDriver

    /// An IKE SA that dies without deleting its Child SA (DPD, retransmission timeout) must not
    /// leave it installed: the data plane would keep the tunnel up and its routes in place.
    @Test func childSAsOfAFailedIKESAAreDeleted() throws {
        let factory = FakeFactory()
        let dataplane = RecordingDataplane()
        let core = EndpointDriver(factory: factory, dataplane: dataplane, logger: LogCapture().logger())
        let local = IKEEndpoint(address: gwA, port: 500), remote = IKEEndpoint(address: gwB, port: 500)
        core.add(peer: IKETunnelPeer(tunnel: TunnelID(peer: "b"), addresses: [gwB], local: local, remote: remote, initiator: true))
        let t0 = IKEInstant(nanoseconds: 0)
        core.start(now: t0)
        let session = try #require(factory.made.first)
        session.events = [.childSAReady(Self.childSA(inbound: 0xC000_00A1, outbound: 0xC000_00B1)),
                          .childSAReady(Self.childSA(inbound: 0xC000_00A2, outbound: 0xC000_00B2)),
                          .childSADeleted(inboundSPI: 0xC000_00A1, outboundSPI: 0xC000_00B1),
                          .ikeSAFailed(IKEFailure(.timeout, "no answer"))]
        session.nextDeadline = t0
        core.fireTimers(now: t0.adding(seconds: 1))
        #expect(dataplane.installed == [0xC000_00A1, 0xC000_00A2])
        // 0xC000_00A1 deleted by the engine, 0xC000_00A2 by the daemon when the IKE SA failed; nothing twice.
        #expect(dataplane.deleted == [0xC000_00A1, 0xC000_00A2])
    }

    static func childSA(inbound: UInt32, outbound: UInt32) -> ChildSAParameters {
        let key = [UInt8](repeating: 7, count: 20)
        return ChildSAParameters(inboundSPI: ESPSPI(inbound), outboundSPI: ESPSPI(outbound), encryption: .aesGCM16(keyBits: 128),
                                 integrity: nil, extendedSequenceNumbers: false,
                                 inboundEncryptionKey: SecureBytes(key), outboundEncryptionKey: SecureBytes(key),
                                 inboundIntegrityKey: nil, outboundIntegrityKey: nil,
                                 local: IKEEndpoint(address: gwA, port: 4500), peer: IKEEndpoint(address: gwB, port: 4500),
                                 udpEncapsulation: true, lifetimeSeconds: 3600)
    }
}

/// `dataplane: auto` from what the kernel has loaded or built in (a fake file system).
struct KernelESPProbeTests {
    static func probe(loaded: Set<String>, builtin: [String] = []) -> KernelESPProbe {
        KernelESPProbe(release: "6.1.0-test", exists: { path in
            loaded.contains { path == "/sys/module/\($0)" }
        }, read: { path in
            path == "/lib/modules/6.1.0-test/modules.builtin" ? builtin.map { "kernel/net/\($0).ko" }.joined(separator: "\n") : nil
        })
    }

    @Test func autoPicksUserspaceWithoutKernelESP() throws {
        let p = Self.probe(loaded: ["tun", "xfrm_interface"])
        #expect(p.missing(for: [.xfrm]) == ["esp4"])
        #expect(try DataplaneSelection.choose(.auto, interfaceKinds: [.xfrm], probe: p) == .userspace)
    }

    @Test func autoPicksKernelWhenESPAndTheInterfaceKindArePresent() throws {
        let loaded = Self.probe(loaded: ["esp4", "xfrm_interface"])
        #expect(try DataplaneSelection.choose(.auto, interfaceKinds: [.xfrm], probe: loaded) == .kernel)
        let builtin = Self.probe(loaded: ["ip_vti"], builtin: ["ipv4/esp4"])
        #expect(try DataplaneSelection.choose(.auto, interfaceKinds: [.vti], probe: builtin) == .kernel)
        // VTI tunnels need ip_vti, not xfrm_interface.
        let wrongKind = Self.probe(loaded: ["esp4", "xfrm_interface"])
        #expect(wrongKind.missing(for: [.vti]) == ["ip_vti"])
        #expect(try DataplaneSelection.choose(.auto, interfaceKinds: [.vti], probe: wrongKind) == .userspace)
    }

    @Test func explicitChoicesIgnoreTheProbe() throws {
        let full = Self.probe(loaded: ["esp4", "xfrm_interface", "ip_vti"])
        #expect(try DataplaneSelection.choose(.userspace, probe: full) == .userspace)
        #expect(try DataplaneSelection.choose(.kernel, probe: Self.probe(loaded: [])) == .kernel)
    }
}
