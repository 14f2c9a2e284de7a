import CryptoCore
@testable import Daemon
import IKEv2
import NetTypes
import Testing
import TestSupport
import Topology

/// A pre-shared key file is a credential file: replacing it is seen on disk, is a change for
/// `apply` (even of the same topology) and is taken by the next IKE SAs, like a certificate.
/// Before, the watcher ignored key files and `apply` of the same topology said "nothing to change".
struct PreSharedKeyReloadTests {
    let t0 = IKEInstant(nanoseconds: 1_000_000_000)

    static func factory(_ plan: NodePlan, _ sessions: FakeFactory) throws(DaemonError) -> any IKESessionFactory {
        CarryingFactory(try CredentialReloadTests.load(plan), preSharedKeys: try PreSharedKeys.load(plan: plan), inner: sessions)
    }

    @Test func aReplacedKeyFileIsAChangeTakenByApplyAndReload() throws {
        let pki = try TestPKIFiles()
        try pki.writeNode(try pki.gateway("hub.example.net"))
        try pki.replace("cloud.psk", with: Array("first-key-0123456789abcdefghijklmnop\n".utf8), mode: 0o600)
        let plan = try pki.plan(psk: true)
        #expect(CredentialFileWatcher.files(of: plan).contains(pki.path("cloud.psk")))

        let sessions = FakeFactory(), capture = LogCapture()
        let core = EndpointDriver(factory: try Self.factory(plan, sessions), dataplane: RecordingDataplane(),
                                  logger: capture.logger(), reinitiateDelaySeconds: 10)
        for t in plan.tunnels { core.add(peer: IKETunnelPeer(tunnel: t)) }
        core.start(now: t0)
        let applier = PlanApplier(plan: plan, core: core, dataplane: RecordingDataplane(), listening: NodeDaemon.localAddresses(plan),
                                  ports: .standard, logger: capture.logger()) { (p: NodePlan) throws(DaemonError) -> any IKESessionFactory in
            try Self.factory(p, sessions)
        }
        #expect(try applier.apply(plan, dryRun: true, now: t0).diff.isEmpty)

        let secondKey = "second-key-0123456789abcdefghijklmnop"
        try pki.replace("cloud.psk", with: Array((secondKey + "\n").utf8), mode: 0o600)
        let preview = try applier.apply(plan, dryRun: true, now: t0)
        #expect(preview.diff.credentials == ["pre-shared key of the tunnel to cloud: replaced"])
        #expect(!preview.diff.rendered().contains(secondKey))

        let changes = try applier.reloadCredentials(now: t0, cause: "test").get()
        #expect(changes == ["pre-shared key of the tunnel to cloud: replaced"])
        let carried = try #require(core.factory as? CarryingFactory)
        let key = try #require(carried.preSharedKeys.byTunnel[TunnelID(peer: "cloud")])
        #expect(key.constantTimeEquals(SecureBytes(Array(secondKey.utf8))))
        #expect(!capture.text.contains(secondKey))
        #expect(sessions.made.allSatisfy { $0.closes.isEmpty }, "an SA was touched")
    }
}
