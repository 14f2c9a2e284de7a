import NetTypes

// RFC 4301 §4.4.2.1, linux/xfrm.h XFRMNLGRP_EXPIRE: XFRM_MSG_EXPIRE carries struct xfrm_user_expire
// { struct xfrm_usersa_info state; __u8 hard; } (232 bytes) + the SA's attributes. A soft expiry means
// "rekey now"; a hard one means the kernel has already deleted the SA.

/// An SA reached a soft (rekey) or hard (deleted) limit.
public struct XfrmExpire: Hashable, Sendable {
    public static let size = 232

    public var state: XfrmState
    public var hard: Bool

    public init(state: XfrmState, hard: Bool) {
        self.state = state
        self.hard = hard
    }

    public init(decoding message: NetlinkMessage) throws(NetlinkDecodeError) {
        guard message.type == XfrmMessageType.expire else {
            throw NetlinkDecodeError(.unexpectedType, offset: 0, context: "expected XFRM_MSG_EXPIRE, got type \(message.type)")
        }
        var r = NetlinkReader(message.payload, from: 0, to: message.payload.count, shortCode: .shortValue, context: "xfrm_user_expire")
        try r.require(XfrmExpire.size, "xfrm_user_expire")
        let hard = message.payload[XfrmState.usersaInfoSize] != 0
        let state = try XfrmState(usersaInfo: &r, attributesFrom: message.payload, trailing: XfrmExpire.size - XfrmState.usersaInfoSize)
        self.init(state: state, hard: hard)
    }

    /// The message as the kernel sends it (tests, fakes).
    public func encoded(sequence: UInt32 = 0) throws(KernelModelError) -> NetlinkMessage {
        var payload = try state.payload()
        let attributes = Array(payload[XfrmState.usersaInfoSize...])
        payload = Array(payload[..<XfrmState.usersaInfoSize]) + [hard ? 1 : 0] + [UInt8](repeating: 0, count: 7) + attributes
        return NetlinkMessage(type: XfrmMessageType.expire, flags: [], sequence: sequence, portID: 0, payload: payload)
    }
}
