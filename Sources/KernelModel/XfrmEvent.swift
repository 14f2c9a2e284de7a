// linux/xfrm.h: the multicast notifications of NETLINK_XFRM that Viaduct listens to (XFRMNLGRP_EXPIRE,
// XFRMNLGRP_ACQUIRE). Their layouts are in XfrmExpire.swift and XfrmAcquire.swift.

/// A notification the kernel multicasts about SAs.
public enum XfrmEvent: Hashable, Sendable {
    case expire(XfrmExpire)
    case acquire(XfrmAcquire)
    /// Any other XFRM multicast message (NEWSA/DELSA on the SA group ...), by type.
    case other(type: UInt16)

    /// Decodes one message received on a socket subscribed to XFRMNLGRP_EXPIRE / XFRMNLGRP_ACQUIRE.
    public init(decoding message: NetlinkMessage) throws(NetlinkDecodeError) {
        switch message.type {
        case XfrmMessageType.expire: self = .expire(try XfrmExpire(decoding: message))
        case XfrmMessageType.acquire: self = .acquire(try XfrmAcquire(decoding: message))
        default: self = .other(type: message.type)
        }
    }
}
