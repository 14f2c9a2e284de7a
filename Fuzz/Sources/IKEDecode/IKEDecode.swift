// ike-decode: the IKEv2 codec (RFC 7296 §3: header, every payload, the SK chain; RFC 7383 §2.5:
// SKF). The whole input is decoded as a message (a UDP/500 payload); independently, its first
// byte is taken as the first payload type of an inner chain made of the rest (an SK plaintext).
// Whatever decodes must re-encode to bytes that decode to the same value.
import FuzzSupport
import IKEv2

func run(_ input: [UInt8]) {
    _ = try? IKEHeader(decoding: input)
    if let message = try? IKEMessage(decoding: input) {
        _ = message.unsupportedCriticalPayload
        _ = message.notifies
        guard let encoded = try? message.encoded() else {
            FuzzDriver.invariant(false, "a decoded message does not encode")
            return
        }
        let again = try? IKEMessage(decoding: encoded)
        FuzzDriver.invariant(again == message, "a decoded message re-encodes to a different one")
    }
    guard let first = input.first else { return }
    let inner = Array(input.dropFirst())
    if let payloads = try? IKEMessage.decodeInnerPayloads(inner, firstPayload: IKEPayloadType(rawValue: first)) {
        _ = IKEPayload.firstUnsupportedCritical(in: payloads)
        guard let encoded = try? IKEMessage.encodeInnerPayloads(payloads) else {
            FuzzDriver.invariant(false, "a decoded inner chain does not encode")
            return
        }
        let again = try? IKEMessage.decodeInnerPayloads(encoded.bytes, firstPayload: encoded.firstPayload)
        FuzzDriver.invariant(again == payloads, "a decoded inner chain re-encodes to a different one")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    run(FuzzDriver.bytes(data, size))
    return 0
}

@_cdecl("IKEDecode_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzDriver.run(argc, argv, testOneInput)
}
