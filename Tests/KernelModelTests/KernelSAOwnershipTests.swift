import KernelDataplane
import KernelModel
import NetTypes
import Testing
import Topology

/// `viaduct down` deletes the SAs bound to Viaduct's interfaces and policies, and no other.
struct KernelSAOwnershipTests {
    static let a = IPAddress("192.0.2.1")!
    static let b = IPAddress("192.0.2.2")!

    static func state(spi: UInt32, reqid: UInt32 = 1, ifID: UInt32? = nil, mark: XfrmMark? = nil) -> XfrmState {
        XfrmState(source: a, destination: b, spi: spi, reqid: reqid,
                  algorithms: .aead(name: "rfc4106(gcm(aes))", key: [UInt8](repeating: 7, count: 36), icvBits: 128),
                  interfaceID: ifID, mark: mark)
    }

    @Test("bound to an owned xfrm interface, VTI key or policy: owned; unbound or bound elsewhere: not")
    func selection() {
        let links = [Link(name: "vd-dc2", kind: .xfrm(ifID: 10, underlyingIndex: nil)),
                     Link(name: "vd-dc3", kind: .vti(ikey: 20, okey: 20, local: Self.a, remote: Self.b))]
        let policies = [XfrmPolicy(selector: .any(.ipv4), direction: .outbound, priority: 399_998,
                                   templates: [XfrmTemplate(source: Self.a, destination: Self.b, reqid: 30)], interfaceID: 30)]
        let bindings = KernelSAOwnership.bindings(ownedLinks: links, ownedPolicies: policies)
        #expect(bindings == [KernelSABinding(kind: .xfrm, interfaceID: 10), KernelSABinding(kind: .vti, interfaceID: 20),
                             KernelSABinding(kind: .xfrm, interfaceID: 30)])
        let states = [
            Self.state(spi: 1, ifID: 10),                                  // ours: interface
            Self.state(spi: 2, mark: XfrmMark(value: 20)),                 // ours: VTI key
            Self.state(spi: 3, ifID: 30),                                  // ours: policy only (link already gone)
            Self.state(spi: 4, reqid: 10),                                 // unbound, reqid collides: not ours
            Self.state(spi: 5, ifID: 11),                                  // another if_id: not ours
            Self.state(spi: 6, mark: XfrmMark(value: 20, mask: 0xff)),     // partial mark: not ours
            Self.state(spi: 7, mark: XfrmMark(value: 10)),                 // mark equal to an xfrm if_id: not ours
        ]
        #expect(KernelSAOwnership.states(states, bindings: bindings).map(\.spi) == [1, 2, 3])
    }

    @Test("nothing owned, nothing selected")
    func empty() {
        #expect(KernelSAOwnership.bindings(ownedLinks: [], ownedPolicies: []).isEmpty)
        #expect(KernelSAOwnership.states([Self.state(spi: 1, ifID: 1)], bindings: []).isEmpty)
    }
}
