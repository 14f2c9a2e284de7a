// netlink(7) §NLMSG_ERROR, linux/netlink.h struct nlmsgerr { int error; struct nlmsghdr msg; } followed by
// the request's payload unless NLM_F_CAPPED, then (NLM_F_ACK_TLVS, NETLINK_EXT_ACK) NLMSGERR_ATTR_* TLVs.
// error == 0 is an ACK; otherwise it is a negative errno.

/// The kernel's answer to one request: an acknowledgement or an errno, with the extended-ack text if any.
public struct NetlinkAck: Hashable, Sendable {
    /// 0 for success, otherwise a positive errno (EEXIST 17, ENOENT 2 ...).
    public var errno: Int32
    /// Type and sequence number of the request this answers.
    public var requestType: UInt16
    public var requestSequence: UInt32
    /// NLMSGERR_ATTR_MSG: the kernel's own words ("Attribute failed policy validation").
    public var message: String?
    /// NLMSGERR_ATTR_OFFS: offset of the offending attribute in the request.
    public var attributeOffset: UInt32?

    public var isSuccess: Bool { errno == 0 }

    public init(errno: Int32, requestType: UInt16, requestSequence: UInt32, message: String? = nil, attributeOffset: UInt32? = nil) {
        self.errno = errno
        self.requestType = requestType
        self.requestSequence = requestSequence
        self.message = message
        self.attributeOffset = attributeOffset
    }

    static let attributeMessage: UInt16 = 1
    static let attributeOffsetType: UInt16 = 2

    /// Decodes an NLMSG_ERROR message. A payload shorter than `nlmsgerr` is `shortValue`; extended-ack
    /// attributes that do not parse are ignored rather than failing the ack they decorate.
    public init(decoding message: NetlinkMessage) throws(NetlinkDecodeError) {
        guard message.type == NetlinkControl.error else {
            throw NetlinkDecodeError(.unexpectedType, offset: 0, context: "expected NLMSG_ERROR, got type \(message.type)")
        }
        var r = NetlinkReader(message.payload, from: 0, to: message.payload.count, shortCode: .shortValue, context: "nlmsgerr")
        let error = try r.readInt32()
        let innerLength = Int(try r.readUInt32())
        let innerType = try r.readUInt16()
        _ = try r.readUInt16()
        let innerSeq = try r.readUInt32()
        _ = try r.readUInt32()
        // errno values are small positive numbers; anything else is mapped to its magnitude, never trapping.
        self.errno = error == Int32.min ? Int32.max : abs(error)
        self.requestType = innerType
        self.requestSequence = innerSeq
        self.message = nil
        self.attributeOffset = nil
        if !message.flags.contains(.capped) {
            let body = max(0, innerLength - NetlinkMessage.headerSize)
            guard body <= r.remaining else { return }
            try r.skip(min((body + 3) & ~3, r.remaining))
        }
        if message.flags.contains(.ackTLVs), let tlvs = try? NetlinkAttributes(r) {
            self.message = tlvs.string(NetlinkAck.attributeMessage)
            self.attributeOffset = try? tlvs.uint32(NetlinkAck.attributeOffsetType, "NLMSGERR_ATTR_OFFS")
        }
    }

    /// Builds an NLMSG_ERROR message as the kernel would (used by tests and fakes).
    public static func encode(errno: Int32, request: NetlinkMessage, portID: UInt32, message text: String? = nil) -> NetlinkMessage {
        var w = NetlinkWriter()
        w.write(-errno)
        w.write(UInt32(truncatingIfNeeded: NetlinkMessage.headerSize + request.payload.count))
        w.write(request.type)
        w.write(request.flags.rawValue)
        w.write(request.sequence)
        w.write(request.portID)
        var flags: NetlinkFlags = .capped
        if let text {
            w.attribute(attributeMessage, string: text)
            flags.insert(.ackTLVs)
        }
        return NetlinkMessage(type: NetlinkControl.error, flags: flags, sequence: request.sequence, portID: portID, payload: w.bytes)
    }
}
