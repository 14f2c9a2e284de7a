// Round trip of every RFC 7296 §3 payload type and RFC 7383 SKF, plus typed accessors.
import CryptoCore
@testable import IKEv2
import NetTypes
import Testing

@Suite("Payload round trips")
struct RoundTripTests {
    static let v6a = IKEIPv6Address(bytes: [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1])!
    static let v6b = IKEIPv6Address(bytes: [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0xff, count: 12))!

    /// One of every payload the codec knows (outer chain, SK last).
    static let everyPayload: [IKEPayload] = [
        .securityAssociation(IKESecurityAssociation(proposals: [
            IKEProposal(number: 1, protocolID: .ike, transforms: [
                IKETransform(.encryption(.aesGCM16(keyBits: 128))), IKETransform(.prf(.hmacSHA384)),
                IKETransform(.keyExchange(.curve25519)),
            ]),
            IKEProposal(number: 2, protocolID: .ike, spi: [1, 2, 3, 4, 5, 6, 7, 8], transforms: [
                IKETransform(.encryption(.aesCBC(keyBits: 256))), IKETransform(.integrity(.hmacSHA256_128)),
                IKETransform(type: 1, id: 999, attributes: [.tv(type: 99, value: 7), .tlv(type: 300, value: [9, 9])]),
                IKETransform(type: 200, id: 0),
            ]),
            IKEProposal(number: 3, protocolID: .esp, spi: [0xde, 0xad, 0xbe, 0xef], transforms: [
                IKETransform(.encryption(.chacha20Poly1305)), IKETransform(.extendedSequenceNumbers(true)),
            ]),
            IKEProposal(number: 4, protocolID: .ah, spi: [0, 0, 0, 1], transforms: []),
        ])),
        .keyExchange(IKEKeyExchange(group: .ecp384, data: [UInt8](repeating: 0xab, count: 96))),
        .identificationInitiator(IKEIdentification(.ipv4(IKEIPv4Address(192, 0, 2, 1)))),
        .identificationResponder(IKEIdentification(.ipv6(v6a))),
        .certificate(IKECertificate(encoding: .x509Signature, data: [0x30, 0x03, 0x02, 0x01, 0x00])),
        .certificateRequest(IKECertificateRequest(encoding: .x509Signature, authorityData: [UInt8](repeating: 7, count: 40))),
        .authentication(IKEAuthentication(method: .sharedKeyMIC, data: [UInt8](repeating: 0x11, count: 32))),
        .nonce(IKENonce(data: [UInt8](repeating: 0x42, count: 32))),
        .notify(IKENotify(protocolID: .esp, spi: [1, 2, 3, 4], type: .rekeySA)),
        .notify(IKENotify(type: .cookie, data: [1, 2, 3])),
        .notify(IKENotify(type: .invalidKEPayload, data: [0, 19])),
        .notify(IKENotify(type: .unknown(40000), data: [0xff])),
        .delete(.childSAs([1, 2, 3])),
        .delete(.ikeSA),
        .vendorID(IKEVendorID(data: Array("viaduct".utf8))),
        .trafficSelectorInitiator(IKETrafficSelectors([
            .ipv4(ipProtocol: 6, startPort: 443, endPort: 443, start: IKEIPv4Address(10, 0, 0, 0),
                  end: IKEIPv4Address(10, 0, 0, 255)),
            .anyIPv4,
        ])),
        .trafficSelectorResponder(IKETrafficSelectors([
            .ipv6(ipProtocol: 17, startPort: 65535, endPort: 0, start: v6a, end: v6b),
            .unknown(type: 10, secondOctet: 0, body: [1, 2, 3, 4, 5]),
        ])),
        .configuration(IKEConfiguration(configurationType: IKEConfiguration.cfgRequest, attributes: [
            .init(type: 1), .init(type: 3), .init(type: 8, value: [UInt8](repeating: 0, count: 17)),
        ])),
        .eap(IKEEAP(message: [1, 0, 0, 5, 1])),
        .unknown(type: 49, critical: false, body: [1, 2, 3]),
        .encrypted(IKEEncrypted(firstPayload: .identificationInitiator, data: [UInt8](repeating: 0xcc, count: 40))),
    ]

    static func message(_ payloads: [IKEPayload]) -> IKEMessage {
        IKEMessage(
            header: IKEHeader(initiatorSPI: IKESPI(0x0102_0304_0506_0708), responderSPI: IKESPI(0x1112_1314_1516_1718),
                              exchangeType: .ikeAuth, flags: [.initiator], messageID: 7),
            payloads: payloads)
    }

    @Test("A message carrying every payload type round-trips byte-exactly")
    func everyPayloadRoundTrip() throws {
        let m = Self.message(Self.everyPayload)
        let bytes = try m.encoded()
        let decoded = try IKEMessage(decoding: bytes)
        #expect(decoded.payloads == m.payloads)
        #expect(decoded.header.nextPayload == .securityAssociation)
        #expect(decoded.header.length == UInt32(bytes.count))
        #expect(try decoded.encoded() == bytes)
        #expect(decoded.unsupportedCriticalPayload == nil)
    }

    @Test("Each payload type round-trips alone", arguments: everyPayload.indices)
    func singlePayload(index: Int) throws {
        let payload = Self.everyPayload[index]
        let m = Self.message([payload])
        let decoded = try IKEMessage(decoding: try m.encoded())
        #expect(decoded.payloads == [payload])
        if !payload.isEncrypted {
            let inner = try IKEMessage.encodeInnerPayloads([payload])
            #expect(inner.firstPayload == payload.type)
            #expect(try IKEMessage.decodeInnerPayloads(inner.bytes, firstPayload: inner.firstPayload) == [payload])
        }
    }

    @Test("SKF (RFC 7383) round-trips; fragment numbers are validated")
    func encryptedFragment() throws {
        let first = IKEEncryptedFragment(firstPayload: .identificationInitiator, fragmentNumber: 1, totalFragments: 3,
                                         data: [UInt8](repeating: 5, count: 50))
        let later = IKEEncryptedFragment(firstPayload: .noNextPayload, fragmentNumber: 3, totalFragments: 3, data: [1])
        for skf in [first, later] {
            let m = Self.message([.encryptedFragment(skf)])
            let bytes = try m.encoded()
            let decoded = try IKEMessage(decoding: bytes)
            #expect(decoded.encryptedFragment == skf)
            #expect(decoded.header.nextPayload == .encryptedFragment)
        }
        for (n, total) in [(0, 3), (4, 3), (1, 0)] as [(UInt16, UInt16)] {
            var bytes = try Self.message([.encryptedFragment(first)]).encoded()
            bytes[32] = UInt8(n >> 8); bytes[33] = UInt8(n & 0xff)
            bytes[34] = UInt8(total >> 8); bytes[35] = UInt8(total & 0xff)
            #expect(decodeError(bytes)?.code == .invalidFragmentNumber)
        }
    }

    @Test("Unknown payloads are kept; a critical one is reported for UNSUPPORTED_CRITICAL_PAYLOAD")
    func unknownCritical() throws {
        let payloads: [IKEPayload] = [
            .nonce(IKENonce(data: [1, 2])), .unknown(type: 60, critical: false, body: []),
            .unknown(type: 61, critical: true, body: [7, 7]), .notify(IKENotify(type: .initialContact)),
        ]
        let bytes = try Self.message(payloads).encoded()
        #expect(bytes[28 + 6 + 4 + 1] == 0x80)  // the critical bit of payload 61's generic header
        let decoded = try IKEMessage(decoding: bytes)
        #expect(decoded.payloads == payloads)
        #expect(decoded.unsupportedCriticalPayload == 61)
        let inner = try IKEMessage.encodeInnerPayloads(payloads)
        let innerDecoded = try IKEMessage.decodeInnerPayloads(inner.bytes, firstPayload: inner.firstPayload)
        #expect(IKEPayload.firstUnsupportedCritical(in: innerDecoded) == 61)
    }

    @Test("Identification typed accessors; unknown ID types are not an error")
    func identities() throws {
        let cases: [IKEIdentity] = [
            .ipv4(IKEIPv4Address(198, 51, 100, 1)), .fqdn("east.example.net"), .rfc822("ops@example.net"),
            .ipv6(Self.v6a), .derASN1DN([0x30, 0x00]), .derASN1GN([0x82, 0x01, 0x61]), .keyID([1, 2, 3]),
        ]
        let rawTypes: [UInt8] = [1, 2, 3, 5, 9, 10, 11]
        for (identity, raw) in zip(cases, rawTypes) {
            let id = IKEIdentification(identity)
            #expect(id.type.rawValue == raw)
            let decoded = try IKEMessage.decodeInnerPayloads(
                try IKEMessage.encodeInnerPayloads([.identificationInitiator(id)]).bytes, firstPayload: .identificationInitiator)
            #expect(decoded.first?.idi?.identity == identity)
        }
        #expect(IKEIdentification(type: .ipv4Address, data: [1, 2, 3]).identity == nil)
        #expect(IKEIdentification(type: .fqdn, data: [0xff, 0xfe]).identity == nil)
        let odd = IKEIdentification(type: IKEIDType(rawValue: 77), data: [1])
        #expect(odd.type == .unknown(77) && odd.identity == nil)
        let bytes = try Self.message([.identificationResponder(odd)]).encoded()
        #expect(try IKEMessage(decoding: bytes).payloads == [.identificationResponder(odd)])
        #expect(IKEIPv4Address(192, 0, 2, 1).description == "192.0.2.1")
        #expect(Self.v6a.description == "2001:db8:0:0:0:0:0:1")
    }

    @Test("Transforms map to and from every CryptoCore algorithm")
    func transformMapping() {
        var algorithms: [IKETransformAlgorithm] = [
            .encryption(.chacha20Poly1305), .encryption(.tripleDES), .extendedSequenceNumbers(false),
            .extendedSequenceNumbers(true),
        ]
        for bits in [128, 192, 256] {
            algorithms += [.encryption(.aesGCM16(keyBits: bits)), .encryption(.aesCBC(keyBits: bits))]
        }
        algorithms += PRFAlgorithm.allCases.map { .prf($0) }
        algorithms += IntegrityAlgorithm.allCases.map { .integrity($0) }
        algorithms += KeyExchangeGroup.allCases.map { .keyExchange($0) }
        for algorithm in algorithms {
            let transform = IKETransform(algorithm)
            #expect(transform.algorithm == algorithm)
            #expect(transform.transformType != nil)
        }
        #expect(IKETransform(.encryption(.aesGCM16(keyBits: 256))).keyLength == 256)
        #expect(IKETransform(type: 1, id: 20).algorithm == nil)  // GCM without key length
        #expect(IKETransform(type: 2, id: 5, attributes: [.keyLength(128)]).algorithm == nil)
        #expect(IKETransform(type: 1, id: 12, attributes: [.keyLength(128), .tv(type: 99, value: 1)]).algorithm == nil)
        #expect(IKETransform(type: 4, id: 9999).algorithm == nil)
        #expect(IKETransform(type: 9, id: 1).algorithm == nil)
    }

    @Test("Notify types: every named value is unique and maps back; registry numbers used by the engine")
    func notifyTypes() {
        let values = IKENotifyType.allKnown.map(\.rawValue)
        #expect(Set(values).count == values.count)
        for type in IKENotifyType.allKnown { #expect(IKENotifyType(rawValue: type.rawValue) == type) }
        #expect(IKENotifyType(rawValue: 16418) == .childlessIKEv2Supported)
        #expect(IKENotifyType(rawValue: 16430) == .ikev2FragmentationSupported)
        #expect(IKENotifyType(rawValue: 16431) == .signatureHashAlgorithms)
        #expect(IKENotifyType(rawValue: 16438) == .intermediateExchangeSupported)
        #expect(IKENotifyType(rawValue: 17) == .invalidKEPayload && IKENotifyType.invalidKEPayload.isError)
        #expect(IKENotifyType(rawValue: 12345) == .unknown(12345))
        #expect(IKENotifyType.unknown(8000).isError && !IKENotifyType.cookie.isError)
    }

    @Test("Exchange, payload and protocol numbers preserve unknown values")
    func enums() {
        for raw in UInt8.min...UInt8.max {
            #expect(IKEExchangeType(rawValue: raw).rawValue == raw)
            #expect(IKEPayloadType(rawValue: raw).rawValue == raw)
            #expect(IKEProtocolID(rawValue: raw).rawValue == raw)
            #expect(IKEIDType(rawValue: raw).rawValue == raw)
            #expect(IKEAuthMethod(rawValue: raw).rawValue == raw)
            #expect(IKECertificateEncoding(rawValue: raw).rawValue == raw)
        }
        #expect(IKEExchangeType(rawValue: 99) == .unknown(99))
    }

    @Test("Header flags and unknown exchange types are kept verbatim")
    func headerVerbatim() throws {
        var m = Self.message([.nonce(IKENonce(data: [1]))])
        m.header.flags = IKEHeader.Flags(rawValue: 0x3F)
        m.header.exchangeType = .unknown(200)
        m.header.minorVersion = 5
        let decoded = try IKEMessage(decoding: try m.encoded())
        #expect(decoded.header.flags.rawValue == 0x3F)
        #expect(decoded.header.flags.contains(.version))
        #expect(decoded.header.exchangeType == .unknown(200))
        #expect(decoded.header.minorVersion == 5)
    }

    @Test("Encoding refuses values that do not fit their fields")
    func encodeErrors() {
        let tooManyTS = IKETrafficSelectors(Array(repeating: .anyIPv4, count: 256))
        #expect(throws: IKEEncodeError.self) { try Self.message([.trafficSelectorInitiator(tooManyTS)]).encoded() }
        let huge = IKENonce(data: [UInt8](repeating: 0, count: 70_000))
        #expect(throws: IKEEncodeError.self) { try Self.message([.nonce(huge)]).encoded() }
        let skNotLast: [IKEPayload] = [.encrypted(IKEEncrypted(firstPayload: .nonce, data: [])), .nonce(IKENonce(data: [1]))]
        #expect(throws: IKEEncodeError.self) { try Self.message(skNotLast).encoded() }
        #expect(throws: IKEEncodeError.self) {
            try IKEMessage.encodeInnerPayloads([.encrypted(IKEEncrypted(firstPayload: .noNextPayload, data: []))])
        }
        let badDelete = IKEDelete(protocolID: .esp, spiSize: 4, spis: [[1, 2]])
        #expect(throws: IKEEncodeError.self) { try Self.message([.delete(badDelete)]).encoded() }
    }
}
