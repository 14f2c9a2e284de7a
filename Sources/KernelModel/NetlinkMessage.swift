// netlink(7) §"Message format": struct nlmsghdr { __u32 nlmsg_len; __u16 nlmsg_type; __u16 nlmsg_flags;
// __u32 nlmsg_seq; __u32 nlmsg_pid; } followed by the family's fixed header and attributes, each message
// aligned to 4 bytes. Several messages may share one buffer (a batch going out, a multipart dump coming in).

/// One netlink message: the header fields and the payload after the 16-byte header.
public struct NetlinkMessage: Hashable, Sendable {
    public static let headerSize = 16

    public var type: UInt16
    public var flags: NetlinkFlags
    public var sequence: UInt32
    public var portID: UInt32
    /// Everything after `nlmsghdr`, unpadded.
    public var payload: [UInt8]

    public init(type: UInt16, flags: NetlinkFlags, sequence: UInt32 = 0, portID: UInt32 = 0, payload: [UInt8]) {
        self.type = type
        self.flags = flags
        self.sequence = sequence
        self.portID = portID
        self.payload = payload
    }

    /// The message as the kernel reads it, padded to 4 bytes. `nlmsg_len` counts the unpadded payload,
    /// as NLMSG_LENGTH does (all our payloads are already multiples of 4).
    public func encoded() -> [UInt8] {
        var w = NetlinkWriter()
        w.write(UInt32(truncatingIfNeeded: NetlinkMessage.headerSize + payload.count))
        w.write(type)
        w.write(flags.rawValue)
        w.write(sequence)
        w.write(portID)
        w.write(bytes: payload)
        w.align()
        return w.bytes
    }

    /// Splits a receive buffer into messages. A buffer ending inside a header or before the length a header
    /// announces is `truncated`; an `nlmsg_len` below 16 is `badLength` (it could never be completed).
    public static func decodeAll(_ bytes: [UInt8]) throws(NetlinkDecodeError) -> [NetlinkMessage] {
        var messages: [NetlinkMessage] = []
        var offset = 0
        while offset < bytes.count {
            var r = NetlinkReader(bytes, from: offset, to: bytes.count, shortCode: .truncated, context: "nlmsghdr")
            let length = Int(try r.readUInt32("nlmsghdr"))
            let type = try r.readUInt16("nlmsghdr")
            let flags = try r.readUInt16("nlmsghdr")
            let seq = try r.readUInt32("nlmsghdr")
            let pid = try r.readUInt32("nlmsghdr")
            guard length >= headerSize else {
                throw NetlinkDecodeError(.badLength, offset: offset, context: "nlmsg_len \(length) below the header size")
            }
            guard length <= bytes.count - offset else {
                throw NetlinkDecodeError(.truncated, offset: offset, context: "nlmsg_len \(length) runs past the buffer")
            }
            let payload = Array(bytes[(offset + headerSize)..<(offset + length)])
            messages.append(NetlinkMessage(type: type, flags: NetlinkFlags(rawValue: flags), sequence: seq, portID: pid, payload: payload))
            offset += (length + 3) & ~3
        }
        return messages
    }
}

/// `nlmsg_flags` (linux/netlink.h). The same bits mean different things for GET and NEW requests
/// (0x200 is MATCH for a dump, EXCL for a create), so both names exist.
public struct NetlinkFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let request = NetlinkFlags(rawValue: 0x01)
    public static let multi = NetlinkFlags(rawValue: 0x02)
    public static let ack = NetlinkFlags(rawValue: 0x04)
    public static let echo = NetlinkFlags(rawValue: 0x08)
    public static let dumpInterrupted = NetlinkFlags(rawValue: 0x10)
    // GET requests.
    public static let root = NetlinkFlags(rawValue: 0x100)
    public static let match = NetlinkFlags(rawValue: 0x200)
    public static let dump: NetlinkFlags = [.root, .match]
    // NEW requests.
    public static let replace = NetlinkFlags(rawValue: 0x100)
    public static let excl = NetlinkFlags(rawValue: 0x200)
    public static let create = NetlinkFlags(rawValue: 0x400)
    public static let append = NetlinkFlags(rawValue: 0x800)
    // NLMSG_ERROR replies.
    public static let capped = NetlinkFlags(rawValue: 0x100)
    public static let ackTLVs = NetlinkFlags(rawValue: 0x200)
}

/// Message types shared by every netlink family (NLMSG_*).
public enum NetlinkControl {
    public static let noop: UInt16 = 1
    public static let error: UInt16 = 2
    public static let done: UInt16 = 3
    public static let overrun: UInt16 = 4
}
