/// The two IKE ports (RFC 7296 §2.23): 500, and 4500 where the non-ESP marker applies.
/// Tests and the in-process benchmark use other ports; nothing else should.
public struct IKEPorts: Hashable, Sendable {
    public var ike: UInt16
    public var natTraversal: UInt16

    public init(ike: UInt16 = NonESPMarker.ikePort, natTraversal: UInt16 = NonESPMarker.natTraversalPort) {
        self.ike = ike
        self.natTraversal = natTraversal
    }

    public static let standard = IKEPorts()
}
