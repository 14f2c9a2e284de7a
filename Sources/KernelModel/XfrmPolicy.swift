import NetTypes

// RFC 4301 §4.4.1 (the SPD), linux/xfrm.h struct xfrm_userpolicy_info (168 bytes):
//   xfrm_selector sel (56) | xfrm_lifetime_cfg lft (64) | xfrm_lifetime_cur curlft (32) | __u32 priority,
//   index | __u8 dir, action, flags, share | pad to 8
// followed by XFRMA_TMPL (an array of xfrm_user_tmpl), XFRMA_MARK, XFRMA_IF_ID.
// struct xfrm_userpolicy_id (64 bytes): sel (56) | __u32 index | __u8 dir | pad, for DELPOLICY/GETPOLICY.

/// A security policy. Route-based tunnels install one per direction (out, in, fwd) with the all-zero
/// selector, bound to the tunnel's XFRM interface (`if_id`) or VTI mark: routing decides what is protected.
public struct XfrmPolicy: Hashable, Sendable, CustomStringConvertible {
    public static let userpolicyInfoSize = 168
    public static let userpolicyIDSize = 64
    /// strongSwan's priority for route-based policies of this shape; iproute2 captures use it too.
    public static let routeBasedPriority: UInt32 = 399_999

    public var selector: XfrmSelector
    public var direction: XfrmDirection
    public var action: XfrmPolicyAction
    public var priority: UInt32
    /// 0 lets the kernel choose; dumps report the chosen one.
    public var index: UInt32
    public var templates: [XfrmTemplate]
    public var interfaceID: UInt32?
    public var mark: XfrmMark?
    public var lifetime: XfrmLifetime
    /// XFRM_POLICY_LOCALOK (1), XFRM_POLICY_ICMP (2).
    public var flags: UInt8

    public init(selector: XfrmSelector, direction: XfrmDirection, action: XfrmPolicyAction = .allow,
                priority: UInt32 = XfrmPolicy.routeBasedPriority, index: UInt32 = 0, templates: [XfrmTemplate] = [],
                interfaceID: UInt32? = nil, mark: XfrmMark? = nil, lifetime: XfrmLifetime = .unlimited, flags: UInt8 = 0) {
        self.selector = selector
        self.direction = direction
        self.action = action
        self.priority = priority
        self.index = index
        self.templates = templates
        self.interfaceID = interfaceID
        self.mark = mark
        self.lifetime = lifetime
        self.flags = flags
    }

    public var description: String {
        var s = "policy \(selector) dir \(direction)"
        if let interfaceID { s += " if_id \(interfaceID)" }
        if let mark { s += " \(mark)" }
        return s
    }

    /// XFRM_MSG_NEWPOLICY (fails with EEXIST when a policy with the same selector/dir/mark/if_id exists).
    ///
    /// Equivalent to: `ip xfrm policy add src 0.0.0.0/0 dst 0.0.0.0/0 dir out priority 399999
    /// [if_id ID | mark M mask K] tmpl src S dst D proto esp reqid R mode tunnel`.
    public func addRequest() -> NetlinkRequest {
        NetlinkRequest(NetlinkMessage(type: XfrmMessageType.newPolicy, flags: [.request, .ack], payload: payload()),
                       summary: "adding \(description)")
    }

    /// XFRM_MSG_UPDPOLICY: add or replace.
    ///
    /// Equivalent to: `ip xfrm policy update ...` with the arguments of `addRequest`.
    public func updateRequest() -> NetlinkRequest {
        NetlinkRequest(NetlinkMessage(type: XfrmMessageType.updatePolicy, flags: [.request, .ack], payload: payload()),
                       summary: "updating \(description)")
    }

    /// XFRM_MSG_DELPOLICY by selector and direction (and the binding, which is part of the policy's key).
    ///
    /// Equivalent to: `ip xfrm policy delete src 0.0.0.0/0 dst 0.0.0.0/0 dir fwd [if_id ID | mark M mask K]`.
    public func deleteRequest() -> NetlinkRequest {
        var w = NetlinkWriter()
        selector.encode(into: &w)
        w.write(UInt32(0))                // index: look up by selector
        w.write(direction.rawValue)
        w.writeZeros(3)
        mark?.attribute(into: &w)
        if let interfaceID { w.attribute(XfrmAttribute.ifID, uint32: interfaceID) }
        return NetlinkRequest(NetlinkMessage(type: XfrmMessageType.deletePolicy, flags: [.request, .ack], payload: w.bytes),
                              summary: "deleting \(description)")
    }

    /// XFRM_MSG_GETPOLICY dump.
    ///
    /// Equivalent to: `ip xfrm policy list`.
    public static func dumpRequest() -> NetlinkRequest {
        NetlinkRequest(NetlinkMessage(type: XfrmMessageType.getPolicy, flags: [.request, .dump], payload: []),
                       summary: "listing policies")
    }

    /// The bare xfrm_userpolicy_info (also what IP_XFRM_POLICY takes as a per-socket policy).
    func info() -> [UInt8] {
        var w = NetlinkWriter()
        selector.encode(into: &w)
        lifetime.encode(into: &w)
        XfrmLifetimeCurrent().encode(into: &w)
        w.write(priority)
        w.write(index)
        w.write(direction.rawValue)
        w.write(action.rawValue)
        w.write(flags)
        w.write(UInt8(0))                 // share
        w.writeZeros(4)
        return w.bytes
    }

    func payload() -> [UInt8] {
        var w = NetlinkWriter()
        w.write(bytes: info())
        if !templates.isEmpty {
            var t = NetlinkWriter()
            for template in templates { template.encode(into: &t) }
            w.attribute(XfrmAttribute.template, t.bytes)
        }
        mark?.attribute(into: &w)
        if let interfaceID { w.attribute(XfrmAttribute.ifID, uint32: interfaceID) }
        return w.bytes
    }

    /// Decodes an XFRM_MSG_NEWPOLICY (dump entry).
    /// Per-socket policies (setsockopt IP_XFRM_POLICY, e.g. IKE bypass) appear in policy dumps
    /// with dir = XFRM_POLICY_MAX + dir (3...5). They are not route-based policies: dumps skip
    /// them instead of failing on a direction they cannot name.
    public static func isPerSocket(_ message: NetlinkMessage) -> Bool {
        let dirOffset = XfrmSelector.size + 64 + 32 + 8
        return message.type == XfrmMessageType.newPolicy && message.payload.count > dirOffset
            && message.payload[dirOffset] >= 3
    }

    public init(decoding message: NetlinkMessage) throws(NetlinkDecodeError) {
        guard message.type == XfrmMessageType.newPolicy || message.type == XfrmMessageType.updatePolicy else {
            throw NetlinkDecodeError(.unexpectedType, offset: 0, context: "expected XFRM_MSG_NEWPOLICY, got type \(message.type)")
        }
        var r = NetlinkReader(message.payload, from: 0, to: message.payload.count, shortCode: .shortValue, context: "xfrm_userpolicy_info")
        try self.init(userpolicyInfo: &r, attributesFrom: message.payload)
    }

    init(userpolicyInfo r: inout NetlinkReader, attributesFrom payload: [UInt8], trailing: Int = 0) throws(NetlinkDecodeError) {
        var p = try r.window(XfrmPolicy.userpolicyInfoSize, context: "xfrm_userpolicy_info")
        try r.skip(trailing)
        let start = p.position
        guard let selector = try XfrmSelector.decode(&p) else {
            throw NetlinkDecodeError(.unsupportedValue, offset: start, context: "policy selector with family 0")
        }
        let lifetime = try XfrmLifetime.decode(&p)
        _ = try XfrmLifetimeCurrent.decode(&p)
        let priority = try p.readUInt32()
        let index = try p.readUInt32()
        let dirRaw = try p.readUInt8()
        let actionRaw = try p.readUInt8()
        let flags = try p.readUInt8()
        guard let direction = XfrmDirection(rawValue: dirRaw), let action = XfrmPolicyAction(rawValue: actionRaw) else {
            throw NetlinkDecodeError(.unsupportedValue, offset: start + 160, context: "policy dir \(dirRaw) action \(actionRaw)")
        }
        let attrs = try NetlinkAttributes(NetlinkReader(payload, from: r.position, to: payload.count,
                                                        shortCode: .truncated, context: "XFRM policy attributes"))
        self.init(selector: selector, direction: direction, action: action, priority: priority, index: index,
                  templates: try XfrmTemplate.decodeAll(attrs),
                  interfaceID: try attrs.uint32(XfrmAttribute.ifID, "XFRMA_IF_ID"),
                  mark: try XfrmMark.decode(attrs), lifetime: lifetime, flags: flags)
    }
}
