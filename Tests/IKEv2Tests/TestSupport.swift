// Helpers shared by the IKEv2 codec tests.
@testable import IKEv2

/// Lower-case hex of bytes.
func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
}

/// The decode error of `bytes`, or nil when it decodes.
func decodeError(_ bytes: [UInt8]) -> IKEDecodeError? {
    do {
        _ = try IKEMessage(decoding: bytes)
        return nil
    } catch {
        return error
    }
}

/// The decode error of an inner chain, or nil when it decodes.
func innerDecodeError(_ bytes: [UInt8], first: IKEPayloadType) -> IKEDecodeError? {
    do {
        _ = try IKEMessage.decodeInnerPayloads(bytes, firstPayload: first)
        return nil
    } catch {
        return error
    }
}

extension IKEPayload {
    var sa: IKESecurityAssociation? { if case .securityAssociation(let p) = self { p } else { nil } }
    var ke: IKEKeyExchange? { if case .keyExchange(let p) = self { p } else { nil } }
    var nonce: IKENonce? { if case .nonce(let p) = self { p } else { nil } }
    var notify: IKENotify? { if case .notify(let p) = self { p } else { nil } }
    var idi: IKEIdentification? { if case .identificationInitiator(let p) = self { p } else { nil } }
    var idr: IKEIdentification? { if case .identificationResponder(let p) = self { p } else { nil } }
    var cert: IKECertificate? { if case .certificate(let p) = self { p } else { nil } }
    var certreq: IKECertificateRequest? { if case .certificateRequest(let p) = self { p } else { nil } }
    var auth: IKEAuthentication? { if case .authentication(let p) = self { p } else { nil } }
    var tsi: IKETrafficSelectors? { if case .trafficSelectorInitiator(let p) = self { p } else { nil } }
    var tsr: IKETrafficSelectors? { if case .trafficSelectorResponder(let p) = self { p } else { nil } }
    var delete: IKEDelete? { if case .delete(let p) = self { p } else { nil } }
    var sk: IKEEncrypted? { if case .encrypted(let p) = self { p } else { nil } }
}

/// A deterministic 64-bit PRNG (SplitMix64) so fuzz runs are reproducible from their seed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
