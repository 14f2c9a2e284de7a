import Foundation
import Testing
@testable import Topology

/// `mtu: auto | N`, `mss-clamp: auto | off | N` and `ike.fragment-size: auto | N`: defaults,
/// overrides, what `plan` and `plan --json` show, and the RFC 8200 check with a fixed MTU only.
@Suite("MTU, MSS clamp and IKE fragment size settings")
struct MTUSettingsTests {
    func yaml(defaults: String = "", tunnel: String = "", inside: String = "169.254.10.0/30") -> String {
        """
        version: 1
        defaults: { ike: { proposals: [aes256gcm16-prfsha384-ecp384] }\(defaults) }
        pki: { ca: ca.pem }
        gateways:
          a: { address: 192.0.2.1, certificate: a.pem, key: a.key, networks: [198.18.1.0/24] }
          b: { address: 198.51.100.1, certificate: b.pem, key: b.key, networks: [198.18.2.0/24] }
        tunnels:
          - between: [a, b]
            inside: \(inside)
        \(tunnel)
        """
    }

    @Test("Defaults: mtu auto, mss-clamp auto, fragment size 1280 as before")
    func defaults() throws {
        let t = try #require(try plan(try loadValid(yaml()), "a").tunnels.first)
        #expect(t.interface.mtu == .auto)
        #expect(t.interface.mtu.initial == TunnelMTU.provisional)
        #expect(t.interface.mssClamp == .auto)
        #expect(t.ike.fragmentSize == .fixed(1280))
    }

    @Test("Numbers and keywords, in defaults and per tunnel")
    func overrides() throws {
        let l = try loadValid(yaml(defaults: ", mtu: 1400, mss-clamp: off",
                                   tunnel: "    mtu: auto\n    mss-clamp: 1300\n    ike: { fragment-size: auto }"))
        let t = try #require(try plan(l, "a").tunnels.first)
        #expect(t.ike.fragmentSize == .auto)
        #expect(t.interface.mtu == .auto)
        #expect(t.interface.mssClamp == .fixed(1300))
        let d = try #require(try plan(try loadValid(yaml(defaults: ", mtu: 1380, mss-clamp: off")), "b").tunnels.first)
        #expect(d.interface.mtu == .fixed(1380))
        #expect(d.interface.mssClamp == .off)
    }

    @Test("plan shows auto or the number, in the table and in JSON")
    func planShowsIt() throws {
        let auto = try plan(try loadValid(yaml()), "a")
        #expect(PlanRenderer.table(auto).contains(" auto "))
        let json = PlanRenderer.json(auto)
        #expect(json.contains(#""mtu" : "auto""#))
        #expect(json.contains(#""mss_clamp" : "auto""#))
        let fixed = try plan(try loadValid(yaml(defaults: ", mtu: 1380, mss-clamp: off")), "a")
        #expect(PlanRenderer.table(fixed).contains(" 1380 "))
        #expect(PlanRenderer.json(fixed).contains(#""mtu" : 1380"#))
        #expect(PlanRenderer.json(fixed).contains(#""mss_clamp" : "off""#))
    }

    @Test("IPv6 inside: a fixed MTU below 1280 is an error, auto is checked at run time")
    func ipv6Minimum() throws {
        let bad = TopologyLoader.load(yaml: yaml(defaults: ", mtu: 1200", inside: "2001:db8:10::/126"), file: "t.yaml")
        #expect(bad.diagnostics.map(\.message).contains { $0.contains("needs an MTU of at least 1280") })
        _ = try loadValid(yaml(inside: "2001:db8:10::/126"))
    }

    @Test("Bad values are errors that name the field, its place and what is accepted")
    func badValues() {
        let l = TopologyLoader.load(yaml: yaml(defaults: ", mtu: big, mss-clamp: 99999"), file: "t.yaml")
        let text = l.diagnostics.map(\.description)
        #expect(text.contains { $0.hasPrefix("t.yaml:2:") && $0.contains("defaults.mtu must be 'auto' or a whole number between 576 and 9000, found 'big'") })
        #expect(text.contains { $0.hasPrefix("t.yaml:2:") && $0.contains("defaults.mss-clamp must be 'auto', 'off' or between 536 and 8960, found 99999") })
    }
}
