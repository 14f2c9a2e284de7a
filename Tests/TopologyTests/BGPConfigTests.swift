import Testing
@testable import Topology

@Suite("viaduct bgp: BIRD and FRR neighbor configuration")
struct BGPConfigTests {
    @Test("one BIRD session per BGP tunnel, on the inside addresses, with the topology's ASNs and filters")
    func birdMesh() throws {
        let p = try plan(try loadValid(readRepoFile("Topologies/mesh-three-dc.yaml")), "dc2")
        let text = BGPConfigRenderer.render(p, format: .bird, source: "mesh.yaml")
        #expect(text.components(separatedBy: "protocol bgp ").count - 1 == 2)
        #expect(text.contains("local 169.254.100.2 as 65002;\n    neighbor 169.254.100.1 as 65001;\n    interface \"vd-dc1\";"))
        #expect(text.contains("import filter { if net ~ [ 198.18.1.0/24+ ] then accept; reject; };"))
        // dc2 announces its own network and dc3's to dc1, never dc1's own back to it.
        #expect(text.contains("export filter { if net ~ [ 198.18.2.0/24, 198.18.3.0/24 ] then accept; reject; };"))
    }

    @Test("dual-stack inside addresses give one session per family")
    func dualStack() throws {
        let yaml = readRepoFile("Topologies/ipv6-underlay.yaml")
            .replacingOccurrences(of: "routing: static", with: "routing: bgp")
            .replacingOccurrences(of: "    networks: [198.18.31.0/24", with: "    asn: 65031\n    networks: [198.18.31.0/24")
            .replacingOccurrences(of: "    networks: [198.18.32.0/24", with: "    asn: 65032\n    networks: [198.18.32.0/24")
        let p = try plan(try loadValid(yaml), "west")
        let bird = BGPConfigRenderer.render(p, format: .bird, source: "x")
        #expect(bird.contains("protocol bgp vd_east {") && bird.contains("protocol bgp vd_east_v6 {"))
        #expect(bird.contains("neighbor 2001:db8:ffff::2 as 65032;") && bird.contains("ipv6 {"))
        #expect(bird.contains("if net ~ [ 2001:db8:32::/48+ ]"))
        let frr = BGPConfigRenderer.render(p, format: .frr, source: "x")
        #expect(frr.contains("ipv6 prefix-list VD-EAST-V6-IN seq 5 permit 2001:db8:32::/48 le 128"))
        #expect(frr.contains(" address-family ipv6 unicast\n  network 2001:db8:31::/48\n  neighbor 2001:db8:ffff::2 activate"))
    }

    @Test("FRR: prefix lists, route maps and neighbors for redundant cloud tunnels")
    func frrCloud() throws {
        let p = try plan(try loadValid(readRepoFile("Topologies/cloud-vpn-redundant.yaml")), "onprem")
        let text = BGPConfigRenderer.render(p, format: .frr, source: "cloud.yaml")
        #expect(text.contains("router bgp 65010\n bgp router-id 192.0.2.50\n"))
        #expect(text.contains(" neighbor 169.254.21.2 remote-as 64512\n"))
        #expect(text.contains(" neighbor 169.254.22.2 update-source vd-cloud-tun2\n"))
        #expect(text.contains("ip prefix-list VD-CLOUD-TUN1-V4-IN seq 5 permit 198.19.0.0/16 le 32\n"))
        // The cloud's own prefix is never announced back to it through the other tunnel.
        #expect(text.contains("ip prefix-list VD-CLOUD-TUN2-V4-OUT seq 5 permit 198.18.50.0/24\nroute-map"))
    }

    @Test("a node without BGP tunnels gets a comment, not an empty router block")
    func noBGP() throws {
        let p = try plan(try loadValid(readRepoFile("Topologies/hub-branches.yaml")), "hq")
        #expect(BGPConfigRenderer.render(p, format: .frr, source: "x").contains("has no tunnel with 'routing: bgp'"))
        #expect(!BGPConfigRenderer.render(p, format: .bird, source: "x").contains("protocol bgp"))
    }
}
