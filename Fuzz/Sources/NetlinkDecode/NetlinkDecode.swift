// netlink-decode: the netlink decoders of the kernel model (XFRM states, policies, expires,
// acquires, events; links, addresses, routes; acks). The input is a buffer as recv(2) returns it:
// every message it splits into goes through every decoder; a buffer that splits must re-encode to
// messages that split the same way.
import FuzzSupport
import KernelModel

func run(_ input: [UInt8]) {
    guard let messages = try? NetlinkMessage.decodeAll(input) else { return }
    for m in messages {
        _ = try? XfrmState(decoding: m)
        _ = try? XfrmPolicy(decoding: m)
        _ = try? XfrmEvent(decoding: m)
        _ = try? XfrmAcquire(decoding: m)
        _ = try? XfrmExpire(decoding: m)
        _ = try? ObservedLink(decoding: m)
        _ = try? LinkAddress(decoding: m)
        _ = try? Route(decoding: m)
        _ = try? NetlinkAck(decoding: m)
        let again = try? NetlinkMessage.decodeAll(m.encoded())
        FuzzDriver.invariant(again == [m], "a decoded netlink message re-encodes differently")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    run(FuzzDriver.bytes(data, size))
    return 0
}

@_cdecl("NetlinkDecode_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzDriver.run(argc, argv, testOneInput)
}
