import CryptoCore
@testable import Daemon
import Foundation
import IKEv2
import PKI
import Testing
import TestSupport
import Topology

/// Hitless credential rotation: new certificate, key, CA bundle or CRL files are taken by a
/// running daemon (apply, SIGHUP, a change on disk) for its next IKE SAs and reauthentications,
/// established SAs are not touched, and bad new files are refused with the old ones kept.
struct CredentialReloadTests {
    let t0 = IKEInstant(nanoseconds: 1_000_000_000)

    struct Rig {
        let pki: TestPKIFiles
        let plan: NodePlan
        let core: EndpointDriver
        let sessions: FakeFactory
        let applier: PlanApplier
        let capture: LogCapture
        let taken: Box<[[String]]>
        let refused: Box<[DaemonError]>
        var credentials: NodeCredentials? { (core.factory as? any CredentialCarrying)?.credentials }
    }

    final class Box<T> {
        var value: T
        init(_ v: T) { value = v }
    }

    /// The daemon's reload path: load, then refuse what a peer would not accept at `now`
    /// (`viaduct run` does exactly this with the wall clock).
    static func load(_ plan: NodePlan, now: Int64 = TestPKIFiles.now) throws(DaemonError) -> NodeCredentials {
        let c = try NodeCredentials.load(plan: plan)
        try c.checkUsable(at: now)
        return c
    }

    func rig(crl: Bool = false) throws -> Rig {
        let pki = try TestPKIFiles()
        try pki.writeNode(try pki.gateway("hub.example.net"), crl: crl ? try pki.crl() : nil)
        let plan = try pki.plan(crl: crl)
        let sessions = FakeFactory()
        let capture = LogCapture()
        let core = EndpointDriver(factory: CarryingFactory(try Self.load(plan), inner: sessions), dataplane: RecordingDataplane(),
                                  logger: capture.logger(), reinitiateDelaySeconds: 10)
        for t in plan.tunnels { core.add(peer: IKETunnelPeer(tunnel: t)) }
        core.start(now: t0)
        let applier = PlanApplier(plan: plan, core: core, dataplane: RecordingDataplane(), listening: NodeDaemon.localAddresses(plan),
                                  ports: .standard, logger: capture.logger()) { (p: NodePlan) throws(DaemonError) -> any IKESessionFactory in
            CarryingFactory(try Self.load(p), inner: sessions)
        }
        let taken = Box<[[String]]>([]), refused = Box<[DaemonError]>([])
        applier.onCredentialsTaken = { _, changes in taken.value.append(changes) }
        applier.onCredentialsRefused = { refused.value.append($0) }
        return Rig(pki: pki, plan: plan, core: core, sessions: sessions, applier: applier, capture: capture,
                   taken: taken, refused: refused)
    }

    // MARK: viaduct apply

    /// The defect: new credential files under the same paths, the same topology: the diff was
    /// empty, so `viaduct apply` printed "nothing to change" and never sent the apply. The
    /// daemon's diff now names the credential change, so it is not empty and the apply goes on.
    @Test func sameTopologyWithNewCertificateFilesIsAChange() throws {
        let r = try rig()
        let old = try #require(r.credentials)
        let renewed = try r.pki.gateway("hub.example.net", notAfter: TestPKIFiles.now + 730 * TestPKIFiles.day)
        try r.pki.writeNode(renewed)

        let preview = try r.applier.apply(r.plan, dryRun: true, now: t0)
        #expect(!preview.diff.isEmpty)
        #expect(preview.diff.credentials?.count == 1)
        #expect(preview.diff.rendered().contains("credentials: certificate 'CN=hub.example.net,O=Viaduct'"))
        #expect(r.credentials?.certificate == old.certificate, "a dry run changed the credentials")

        let sessionsBefore = r.sessions.made.count
        let outcome = try r.applier.apply(r.plan, now: t0)
        #expect(outcome.applied)
        #expect(r.credentials?.certificate == renewed.0)
        // Established sessions untouched: nothing made, nothing removed.
        #expect(r.sessions.made.count == sessionsBefore)
        #expect(r.sessions.made.allSatisfy { $0.closes.isEmpty })
        #expect(r.taken.value.count == 1)
        #expect(r.capture.text.contains("credentials reloaded"))
    }

    @Test func unchangedFilesAreNothingToChange() throws {
        let r = try rig()
        let preview = try r.applier.apply(r.plan, dryRun: true, now: t0)
        #expect(preview.diff.isEmpty)
        #expect(preview.diff.rendered().contains("0 to add"))
        #expect(r.applier.reloadCredentials(now: t0, cause: "test") == .success([]))
        #expect(r.taken.value.isEmpty)
    }

    /// New sessions after the reload (a reauthentication, a peer's new IKE_SA_INIT) are made by
    /// the factory carrying the new credentials.
    @Test func sessionsAfterTheReloadUseTheNewCredentials() throws {
        let r = try rig()
        let (newCA, newCAKey) = try TestPKIFiles.makeCA("Viaduct Test Root 2")
        try r.pki.writeNode(try r.pki.gateway("hub.example.net", issuer: (newCA, newCAKey)), cas: [r.pki.ca, newCA])
        let changes = try r.applier.reloadCredentials(now: t0, cause: "test").get()
        #expect(changes.contains { $0.hasPrefix("certificate") })
        #expect(changes.contains { $0 == "CA bundle: +'CN=Viaduct Test Root 2,O=Viaduct'" })
        let factory = try #require(r.core.factory as? CarryingFactory)
        #expect(factory.credentials.trustAnchors == [r.pki.ca, newCA])
    }

    @Test func aNewCRLIsTaken() throws {
        let r = try rig(crl: true)
        try r.pki.replace("ca.crl", with: try r.pki.crl(nextUpdate: TestPKIFiles.now + 30 * TestPKIFiles.day, number: 2).derBytes)
        let changes = try r.applier.reloadCredentials(now: t0, cause: "test").get()
        #expect(changes.count == 1)
        #expect(changes.first?.hasPrefix("CRLs: 'CN=Viaduct Test Root,O=Viaduct' #2") == true)
        #expect(r.credentials?.crls.first?.crlNumber == 2)
    }

    // MARK: Refusals keep the credentials in use

    enum BadFiles: String, CaseIterable {
        case unreadable, keyReadableByOthers, keyNotTheCertificates, expired, notYetValid, otherCA, expiredCRL
    }

    @Test(arguments: BadFiles.allCases)
    func badNewFilesAreRefusedAndTheOldOnesStay(_ bad: BadFiles) throws {
        let r = try rig(crl: bad == .expiredCRL)
        let old = try #require(r.credentials)
        let day = TestPKIFiles.day, now = TestPKIFiles.now
        let expected: String
        switch bad {
        case .unreadable:
            try FileManager.default.removeItem(atPath: r.pki.path("hub.pem"))
            expected = "cannot load certificate"
        case .keyReadableByOthers:
            let gw = try r.pki.gateway("hub.example.net")
            try r.pki.writeCertificate("hub.pem", [gw.0])
            try r.pki.writeKey("hub.key", gw.1, mode: 0o644)
            expected = "chmod 600"
        case .keyNotTheCertificates:
            try r.pki.writeCertificate("hub.pem", [try r.pki.gateway("hub.example.net").0])
            expected = "is not the private key of certificate"
        case .expired:
            try r.pki.writeNode(try r.pki.gateway("hub.example.net", notBefore: now - 30 * day, notAfter: now - day))
            expected = "expired at"
        case .notYetValid:
            try r.pki.writeNode(try r.pki.gateway("hub.example.net", notBefore: now + day))
            expected = "is not valid before"
        case .otherCA:
            let other = try TestPKIFiles.makeCA("Someone Else's Root")
            try r.pki.writeNode(try r.pki.gateway("hub.example.net", issuer: other))
            expected = "is not trusted"
        case .expiredCRL:
            try r.pki.replace("ca.crl", with: try PKI.issueCRL(issuer: r.pki.ca, issuerKey: r.pki.caKey, revoked: [], crlNumber: 2,
                                                                thisUpdate: now - 10 * day, nextUpdate: now - day).derBytes)
            expected = "CRL"
        }
        let result = r.applier.reloadCredentials(now: t0, cause: "test")
        guard case .failure(let e) = result else {
            Issue.record("\(bad): accepted")
            return
        }
        #expect(e.code == .credentials)
        #expect(e.message.contains(expected), "\(e.message)")
        #expect(r.credentials?.sameMaterial(as: old) == true)
        #expect(r.refused.value.map(\.message) == [e.message])
        #expect(r.capture.text.contains("credential reload refused: the credentials in use stay"))
        // An apply of the same topology is refused the same way and changes nothing.
        #expect(throws: DaemonError.self) { try r.applier.apply(r.plan, now: t0) }
        #expect(r.credentials?.sameMaterial(as: old) == true)
    }

    /// An unconfirmed apply that rolls back goes back to the credentials it replaced, not to
    /// whatever the files hold by then.
    @Test func rollbackRestoresTheCredentialsInUseBefore() throws {
        let r = try rig()
        let old = try #require(r.credentials)
        try r.pki.writeNode(try r.pki.gateway("hub.example.net"))
        let outcome = try r.applier.apply(r.plan, confirmWithin: 30, now: t0)
        #expect(outcome.rollbackAt != nil)
        #expect(r.credentials?.sameMaterial(as: old) == false)
        #expect(r.applier.rollback(now: t0.adding(seconds: 5)))
        #expect(r.credentials?.sameMaterial(as: old) == true)
    }
}
