import NetTypes

// rtnetlink(7) RTM_NEWADDR / RTM_DELADDR / RTM_GETADDR: struct ifaddrmsg { __u8 ifa_family; __u8
// ifa_prefixlen; __u8 ifa_flags; __u8 ifa_scope; __u32 ifa_index; } (8 bytes) + IFA_LOCAL / IFA_ADDRESS.
// For a point-to-point address IFA_ADDRESS is the peer; otherwise both carry the local address, which is
// what iproute2 sends and what the kernel's IPv4 code expects.

/// An address on an interface (named `LinkAddress` to stay clear of `Topology.InterfaceAddress`).
public struct LinkAddress: Hashable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var prefixLength: UInt8
    /// The remote end of a point-to-point address (`peer`), if any.
    public var peer: IPAddress?
    public var interfaceIndex: Int32
    /// IFA_F_NODAD: skip IPv6 duplicate address detection (tunnel inside addresses come up at once).
    public var noDAD: Bool

    public init(address: IPAddress, prefixLength: UInt8, peer: IPAddress? = nil, interfaceIndex: Int32, noDAD: Bool = false) {
        self.address = address
        self.prefixLength = prefixLength
        self.peer = peer
        self.interfaceIndex = interfaceIndex
        self.noDAD = noDAD
    }

    public var description: String {
        "address \(address)/\(prefixLength)" + (peer.map { " peer \($0)" } ?? "") + " dev #\(interfaceIndex)"
    }

    /// The description with the interface's name instead of its index, for error messages.
    public func describe(interfaceName: String?) -> String {
        "address \(address)/\(prefixLength)" + (peer.map { " peer \($0)" } ?? "") + " dev " + (interfaceName ?? "#\(interfaceIndex)")
    }

    /// RTM_NEWADDR (create, fail if present).
    ///
    /// Equivalent to: `ip addr add ADDRESS/LEN [peer PEER] dev NAME [nodad]`.
    public func addRequest(interfaceName: String? = nil) throws(KernelModelError) -> NetlinkRequest {
        let message = NetlinkMessage(type: RouteMessageType.newAddress, flags: [.request, .ack, .excl, .create], payload: try payload())
        return NetlinkRequest(message, summary: "adding " + describe(interfaceName: interfaceName))
    }

    /// RTM_DELADDR.
    ///
    /// Equivalent to: `ip addr del ADDRESS/LEN dev NAME`.
    public func deleteRequest(interfaceName: String? = nil) throws(KernelModelError) -> NetlinkRequest {
        let message = NetlinkMessage(type: RouteMessageType.deleteAddress, flags: [.request, .ack], payload: try payload())
        return NetlinkRequest(message, summary: "deleting " + describe(interfaceName: interfaceName))
    }

    /// RTM_GETADDR dump for one family (nil: both).
    ///
    /// Equivalent to: `ip addr show` (`ip -4 addr show`, `ip -6 addr show`).
    public static func dumpRequest(family: IPAddress.Family? = nil) -> NetlinkRequest {
        var w = NetlinkWriter()
        w.write(UInt8(truncatingIfNeeded: family.map { $0 == .ipv4 ? AddressFamily.inet : AddressFamily.inet6 } ?? 0))
        w.writeZeros(7)
        return NetlinkRequest(NetlinkMessage(type: RouteMessageType.getAddress, flags: [.request, .dump], payload: w.bytes),
                              summary: "listing addresses")
    }

    func payload() throws(KernelModelError) -> [UInt8] {
        guard Int(prefixLength) <= address.family.bitCount else {
            throw KernelModelError(.outOfRange, "\(description): prefix length above \(address.family.bitCount)")
        }
        if let peer, peer.family != address.family {
            throw KernelModelError(.familyMismatch, "\(description): peer of another family")
        }
        var w = NetlinkWriter()
        w.write(UInt8(truncatingIfNeeded: AddressFamily.of(address)))
        w.write(prefixLength)
        w.write(UInt8(noDAD ? 0x02 : 0))   // ifa_flags
        w.write(UInt8(0))                  // ifa_scope: universe
        w.write(UInt32(bitPattern: interfaceIndex))
        w.attribute(AddressAttribute.local, address.bytes)
        w.attribute(AddressAttribute.address, (peer ?? address).bytes)
        return w.bytes
    }

    /// Decodes one RTM_NEWADDR from a dump. IPv6 dumps carry only IFA_ADDRESS (the local address) unless
    /// there is a peer, in which case IFA_LOCAL is the local one.
    public init(decoding message: NetlinkMessage) throws(NetlinkDecodeError) {
        guard message.type == RouteMessageType.newAddress else {
            throw NetlinkDecodeError(.unexpectedType, offset: 0, context: "expected RTM_NEWADDR, got type \(message.type)")
        }
        var r = NetlinkReader(message.payload, from: 0, to: message.payload.count, shortCode: .shortValue, context: "ifaddrmsg")
        let family = try r.readUInt8()
        let prefixLength = try r.readUInt8()
        let flags = try r.readUInt8()
        _ = try r.readUInt8()
        let index = try r.readUInt32()
        let attrs = try NetlinkAttributes(NetlinkReader(message.payload, from: r.position, to: message.payload.count,
                                                        shortCode: .truncated, context: "RTM_NEWADDR attributes"))
        let local = try attrs.address(AddressAttribute.local, "IFA_LOCAL")
        let remote = try attrs.address(AddressAttribute.address, "IFA_ADDRESS")
        guard let mine = local ?? remote else {
            throw NetlinkDecodeError(.shortValue, offset: 0, context: "RTM_NEWADDR without IFA_LOCAL or IFA_ADDRESS")
        }
        guard UInt16(family) == AddressFamily.of(mine) else {
            throw NetlinkDecodeError(.unsupportedValue, offset: 0, context: "RTM_NEWADDR family \(family) with a \(mine.family) address")
        }
        let extendedFlags = try attrs.uint32(AddressAttribute.flags, "IFA_FLAGS") ?? UInt32(flags)
        self.init(address: mine, prefixLength: prefixLength,
                  peer: (local != nil && remote != nil && remote != local) ? remote : nil,
                  interfaceIndex: Int32(bitPattern: index), noDAD: extendedFlags & 0x02 != 0)
    }
}
