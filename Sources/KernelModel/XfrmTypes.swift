// linux/xfrm.h: XFRM_MSG_* message types, XFRMA_* attributes and the small enumerations of the XFRM
// netlink ABI (NETLINK_XFRM). The numbers are kernel ABI.

/// XFRM_MSG_* message types.
public enum XfrmMessageType {
    public static let newSA: UInt16 = 16
    public static let deleteSA: UInt16 = 17
    public static let getSA: UInt16 = 18
    public static let newPolicy: UInt16 = 19
    public static let deletePolicy: UInt16 = 20
    public static let getPolicy: UInt16 = 21
    public static let allocSPI: UInt16 = 22
    public static let acquire: UInt16 = 23
    public static let expire: UInt16 = 24
    public static let updatePolicy: UInt16 = 25
    public static let updateSA: UInt16 = 26
    public static let policyExpire: UInt16 = 27
    public static let flushSA: UInt16 = 28
    public static let flushPolicy: UInt16 = 29
}

/// XFRMNLGRP_* multicast groups (bit `1 << (group - 1)` for bind, the number itself for
/// NETLINK_ADD_MEMBERSHIP).
public enum XfrmMulticastGroup {
    public static let acquire: UInt32 = 1
    public static let expire: UInt32 = 2
    public static let sa: UInt32 = 3
    public static let policy: UInt32 = 4
}

/// XFRMA_* attribute numbers.
enum XfrmAttribute {
    static let algAuth: UInt16 = 1
    static let algCrypt: UInt16 = 2
    static let encap: UInt16 = 4
    static let template: UInt16 = 5
    static let ltimeVal: UInt16 = 9
    static let replayVal: UInt16 = 10
    static let srcAddr: UInt16 = 13
    static let algAEAD: UInt16 = 18
    static let algAuthTrunc: UInt16 = 20
    static let mark: UInt16 = 21
    static let replayESNVal: UInt16 = 23
    static let ifID: UInt16 = 31
}

/// The IPsec protocol of an SA or template (`proto` in `ip xfrm`).
public enum XfrmProtocol: UInt8, Hashable, Sendable, CustomStringConvertible {
    case esp = 50
    case ah = 51
    case comp = 108

    public var description: String {
        switch self {
        case .esp: return "esp"
        case .ah: return "ah"
        case .comp: return "comp"
        }
    }
}

/// XFRM_MODE_*.
public enum XfrmMode: UInt8, Hashable, Sendable, CustomStringConvertible {
    case transport = 0
    case tunnel = 1
    case routeOptimization = 2
    case inTrigger = 3
    case beet = 4

    public var description: String {
        switch self {
        case .transport: return "transport"
        case .tunnel: return "tunnel"
        case .routeOptimization: return "ro"
        case .inTrigger: return "in_trigger"
        case .beet: return "beet"
        }
    }
}

/// XFRM_POLICY_IN/OUT/FWD.
public enum XfrmDirection: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case inbound = 0
    case outbound = 1
    case forward = 2

    public var description: String {
        switch self {
        case .inbound: return "in"
        case .outbound: return "out"
        case .forward: return "fwd"
        }
    }
}

/// XFRM_POLICY_ALLOW/BLOCK.
public enum XfrmPolicyAction: UInt8, Hashable, Sendable {
    case allow = 0
    case block = 1
}

/// `struct xfrm_mark { __u32 v; __u32 m; }`: traffic marked `value & mask` uses the object (VTI ikey/okey).
public struct XfrmMark: Hashable, Sendable, CustomStringConvertible {
    public var value: UInt32
    public var mask: UInt32

    public init(value: UInt32, mask: UInt32 = 0xffff_ffff) {
        self.value = value
        self.mask = mask
    }

    public var description: String { "mark 0x\(String(value, radix: 16))/0x\(String(mask, radix: 16))" }

    func attribute(into w: inout NetlinkWriter) {
        var m = NetlinkWriter()
        m.write(value)
        m.write(mask)
        w.attribute(XfrmAttribute.mark, m.bytes)
    }

    static func decode(_ attrs: NetlinkAttributes) throws(NetlinkDecodeError) -> XfrmMark? {
        guard var r = attrs.reader(XfrmAttribute.mark, "XFRMA_MARK") else { return nil }
        return XfrmMark(value: try r.readUInt32(), mask: try r.readUInt32())
    }
}

/// XFRM_STATE_* flags of `xfrm_usersa_info.flags` (ESN is set from `XfrmReplay`, not here).
public struct XfrmStateFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let noECN = XfrmStateFlags(rawValue: 1)
    public static let decapDSCP = XfrmStateFlags(rawValue: 2)
    public static let noPMTUDiscovery = XfrmStateFlags(rawValue: 4)
    public static let wildcardReceive = XfrmStateFlags(rawValue: 8)
    public static let icmp = XfrmStateFlags(rawValue: 16)
    /// `flag af-unspec`: the SA carries inner traffic of either family (what strongSwan sets).
    public static let addressFamilyUnspecified = XfrmStateFlags(rawValue: 32)
    public static let align4 = XfrmStateFlags(rawValue: 64)
    static let esn = XfrmStateFlags(rawValue: 128)
}
