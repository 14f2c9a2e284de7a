// Helpers shared by the IKEv2 codec tests.
@testable import IKEv2

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
