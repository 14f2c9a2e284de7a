import CryptoCore
@testable import Daemon
import DataplaneContract
import IKEv2
import NetTypes
import TestSupport
import Testing
import Topology

/// Issue 15, defect 2: the engine negotiated a Child SA the data plane refused to install
/// (`unsupported-sa`), and `status` still said "1 of 1 tunnel up". A refused Child SA must not
/// count as up anywhere the daemon reports it, and `status` must say the backend's reason.
@Suite struct RefusedChildSAStatusTests {
    @Test func aChildSATheDataPlaneRefusedLeavesTheTunnelDownWithTheBackendsReason() throws {
        let (_, _, plan) = try ControlStatusTests.load()
        let book = ControlStatusTests.book(plan)
        let factory = FakeFactory()
        let dataplane = RecordingDataplane()
        dataplane.refusing = DataplaneError(.unsupportedSA, "cannot install the child SA: unsupported-sa: 3des is not carried here")
        let core = EndpointDriver(factory: factory, dataplane: dataplane, logger: LogCapture().logger())
        let tunnel = TunnelID(peer: "b")
        let peer = try #require(plan.tunnels.first { $0.peer == "b" }.map { IKETunnelPeer(tunnel: $0, ports: .standard) })
        // Wired as NodeControl wires the book, and as NodeSystemd counts tunnels for systemd.
        var systemdUp: Set<ESPSPI> = []
        core.onEvent = { t, event in
            book.record(tunnel: t, event: event, now: .seconds(130), epochSeconds: 0)
            if case .childSAReady(let sa) = event { systemdUp.insert(sa.inboundSPI) }
        }
        core.onChildSARefused = { t, sa, error in
            book.recordRefused(tunnel: t, sa: sa, reason: error.message, epochSeconds: 0)
        }
        core.add(peer: IKETunnelPeer(tunnel: tunnel, addresses: peer.addresses, local: peer.local, remote: peer.remote, initiator: true))
        let t0 = IKEInstant(nanoseconds: 0)
        core.start(now: t0)
        let session = try #require(factory.made.first)
        session.events = [
            .ikeSAEstablished(initiatorSPI: 0x1122, responderSPI: 0x3344, proposal: "aes256-sha256-prfsha256-modp3072",
                              peerIdentity: "b.example", local: peer.local, peer: peer.remote),
            .childSAReady(ControlStatusTests.childSA(0xC1A2_B3C4)),
        ]
        session.nextDeadline = t0
        core.fireTimers(now: t0.adding(seconds: 1))

        #expect(dataplane.calls.first?.hasPrefix("install c1a2b3c4") == true)
        #expect(systemdUp.isEmpty)
        let s = book.snapshot(now: .seconds(140), daemon: IKEEndpointCounters()) { _ in nil }
        let b = try #require(s.tunnels.first { $0.peer == "b" })
        #expect(!b.carriesTraffic)
        #expect(b.childSAs.isEmpty)
        let reason = try #require(b.reason)
        #expect(reason.contains("refused its Child SA c1a2b3c4_i c1a2b3c5_o"))
        #expect(reason.contains("3des is not carried here"))
        // The driver has the engine delete it (RFC 7296 §1.4.1), so the peer stops sending into it.
        #expect(session.childDeletes == [0xC1A2_B3C4])

        // The engine deletes it: the refusal is forgotten, nothing was installed to delete twice.
        session.events = [.childSADeleted(inboundSPI: 0xC1A2_B3C4, outboundSPI: 0xC1A2_B3C5)]
        session.nextDeadline = t0.adding(seconds: 2)
        core.fireTimers(now: t0.adding(seconds: 3))
        let after = try #require(book.snapshot(now: .seconds(150), daemon: IKEEndpointCounters()) { _ in nil }.tunnels.first { $0.peer == "b" })
        #expect(after.reason?.contains("refused") == false)

        // A Child SA the data plane takes counts as up again.
        dataplane.refusing = nil
        session.events = [.childSAReady(ControlStatusTests.childSA(0xC1A2_B3D0))]
        session.nextDeadline = t0.adding(seconds: 4)
        core.fireTimers(now: t0.adding(seconds: 5))
        let up = try #require(book.snapshot(now: .seconds(160), daemon: IKEEndpointCounters()) { _ in nil }.tunnels.first { $0.peer == "b" })
        #expect(up.carriesTraffic)
        #expect(systemdUp == [0xC1A2_B3D0])
        #expect(session.childDeletes == [0xC1A2_B3C4])
    }

    /// A peer that insists on a transform the data plane cannot carry gets NO_PROPOSAL_CHOSEN;
    /// `status` says which transform and which data plane.
    @Test func noProposalChosenSaysWhichTransformTheDataPlaneCannotCarry() throws {
        let plan = try ESPProposalFilterTests.plan(dataplane: "userspace", esp: "aes256-sha256, 3des-sha256")
        let book = ControlStatusTests.book(plan)
        book.uncarriedESP = NodeControl.uncarriedESP(plan: plan, dataplane: .userspace)
        let tunnel = plan.tunnels[0].tunnel
        book.record(tunnel: tunnel, event: .ikeSAFailed(IKEFailure(.noProposalChosen, "peer offered 3des-sha256; we accept aes256-sha256",
                                                                   notify: 14, reportedByPeer: false)),
                    now: .seconds(120), epochSeconds: 0)
        let t = try #require(book.snapshot(now: .seconds(121), daemon: IKEEndpointCounters()) { _ in nil }.tunnels.first)
        let reason = try #require(t.reason)
        #expect(reason.contains("no-proposal-chosen"))
        #expect(reason.contains("not offered or accepted here: the userspace data plane does not carry 3des"), "\(reason)")
        #expect(NodeControl.uncarriedESP(plan: plan, dataplane: .kernel).isEmpty)
    }
}
