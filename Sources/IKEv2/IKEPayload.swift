// RFC 7296 §3.2 (generic payload header, critical bit §2.5) and §3.3–§3.16, RFC 7383 §2.5:
// one payload of a chain, typed by the Next Payload value that announced it.

/// One payload. Known types are decoded into typed bodies; unknown types are kept verbatim with their
/// critical bit so that the engine can skip them or answer UNSUPPORTED_CRITICAL_PAYLOAD.
/// The generic header's reserved bits, and the critical bit of known types (which RFC 7296 §3.2 says
/// receivers ignore), are not kept; encoding writes them as zero.
public enum IKEPayload: Hashable, Sendable {
    case securityAssociation(IKESecurityAssociation)
    case keyExchange(IKEKeyExchange)
    case identificationInitiator(IKEIdentification)
    case identificationResponder(IKEIdentification)
    case certificate(IKECertificate)
    case certificateRequest(IKECertificateRequest)
    case authentication(IKEAuthentication)
    case nonce(IKENonce)
    case notify(IKENotify)
    case delete(IKEDelete)
    case vendorID(IKEVendorID)
    case trafficSelectorInitiator(IKETrafficSelectors)
    case trafficSelectorResponder(IKETrafficSelectors)
    case encrypted(IKEEncrypted)
    case configuration(IKEConfiguration)
    case eap(IKEEAP)
    case encryptedFragment(IKEEncryptedFragment)
    /// A payload type this codec does not know: type number, critical bit, body after the generic header.
    case unknown(type: UInt8, critical: Bool, body: [UInt8])

    /// The payload type announced for this payload by the previous Next Payload field.
    public var type: IKEPayloadType {
        switch self {
        case .securityAssociation: .securityAssociation
        case .keyExchange: .keyExchange
        case .identificationInitiator: .identificationInitiator
        case .identificationResponder: .identificationResponder
        case .certificate: .certificate
        case .certificateRequest: .certificateRequest
        case .authentication: .authentication
        case .nonce: .nonce
        case .notify: .notify
        case .delete: .delete
        case .vendorID: .vendorID
        case .trafficSelectorInitiator: .trafficSelectorInitiator
        case .trafficSelectorResponder: .trafficSelectorResponder
        case .encrypted: .encrypted
        case .configuration: .configuration
        case .eap: .eap
        case .encryptedFragment: .encryptedFragment
        case .unknown(let type, _, _): IKEPayloadType(rawValue: type)
        }
    }

    /// The critical bit as encoded (only unknown payloads carry one).
    public var isCritical: Bool {
        if case .unknown(_, let critical, _) = self { return critical }
        return false
    }

    /// True for SK and SKF, which end a chain: their Next Payload names the first inner payload.
    public var isEncrypted: Bool {
        switch self {
        case .encrypted, .encryptedFragment: true
        default: false
        }
    }

    /// Decodes the body (everything after the 4-octet generic header) of a payload of type `type`.
    /// `following` is the generic header's Next Payload (needed by SK/SKF).
    init(type: IKEPayloadType, critical: Bool, following: IKEPayloadType, decoding reader: inout IKEByteReader)
        throws(IKEDecodeError)
    {
        switch type {
        case .securityAssociation: self = .securityAssociation(try IKESecurityAssociation(decoding: &reader))
        case .keyExchange: self = .keyExchange(try IKEKeyExchange(decoding: &reader))
        case .identificationInitiator: self = .identificationInitiator(try IKEIdentification(decoding: &reader))
        case .identificationResponder: self = .identificationResponder(try IKEIdentification(decoding: &reader))
        case .certificate: self = .certificate(try IKECertificate(decoding: &reader))
        case .certificateRequest: self = .certificateRequest(try IKECertificateRequest(decoding: &reader))
        case .authentication: self = .authentication(try IKEAuthentication(decoding: &reader))
        case .nonce: self = .nonce(try IKENonce(decoding: &reader))
        case .notify: self = .notify(try IKENotify(decoding: &reader))
        case .delete: self = .delete(try IKEDelete(decoding: &reader))
        case .vendorID: self = .vendorID(try IKEVendorID(decoding: &reader))
        case .trafficSelectorInitiator: self = .trafficSelectorInitiator(try IKETrafficSelectors(decoding: &reader))
        case .trafficSelectorResponder: self = .trafficSelectorResponder(try IKETrafficSelectors(decoding: &reader))
        case .encrypted: self = .encrypted(try IKEEncrypted(firstPayload: following, decoding: &reader))
        case .configuration: self = .configuration(try IKEConfiguration(decoding: &reader))
        case .eap: self = .eap(try IKEEAP(decoding: &reader))
        case .encryptedFragment:
            self = .encryptedFragment(try IKEEncryptedFragment(firstPayload: following, decoding: &reader))
        case .noNextPayload, .unknown:
            self = .unknown(type: type.rawValue, critical: critical, body: reader.readRemaining())
        }
    }

    /// Encodes the body (without the generic header).
    func encodeBody(into writer: inout IKEByteWriter) {
        switch self {
        case .securityAssociation(let p): p.encode(into: &writer)
        case .keyExchange(let p): p.encode(into: &writer)
        case .identificationInitiator(let p), .identificationResponder(let p): p.encode(into: &writer)
        case .certificate(let p): p.encode(into: &writer)
        case .certificateRequest(let p): p.encode(into: &writer)
        case .authentication(let p): p.encode(into: &writer)
        case .nonce(let p): p.encode(into: &writer)
        case .notify(let p): p.encode(into: &writer)
        case .delete(let p): p.encode(into: &writer)
        case .vendorID(let p): p.encode(into: &writer)
        case .trafficSelectorInitiator(let p), .trafficSelectorResponder(let p): p.encode(into: &writer)
        case .encrypted(let p): p.encode(into: &writer)
        case .configuration(let p): p.encode(into: &writer)
        case .eap(let p): p.encode(into: &writer)
        case .encryptedFragment(let p): p.encode(into: &writer)
        case .unknown(_, _, let body): writer.write(body)
        }
    }

    /// RFC 7296 §2.5: the type of the first unknown payload whose critical bit is set, if any
    /// (the data of the UNSUPPORTED_CRITICAL_PAYLOAD notification).
    public static func firstUnsupportedCritical(in payloads: [IKEPayload]) -> UInt8? {
        for case .unknown(let type, true, _) in payloads { return type }
        return nil
    }
}
