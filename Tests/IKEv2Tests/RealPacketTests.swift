// Byte-exact decoding of the real strongSwan exchange (RFC 7296 §3), checked against tshark's dissection
// in /work/shared/labs/strongswan/capture/ike-exchange-full.txt, and identical re-encoding.
import CryptoCore
@testable import IKEv2
import NetTypes
import TestSupport
import Testing

@Suite("Real strongSwan packets")
struct RealPacketTests {
    let ispi = IKESPI(0x34f8_571f_f6f0_7cfe)
    let rspi = IKESPI(0x4b67_b541_510c_e5f9)

    @Test("IKE_SA_INIT request (frame 1) decodes like tshark and re-encodes identically")
    func ikeSAInitRequest() throws {
        let bytes = Fixtures.ikeSAInitRequest
        let m = try IKEMessage(decoding: bytes)
        #expect(m.header.initiatorSPI == ispi)
        #expect(m.header.responderSPI == .zero)
        #expect(m.header.nextPayload == .securityAssociation)
        #expect(m.header.majorVersion == 2 && m.header.minorVersion == 0)
        #expect(m.header.exchangeType == .ikeSAInit)
        #expect(m.header.flags == [.initiator])
        #expect(m.header.flags.rawValue == 0x08)
        #expect(m.header.messageID == 0)
        #expect(m.header.length == 272)
        #expect(m.payloads.map(\.type) == [
            .securityAssociation, .keyExchange, .nonce, .notify, .notify, .notify, .notify, .notify,
        ])

        let sa = try #require(m.payloads[0].sa)
        #expect(sa.proposals.count == 1)
        let p = sa.proposals[0]
        #expect(p.number == 1)
        #expect(p.protocolID == .ike)
        #expect(p.spi.isEmpty)
        #expect(p.transforms == [
            IKETransform(type: 1, id: 20, attributes: [.keyLength(256)]),
            IKETransform(type: 2, id: 5),
            IKETransform(type: 4, id: 19),
            IKETransform(type: 4, id: 31),
        ])
        #expect(p.transforms.map(\.algorithm) == [
            .encryption(.aesGCM16(keyBits: 256)), .prf(.hmacSHA256), .keyExchange(.ecp256),
            .keyExchange(.curve25519),
        ])

        let ke = try #require(m.payloads[1].ke)
        #expect(ke.group == 19)
        #expect(ke.keyExchangeGroup == .ecp256)
        #expect(ke.data.count == 64)
        #expect(hexString(ke.data).hasPrefix("fde1fc17ff4a497a5bfeee5fba2d8fb6a01436f1e03357fabe2d07292e60629e3b287dd4"))

        let nonce = try #require(m.payloads[2].nonce)
        #expect(hexString(nonce.data) == "5965e1fcbdc0366af6e02f8279e050e6171f8573a2a20d783d4f6420a38259ce")

        let n = m.notifies
        #expect(n.map(\.type) == [
            .natDetectionSourceIP, .natDetectionDestinationIP, .ikev2FragmentationSupported,
            .signatureHashAlgorithms, .redirectSupported,
        ])
        #expect(n.map(\.type.rawValue) == [16388, 16389, 16430, 16431, 16406])
        #expect(n.allSatisfy { $0.protocolID == .unspecified && $0.spi.isEmpty })
        #expect(hexString(n[0].data) == "d5df8955e09d23989869cb62bca2868b76506089")
        #expect(hexString(n[1].data) == "e490edf558d962234e562554c38e11d34967a101")
        #expect(n[2].data.isEmpty)
        #expect(hexString(n[3].data) == "0002000300040005")
        #expect(n[4].data.isEmpty)
        #expect(m.unsupportedCriticalPayload == nil)

        #expect(try m.encoded() == bytes)
    }

    @Test("IKE_SA_INIT response (frame 2) decodes like tshark and re-encodes identically")
    func ikeSAInitResponse() throws {
        let bytes = Fixtures.ikeSAInitResponse
        let m = try IKEMessage(decoding: bytes)
        #expect(m.header.initiatorSPI == ispi)
        #expect(m.header.responderSPI == rspi)
        #expect(m.header.responderSPI.description == "4b67b541510ce5f9")
        #expect(m.header.exchangeType == .ikeSAInit)
        #expect(m.header.flags == [.response])
        #expect(m.header.isResponse && !m.header.isInitiator)
        #expect(m.header.messageID == 0)
        #expect(m.header.length == 297)
        #expect(m.payloads.map(\.type) == [
            .securityAssociation, .keyExchange, .nonce, .notify, .notify, .certificateRequest, .notify, .notify,
            .notify, .notify,
        ])

        let p = try #require(m.payloads[0].sa?.proposals.first)
        #expect(p.number == 1 && p.protocolID == .ike && p.spi.isEmpty)
        #expect(p.transforms.compactMap(\.algorithm) == [
            .encryption(.aesGCM16(keyBits: 256)), .prf(.hmacSHA256), .keyExchange(.ecp256),
        ])

        let ke = try #require(m.payloads[1].ke)
        #expect(ke.keyExchangeGroup == .ecp256 && ke.data.count == 64)
        #expect(hexString(ke.data).hasPrefix("777f6b6c6ef59bf0bdfde3bc35bcccbac769ed6df291dc5a503c5403745da1fea01578c2"))
        #expect(hexString(try #require(m.payloads[2].nonce).data)
            == "5604dbe32d9bb18a19b3d950a29fd6936412549da9f0db4955c41512294d5ae4")

        let certreq = try #require(m.payloads[5].certreq)
        #expect(certreq.encoding == .x509Signature)
        #expect(certreq.caKeyHashes?.map(hexString) == ["2108d6f28440fa3a753f653e1d355745ca982b2f"])

        let n = m.notifies
        #expect(n.map(\.type) == [
            .natDetectionSourceIP, .natDetectionDestinationIP, .ikev2FragmentationSupported,
            .signatureHashAlgorithms, .childlessIKEv2Supported, .multipleAuthSupported,
        ])
        #expect(n[4].type.rawValue == 16418)
        #expect(hexString(n[0].data) == "ace2a43aecdcc8b5209ce1462bd9e2a039c98240")
        #expect(hexString(n[1].data) == "9e9028dc519aff5aaa4e0edaf6317cf65270de8e")
        #expect(hexString(n[3].data) == "0002000300040005")

        #expect(try m.encoded() == bytes)
    }

    /// (fixture, exchange, message ID, flags, header length, SK payload length, first inner payload, IV)
    static let encrypted: [(String, IKEExchangeType, UInt32, UInt8, UInt32, Int, IKEPayloadType, String)] = [
        ("ikeAuthRequest", .ikeAuth, 1, 0x08, 814, 786, .identificationInitiator, "3d8fd0f5933b4924"),
        ("ikeAuthResponse", .ikeAuth, 1, 0x20, 735, 707, .identificationResponder, "36d4b18658670f64"),
        ("createChildSARequest", .createChildSA, 2, 0x08, 277, 249, .notify, "3d8fd0f6933b4924"),
        ("createChildSAResponse", .createChildSA, 2, 0x20, 257, 229, .securityAssociation, "36d4b18558670f64"),
        ("informationalDeleteChildRequest", .informational, 3, 0x08, 69, 41, .delete, "3d8fd0f7933b4924"),
        ("informationalDeleteChildResponse", .informational, 3, 0x20, 69, 41, .delete, "36d4b18458670f64"),
        ("informationalDeleteIKERequest", .informational, 4, 0x08, 65, 37, .delete, "3d8fd0f0933b4924"),
        ("informationalDeleteIKEResponse", .informational, 4, 0x20, 57, 29, .noNextPayload, "36d4b18358670f64"),
    ]

    @Test("Encrypted messages decode at the outer level (header + SK) and re-encode identically")
    func encryptedOuter() throws {
        for (name, exchange, mid, flags, length, skLength, first, iv) in Self.encrypted {
            let bytes = try #require(Fixtures.messages.first { $0.name == name }?.bytes)
            let m = try IKEMessage(decoding: bytes)
            #expect(m.header.initiatorSPI == ispi && m.header.responderSPI == rspi, "\(name)")
            #expect(m.header.nextPayload == .encrypted, "\(name)")
            #expect(m.header.exchangeType == exchange, "\(name)")
            #expect(m.header.messageID == mid, "\(name)")
            #expect(m.header.flags.rawValue == flags, "\(name)")
            #expect(m.header.length == length && bytes.count == Int(length), "\(name)")
            #expect(m.payloads.count == 1, "\(name)")
            let sk = try #require(m.encryptedPayload)
            #expect(sk.firstPayload == first, "\(name)")
            #expect(sk.data.count == skLength - 4, "\(name)")
            #expect(hexString(Array(sk.data.prefix(8))) == iv, "\(name)")
            #expect(try m.encoded() == bytes, "\(name)")
        }
    }

    @Test("IKE_AUTH request plaintext (frame 3): IDi, CERT, N, CERTREQ, IDr, AUTH, SA, TSi, TSr, N x3")
    func ikeAuthRequestInner() throws {
        let inner = Fixtures.ikeAuthRequestInner
        let payloads = try IKEMessage.decodeInnerPayloads(inner, firstPayload: .identificationInitiator)
        #expect(payloads.map(\.type) == [
            .identificationInitiator, .certificate, .notify, .certificateRequest, .identificationResponder,
            .authentication, .securityAssociation, .trafficSelectorInitiator, .trafficSelectorResponder,
            .notify, .notify, .notify,
        ])
        let idi = try #require(payloads[0].idi)
        #expect(idi.type == .fqdn)
        #expect(idi.identity == .fqdn("west.example.net"))
        let cert = try #require(payloads[1].cert)
        #expect(cert.encoding == .x509Signature)
        #expect(cert.data.count == 476 - 5)
        #expect(hexString(Array(cert.data.prefix(4))) == "308201d3")
        #expect(payloads[2].notify?.type == .initialContact)
        #expect(payloads[3].certreq?.caKeyHashes?.map(hexString) == ["2108d6f28440fa3a753f653e1d355745ca982b2f"])
        #expect(payloads[4].idr?.identity == .fqdn("east.example.net"))
        let auth = try #require(payloads[5].auth)
        #expect(auth.method == .digitalSignature)
        #expect(auth.data.count == 92 - 8)
        #expect(hexString(auth.data).hasPrefix("0c300a06082a8648ce3d040302304502204cbc7c37788d14e5458807fef5298e99be2c4a"))
        let p = try #require(payloads[6].sa?.proposals.first)
        #expect(p.protocolID == .esp && p.espSPI == 0xf80c_9d4c && p.number == 1)
        #expect(p.transforms.map(\.algorithm) == [.encryption(.aesGCM16(keyBits: 256)), .extendedSequenceNumbers(false)])
        #expect(payloads[7].tsi?.selectors == [.anyIPv4])
        #expect(payloads[8].tsr?.selectors == [.anyIPv4])
        #expect(payloads[9...].map { $0.notify?.type } == [
            .multipleAuthSupported, .eapOnlyAuthentication, .ikev2MessageIDSyncSupported,
        ])
        let reencoded = try IKEMessage.encodeInnerPayloads(payloads)
        #expect(reencoded.firstPayload == .identificationInitiator)
        #expect(reencoded.bytes == inner)
    }

    @Test("IKE_AUTH response plaintext (frame 4): IDr, CERT, AUTH, SA, TSi, TSr")
    func ikeAuthResponseInner() throws {
        let inner = Fixtures.ikeAuthResponseInner
        let payloads = try IKEMessage.decodeInnerPayloads(inner, firstPayload: .identificationResponder)
        #expect(payloads.map(\.type) == [
            .identificationResponder, .certificate, .authentication, .securityAssociation,
            .trafficSelectorInitiator, .trafficSelectorResponder,
        ])
        #expect(payloads[0].idr?.identity == .fqdn("east.example.net"))
        #expect(payloads[1].cert?.data.count == 477 - 5)
        #expect(payloads[2].auth?.method == .digitalSignature)
        #expect(payloads[2].auth.map { hexString($0.data) }?.hasPrefix("0c300a06082a8648ce3d0403023046022100833a7709") == true)
        let p = try #require(payloads[3].sa?.proposals.first)
        #expect(p.espSPI == 0xd21e_a791)
        #expect(payloads[4].tsi?.selectors == [.anyIPv4] && payloads[5].tsr?.selectors == [.anyIPv4])
        #expect(try IKEMessage.encodeInnerPayloads(payloads).bytes == inner)
    }

    @Test("CREATE_CHILD_SA plaintexts (frames 9, 10): REKEY_SA, SA with KE, Nonce, KE, TS")
    func createChildSAInner() throws {
        let req = try IKEMessage.decodeInnerPayloads(Fixtures.createChildSARequestInner, firstPayload: .notify)
        #expect(req.map(\.type) == [
            .notify, .securityAssociation, .nonce, .keyExchange, .trafficSelectorInitiator, .trafficSelectorResponder,
        ])
        let rekey = try #require(req[0].notify)
        #expect(rekey.type == .rekeySA && rekey.protocolID == .esp && rekey.espSPI == 0xf80c_9d4c)
        let p = try #require(req[1].sa?.proposals.first)
        #expect(p.espSPI == 0x259e_a1df)
        #expect(p.transforms.map(\.algorithm) == [
            .encryption(.aesGCM16(keyBits: 256)), .keyExchange(.ecp256), .keyExchange(.curve25519),
            .extendedSequenceNumbers(false),
        ])
        #expect(req[2].nonce.map { hexString($0.data) }
            == "110f69a223d577b27345bd38821d77e4e15726b4f57dea5c4b214727dc3a26bb")
        #expect(req[3].ke?.keyExchangeGroup == .ecp256)
        #expect(hexString(try #require(req[3].ke).data).hasPrefix("7aef68f56f8a95e45814a92d4a4fed05"))
        #expect(try IKEMessage.encodeInnerPayloads(req).bytes == Fixtures.createChildSARequestInner)

        let resp = try IKEMessage.decodeInnerPayloads(Fixtures.createChildSAResponseInner, firstPayload: .securityAssociation)
        #expect(resp.map(\.type) == [
            .securityAssociation, .nonce, .keyExchange, .trafficSelectorInitiator, .trafficSelectorResponder,
        ])
        #expect(resp[0].sa?.proposals.first?.espSPI == 0xc5c5_519b)
        #expect(resp[0].sa?.proposals.first?.transforms.count == 3)
        #expect(resp[1].nonce.map { hexString($0.data) }
            == "be2792370f8cc968977a1fa7109f41bae7046bf6943685f37892dc26dbdbdf73")
        #expect(hexString(try #require(resp[2].ke).data).hasPrefix("8bdaa53cdd80eff1fae17df1a71c99c2"))
        #expect(try IKEMessage.encodeInnerPayloads(resp).bytes == Fixtures.createChildSAResponseInner)
    }

    @Test("INFORMATIONAL plaintexts (frames 11, 12, 15, 16): Delete ESP, Delete IKE, empty")
    func informationalInner() throws {
        let d11 = try IKEMessage.decodeInnerPayloads(Fixtures.informationalDeleteChildRequestInner, firstPayload: .delete)
        #expect(d11 == [.delete(.childSAs([0xf80c_9d4c]))])
        #expect(d11.first?.delete?.espSPIs == [0xf80c_9d4c])
        let d12 = try IKEMessage.decodeInnerPayloads(Fixtures.informationalDeleteChildResponseInner, firstPayload: .delete)
        #expect(d12 == [.delete(.childSAs([0xd21e_a791]))])
        let d15 = try IKEMessage.decodeInnerPayloads(Fixtures.informationalDeleteIKERequestInner, firstPayload: .delete)
        #expect(d15 == [.delete(.ikeSA)])
        let d16 = try IKEMessage.decodeInnerPayloads(Fixtures.informationalDeleteIKEResponseInner, firstPayload: .noNextPayload)
        #expect(d16.isEmpty)
        for (payloads, bytes) in [
            (d11, Fixtures.informationalDeleteChildRequestInner), (d12, Fixtures.informationalDeleteChildResponseInner),
            (d15, Fixtures.informationalDeleteIKERequestInner), (d16, Fixtures.informationalDeleteIKEResponseInner),
        ] {
            #expect(try IKEMessage.encodeInnerPayloads(payloads).bytes == bytes)
        }
    }

    @Test("Every prefix of every real message is `truncated`; one extra octet is `lengthMismatch`")
    func truncation() {
        for (name, bytes) in Fixtures.messages {
            for cut in 0..<bytes.count {
                let error = decodeError(Array(bytes[..<cut]))
                #expect(error?.code == .truncated, "\(name) prefix \(cut): \(String(describing: error))")
            }
            #expect(decodeError(bytes + [0])?.code == .lengthMismatch, "\(name)")
            #expect(decodeError(bytes) == nil, "\(name)")
        }
    }

    @Test("Every proper prefix of every real inner chain fails to decode")
    func innerTruncation() {
        for (name, first, bytes) in Fixtures.innerChains where !bytes.isEmpty {
            for cut in 0..<bytes.count {
                let error = innerDecodeError(Array(bytes[..<cut]), first: IKEPayloadType(rawValue: first))
                #expect(error != nil && error?.code != .truncated, "\(name) prefix \(cut)")
            }
        }
    }
}
