import NetTypes

// linux/xfrm.h XFRMNLGRP_ACQUIRE: XFRM_MSG_ACQUIRE carries struct xfrm_user_acquire { xfrm_id id (24);
// xfrm_address_t saddr (16); xfrm_selector sel (56); xfrm_userpolicy_info policy (168); __u32 aalgos, ealgos,
// calgos, seq; } (280 bytes) + XFRMA_TMPL ...: traffic hit a policy for which no SA exists.

/// The kernel wants an SA for traffic matching a policy (on-demand negotiation).
public struct XfrmAcquire: Hashable, Sendable {
    public static let size = 280

    public var source: IPAddress
    public var destination: IPAddress
    public var ipsecProtocol: XfrmProtocol
    public var selector: XfrmSelector?
    public var policyIndex: UInt32
    public var policyDirection: XfrmDirection
    public var sequence: UInt32
    public var interfaceID: UInt32?

    /// The outer family comes from the first template (XFRMA_TMPL), else from the selector, else IPv4.
    public init(decoding message: NetlinkMessage) throws(NetlinkDecodeError) {
        guard message.type == XfrmMessageType.acquire else {
            throw NetlinkDecodeError(.unexpectedType, offset: 0, context: "expected XFRM_MSG_ACQUIRE, got type \(message.type)")
        }
        var r = NetlinkReader(message.payload, from: 0, to: message.payload.count, shortCode: .shortValue, context: "xfrm_user_acquire")
        var a = try r.window(XfrmAcquire.size, context: "xfrm_user_acquire")
        let daddrRaw = try a.readBytes(16)
        _ = try a.readBigEndianUInt32()
        let protoRaw = try a.readUInt8()
        try a.skip(3)
        let saddrRaw = try a.readBytes(16)
        let selector = try XfrmSelector.decode(&a)
        var policyReader = try a.window(XfrmPolicy.userpolicyInfoSize, context: "xfrm_userpolicy_info")
        try policyReader.skip(XfrmSelector.size + XfrmLifetime.size + XfrmLifetimeCurrent.size + 4)
        let index = try policyReader.readUInt32()
        let dirRaw = try policyReader.readUInt8()
        try a.skip(12)
        let seq = try a.readUInt32()
        let attrs = try NetlinkAttributes(NetlinkReader(message.payload, from: r.position, to: message.payload.count,
                                                        shortCode: .truncated, context: "XFRM acquire attributes"))
        let outerFamily = try XfrmTemplate.decodeAll(attrs).first?.destination.family ?? selector?.family ?? .ipv4
        let count = outerFamily == .ipv6 ? 16 : 4
        guard let proto = XfrmProtocol(rawValue: protoRaw), let dir = XfrmDirection(rawValue: dirRaw),
              let d = IPAddress(networkBytes: Array(daddrRaw[0..<count])),
              let s = IPAddress(networkBytes: Array(saddrRaw[0..<count])) else {
            throw NetlinkDecodeError(.unsupportedValue, offset: 0, context: "xfrm_user_acquire proto \(protoRaw) dir \(dirRaw)")
        }
        source = s
        destination = d
        ipsecProtocol = proto
        self.selector = selector
        policyIndex = index
        policyDirection = dir
        sequence = seq
        interfaceID = try attrs.uint32(XfrmAttribute.ifID, "XFRMA_IF_ID")
    }
}
