import Testing
@testable import Topology

/// `ike.nat-keepalive`, `ike.fragmentation` and `ike.fragment-size`: defaults, overrides per
/// tunnel, and the diagnostics for values out of range.
@Suite("IKE NAT keepalive and fragmentation settings")
struct NATFragmentationSettingsTests {
    func yaml(defaults: String = "", tunnel: String = "") -> String {
        """
        version: 1
        defaults:
          ike: { proposals: [aes256gcm16-prfsha384-ecp384]\(defaults) }
        pki: { ca: ca.pem }
        gateways:
          a: { address: 192.0.2.1, certificate: a.pem, key: a.key, networks: [198.18.1.0/24] }
          b: { address: 198.51.100.1, certificate: b.pem, key: b.key, networks: [198.18.2.0/24] }
        tunnels:
          - between: [a, b]
            inside: 169.254.10.0/30
        \(tunnel)
        """
    }

    @Test("Defaults: keepalive 20 s, fragmentation on with 1280-octet datagrams")
    func defaults() throws {
        let p = try plan(try loadValid(yaml()), "a")
        let ike = try #require(p.tunnels.first?.ike)
        #expect(ike.natKeepalive.seconds == 20)
        #expect(ike.fragmentation && ike.fragmentSize == .fixed(1280))
    }

    @Test("Defaults and per-tunnel overrides are applied")
    func overrides() throws {
        let l = try loadValid(yaml(defaults: ", nat-keepalive: 30s, fragment-size: 576",
                                   tunnel: "    ike: { nat-keepalive: 0s, fragmentation: false }"))
        let ike = try #require(try plan(l, "a").tunnels.first?.ike)
        #expect(ike.natKeepalive.seconds == 0)
        #expect(!ike.fragmentation)
        #expect(ike.fragmentSize == .fixed(576))
    }

    @Test("A fragment size below RFC 7383's 576 octets is an error that names the field")
    func tooSmall() {
        let l = TopologyLoader.load(yaml: yaml(defaults: ", fragment-size: 500"), file: "t.yaml")
        #expect(!l.isValid)
        #expect(l.diagnostics.contains { $0.message.contains("fragment-size") })
    }

    @Test("ike.reauthenticate (RFC 7296 §2.8.3): off by default, on from defaults, off again per tunnel; shown by plan")
    func reauthenticate() throws {
        #expect(try plan(try loadValid(yaml()), "a").tunnels.first?.ike.reauthenticate == false)
        let on = try plan(try loadValid(yaml(defaults: ", reauthenticate: true")), "a")
        #expect(on.tunnels.first?.ike.reauthenticate == true)
        #expect(PlanRenderer.table(on).contains("reauthenticate 30m"))
        let off = try loadValid(yaml(defaults: ", reauthenticate: true", tunnel: "    ike: { reauthenticate: false }"))
        #expect(try plan(off, "a").tunnels.first?.ike.reauthenticate == false)
    }

    @Test("ike.reauthenticate must be a boolean: the error names the field and its position")
    func reauthenticateNotBoolean() {
        let l = TopologyLoader.load(yaml: yaml(defaults: ", reauthenticate: yes-please"), file: "t.yaml")
        #expect(!l.isValid)
        let d = l.diagnostics.first { $0.message.contains("ike.reauthenticate") }
        #expect(d?.message.contains("true or false") == true)
        #expect(d?.location.line == 3)
    }
}
