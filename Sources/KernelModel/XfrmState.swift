import NetTypes

// RFC 4301 §4.4.2 (the SA database), linux/xfrm.h struct xfrm_usersa_info (224 bytes on every Linux ABI):
//   xfrm_selector sel (56) | xfrm_id id { daddr(16), __be32 spi, __u8 proto } (24) | xfrm_address_t saddr (16)
//   | xfrm_lifetime_cfg lft (64) | xfrm_lifetime_cur curlft (32) | xfrm_stats stats (12) | __u32 seq, reqid
//   | __u16 family | __u8 mode, replay_window, flags | pad to 8
// followed (for XFRM_MSG_NEWSA/UPDSA) by XFRMA_ENCAP, the algorithm attributes, XFRMA_REPLAY_ESN_VAL,
// XFRMA_MARK and XFRMA_IF_ID, in the order iproute2 writes them.

/// An IPsec SA as the kernel holds it. Outbound and inbound SAs of a Child SA are two of these.
public struct XfrmState: Hashable, Sendable, CustomStringConvertible {
    public static let usersaInfoSize = 224

    public var source: IPAddress
    public var destination: IPAddress
    public var ipsecProtocol: XfrmProtocol
    /// In host order; written in network order.
    public var spi: UInt32
    public var mode: XfrmMode
    /// Links the SA to the policy templates with the same reqid.
    public var reqid: UInt32
    /// nil only for a larval SA (ALLOCSPI) read back from the kernel.
    public var algorithms: XfrmAlgorithms?
    public var replay: XfrmReplay
    public var lifetime: XfrmLifetime
    public var encapsulation: XfrmEncapsulation?
    /// Binds the SA to an XFRM interface.
    public var interfaceID: UInt32?
    /// Binds the SA to VTI-marked traffic.
    public var mark: XfrmMark?
    public var flags: XfrmStateFlags
    /// nil: no selector (family 0), what route-based SAs use.
    public var selector: XfrmSelector?

    public init(source: IPAddress, destination: IPAddress, ipsecProtocol: XfrmProtocol = .esp, spi: UInt32,
                mode: XfrmMode = .tunnel, reqid: UInt32, algorithms: XfrmAlgorithms?, replay: XfrmReplay = .window(0),
                lifetime: XfrmLifetime = .unlimited, encapsulation: XfrmEncapsulation? = nil, interfaceID: UInt32? = nil,
                mark: XfrmMark? = nil, flags: XfrmStateFlags = [], selector: XfrmSelector? = nil) {
        self.source = source
        self.destination = destination
        self.ipsecProtocol = ipsecProtocol
        self.spi = spi
        self.mode = mode
        self.reqid = reqid
        self.algorithms = algorithms
        self.replay = replay
        self.lifetime = lifetime
        self.encapsulation = encapsulation
        self.interfaceID = interfaceID
        self.mark = mark
        self.flags = flags
        self.selector = selector
    }

    public var key: XfrmStateKey {
        XfrmStateKey(source: source, destination: destination, ipsecProtocol: ipsecProtocol, spi: spi, mark: mark)
    }

    public var description: String {
        var s = "SA \(ipsecProtocol) spi 0x\(String(spi, radix: 16)) \(source) -> \(destination) reqid \(reqid)"
        if let interfaceID { s += " if_id \(interfaceID)" }
        if let mark { s += " \(mark)" }
        return s
    }

    /// XFRM_MSG_NEWSA.
    ///
    /// Equivalent to: `ip xfrm state add src S dst D proto esp spi SPI reqid R mode tunnel replay-window W
    /// [flag af-unspec] [flag esn] [if_id ID | mark M mask K] [encap espinudp 4500 4500 0.0.0.0]
    /// aead 'rfc4106(gcm(aes))' KEY 128 [limit time-soft T limit time-hard H]`.
    public func addRequest() throws(KernelModelError) -> NetlinkRequest {
        NetlinkRequest(NetlinkMessage(type: XfrmMessageType.newSA, flags: [.request, .ack], payload: try payload()),
                       summary: "adding \(description)")
    }

    /// XFRM_MSG_UPDSA: replaces an SA with the same key (completes a larval SA from ALLOCSPI).
    ///
    /// Equivalent to: `ip xfrm state update ...` with the arguments of `addRequest`.
    public func updateRequest() throws(KernelModelError) -> NetlinkRequest {
        NetlinkRequest(NetlinkMessage(type: XfrmMessageType.updateSA, flags: [.request, .ack], payload: try payload()),
                       summary: "updating \(description)")
    }

    /// XFRM_MSG_GETSA dump.
    ///
    /// Equivalent to: `ip xfrm state list`.
    public static func dumpRequest() -> NetlinkRequest {
        NetlinkRequest(NetlinkMessage(type: XfrmMessageType.getSA, flags: [.request, .dump], payload: []), summary: "listing SAs")
    }

    func payload() throws(KernelModelError) -> [UInt8] {
        guard source.family == destination.family else {
            throw KernelModelError(.familyMismatch, "\(description): source and destination of different families")
        }
        var w = NetlinkWriter()
        if let selector { selector.encode(into: &w) } else { XfrmSelector.encodeUnspecified(into: &w) }
        w.write(xfrmAddress: destination)        // id.daddr
        w.writeBigEndian(spi)                    // id.spi
        w.write(ipsecProtocol.rawValue)          // id.proto
        w.writeZeros(3)
        w.write(xfrmAddress: source)             // saddr
        lifetime.encode(into: &w)
        XfrmLifetimeCurrent().encode(into: &w)
        w.writeZeros(12)                         // stats
        w.write(UInt32(0))                       // seq
        w.write(reqid)
        w.write(AddressFamily.of(source))
        w.write(mode.rawValue)
        w.write(replay.legacyField)
        var f = flags
        if case .extendedSequenceNumbers = replay { f.insert(.esn) }
        w.write(f.rawValue)
        w.writeZeros(7)
        encapsulation?.encode(into: &w)
        try algorithms?.encode(into: &w)
        try replay.encodeAttribute(into: &w)
        mark?.attribute(into: &w)
        if let interfaceID { w.attribute(XfrmAttribute.ifID, uint32: interfaceID) }
        return w.bytes
    }

    /// Decodes an XFRM_MSG_NEWSA (a dump entry, a GETSA reply, an ALLOCSPI reply).
    public init(decoding message: NetlinkMessage) throws(NetlinkDecodeError) {
        guard message.type == XfrmMessageType.newSA || message.type == XfrmMessageType.updateSA else {
            throw NetlinkDecodeError(.unexpectedType, offset: 0, context: "expected XFRM_MSG_NEWSA, got type \(message.type)")
        }
        var r = NetlinkReader(message.payload, from: 0, to: message.payload.count, shortCode: .shortValue, context: "xfrm_usersa_info")
        try self.init(usersaInfo: &r, attributesFrom: message.payload)
    }

    /// Decodes an xfrm_usersa_info at `r` and the attributes that follow the enclosing structure.
    init(usersaInfo r: inout NetlinkReader, attributesFrom payload: [UInt8], trailing: Int = 0) throws(NetlinkDecodeError) {
        var s = try r.window(XfrmState.usersaInfoSize, context: "xfrm_usersa_info")
        try r.skip(trailing)
        let selector = try XfrmSelector.decode(&s)
        let daddrRaw = try s.readBytes(16)
        let spi = try s.readBigEndianUInt32()
        let protoRaw = try s.readUInt8()
        try s.skip(3)
        let saddrRaw = try s.readBytes(16)
        let lifetime = try XfrmLifetime.decode(&s)
        _ = try XfrmLifetimeCurrent.decode(&s)
        try s.skip(12 + 4)  // stats, seq
        let reqid = try s.readUInt32()
        let family = try s.readUInt16()
        let modeRaw = try s.readUInt8()
        let window = try s.readUInt8()
        let flagsRaw = try s.readUInt8()
        let count: Int
        switch family {
        case AddressFamily.inet: count = 4
        case AddressFamily.inet6: count = 16
        default: throw NetlinkDecodeError(.unsupportedValue, offset: 212, context: "xfrm_usersa_info family \(family)")
        }
        guard let proto = XfrmProtocol(rawValue: protoRaw) else {
            throw NetlinkDecodeError(.unsupportedValue, offset: 76, context: "xfrm_id proto \(protoRaw)")
        }
        guard let mode = XfrmMode(rawValue: modeRaw) else {
            throw NetlinkDecodeError(.unsupportedValue, offset: 214, context: "xfrm_usersa_info mode \(modeRaw)")
        }
        guard let destination = IPAddress(networkBytes: Array(daddrRaw[0..<count])),
              let source = IPAddress(networkBytes: Array(saddrRaw[0..<count])) else {
            throw NetlinkDecodeError(.unsupportedValue, offset: 56, context: "xfrm_usersa_info addresses")
        }
        let attrs = try NetlinkAttributes(NetlinkReader(payload, from: r.position, to: payload.count,
                                                        shortCode: .truncated, context: "XFRM SA attributes"))
        var flags = XfrmStateFlags(rawValue: flagsRaw)
        var replay = XfrmReplay.window(UInt32(window))
        if var e = attrs.reader(XfrmAttribute.replayESNVal, "XFRMA_REPLAY_ESN_VAL") {
            try e.skip(20)
            let esnWindow = try e.readUInt32()
            replay = flags.contains(.esn) ? .extendedSequenceNumbers(window: esnWindow) : .window(esnWindow)
        }
        flags.remove(.esn)
        self.init(source: source, destination: destination, ipsecProtocol: proto, spi: spi, mode: mode, reqid: reqid,
                  algorithms: try XfrmAlgorithms.decode(attrs), replay: replay, lifetime: lifetime,
                  encapsulation: try XfrmEncapsulation.decode(attrs, family: family),
                  interfaceID: try attrs.uint32(XfrmAttribute.ifID, "XFRMA_IF_ID"),
                  mark: try XfrmMark.decode(attrs), flags: flags, selector: selector)
    }
}
