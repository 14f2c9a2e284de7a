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
        #expect(frr.contains(" address-family ipv6 unicast\n  maximum-paths 16\n  network 2001:db8:31::/48\n  neighbor 2001:db8:ffff::2 activate"))
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

    // MARK: bgp: BFD, password, ECMP (issue 14)

    @Test("BFD 300 ms x 3 by default on sessions to managed peers: a BIRD bfd protocol on their interfaces, 'bfd on', an FRR profile")
    func bfdByDefaultToManagedPeers() throws {
        let p = try plan(try loadValid(readRepoFile("Topologies/mesh-three-dc.yaml")), "dc2")
        #expect(p.tunnels.allSatisfy { $0.bgp?.bfd == BFDTimers(intervalMilliseconds: 300, multiplier: 3) })
        let bird = BGPConfigRenderer.render(p, format: .bird, source: "x")
        #expect(bird.contains("protocol bfd vd_bfd {\n    interface \"vd-dc1\", \"vd-dc3\" {\n        min rx interval 300 ms;\n        min tx interval 300 ms;\n        multiplier 3;"))
        #expect(bird.components(separatedBy: "    bfd on;\n").count - 1 == 2)
        let frr = BGPConfigRenderer.render(p, format: .frr, source: "x")
        #expect(frr.contains("bfd\n profile viaduct\n  receive-interval 300\n  transmit-interval 300\n  detect-multiplier 3\n exit\nexit\n"))
        #expect(frr.contains(" neighbor 169.254.100.1 bfd profile viaduct\n"))
        #expect(frr.contains(" bgp bestpath as-path multipath-relax\n") && frr.contains("  maximum-paths 16\n"))
    }

    @Test("no BFD to a peer Viaduct does not manage (a cloud VPN may not answer it), nor with bfd: off")
    func noBFDToUnmanagedPeersOrWhenOff() throws {
        let cloud = try plan(try loadValid(readRepoFile("Topologies/cloud-vpn-redundant.yaml")), "onprem")
        #expect(cloud.tunnels.allSatisfy { $0.bgp != nil && $0.bgp?.bfd == nil })
        for format in BGPConfigRenderer.Format.allCases {
            let text = BGPConfigRenderer.render(cloud, format: format, source: "x")
            #expect(!text.contains("bfd"), "\(format)")
        }
        let off = readRepoFile("Topologies/mesh-three-dc.yaml").replacingOccurrences(of: "\ngateways:", with: "\nbgp: { bfd: off }\ngateways:")
        let p = try plan(try loadValid(off), "dc2")
        #expect(p.tunnels.allSatisfy { $0.bgp?.bfd == nil })
        #expect(!BGPConfigRenderer.render(p, format: .bird, source: "x").contains("bfd"))
    }

    @Test("bgp.bfd timers and the password file reach every session")
    func timersAndPassword() throws {
        let yaml = readRepoFile("Topologies/mesh-three-dc.yaml").replacingOccurrences(
            of: "\ngateways:", with: "\nbgp: { bfd: { interval: 1s, multiplier: 5 }, password-file: secrets/bgp.pw }\ngateways:")
        let l = try loadValid(yaml)
        let t = try #require(l.topology)
        #expect(t.bgp.bfd == BFDTimers(intervalMilliseconds: 1000, multiplier: 5))
        let p = try plan(l, "dc1")
        #expect(p.tunnels.allSatisfy { $0.bgp?.passwordFile == t.resolve("secrets/bgp.pw") })
        let bird = BGPConfigRenderer.render(p, format: .bird, source: "x", password: "s3cret-pw")
        #expect(bird.contains("min rx interval 1000 ms;") && bird.contains("multiplier 5;"))
        #expect(bird.components(separatedBy: "    password \"s3cret-pw\";\n").count - 1 == 2)
        #expect(bird.contains("keep it mode 0600"))
        let frr = BGPConfigRenderer.render(p, format: .frr, source: "x", password: "s3cret-pw")
        #expect(frr.contains(" neighbor 169.254.100.2 password s3cret-pw\n"))
        #expect(!BGPConfigRenderer.render(p, format: .frr, source: "x").contains("password"))
    }
}
