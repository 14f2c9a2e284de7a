import CryptoCore
import DataplaneContract
@testable import KernelDataplane
import IKEv2
import KernelModel
import NetTypes
import Testing
import Topology

/// The kernel data plane's translation of a negotiated Child SA into two XFRM states, checked
/// field by field and through the bytes the kernel would receive (encoded, then decoded back).
/// No root, no kernel.
struct KernelSAStatesTests {
    static let local: [UInt8] = [192, 0, 2, 1]
    static let peer: [UInt8] = [192, 0, 2, 2]

    /// Key material from a seeded generator: distinct per direction, reproducible per seed.
    static func key(_ count: Int, seed: UInt64) -> SecureBytes {
        var random = SeededRandomSource(seed: seed)
        var bytes = [UInt8](repeating: 0, count: count)
        for i in 0..<count { bytes[i] = UInt8(truncatingIfNeeded: random.next()) }
        return SecureBytes(bytes)
    }

    static func parameters(_ encryption: EncryptionAlgorithm = .aesGCM16(keyBits: 256), integrity: IntegrityAlgorithm? = nil,
                           esn: Bool = false, encap: Bool = false, localPort: UInt16 = 500, peerPort: UInt16 = 500,
                           local: [UInt8] = local, peer: [UInt8] = peer, lifetime: Double = 3600,
                           keyLength: Int? = nil) -> ChildSAParameters {
        let n = keyLength ?? encryption.keyMaterialLength
        return ChildSAParameters(
            inboundSPI: 0xc000_0001, outboundSPI: 0xd000_0002, encryption: encryption, integrity: integrity,
            extendedSequenceNumbers: esn,
            inboundEncryptionKey: key(n, seed: 1), outboundEncryptionKey: key(n, seed: 2),
            inboundIntegrityKey: integrity.map { key($0.keyLength, seed: 3) },
            outboundIntegrityKey: integrity.map { key($0.keyLength, seed: 4) },
            local: IKEEndpoint(address: local, port: localPort), peer: IKEEndpoint(address: peer, port: peerPort),
            udpEncapsulation: encap, lifetimeSeconds: lifetime)
    }

    static func bytes(_ s: SecureBytes) -> [UInt8] { s.withUnsafeBytes { Array($0) } }

    @Test("AES-GCM-256 over an xfrm interface: directions, SPIs, reqid = if_id, af-unspec, replay, lifetime")
    func aesGCMOverXfrm() throws {
        let sa = Self.parameters(lifetime: 3599.2)
        let s = try KernelSAStates(sa, binding: KernelSABinding(kind: .xfrm, interfaceID: 42))
        #expect(s.inbound.source == IPAddress("192.0.2.2"))
        #expect(s.inbound.destination == IPAddress("192.0.2.1"))
        #expect(s.inbound.spi == 0xc000_0001)
        #expect(s.outbound.source == IPAddress("192.0.2.1"))
        #expect(s.outbound.destination == IPAddress("192.0.2.2"))
        #expect(s.outbound.spi == 0xd000_0002)
        for state in [s.inbound, s.outbound] {
            #expect(state.reqid == 42)
            #expect(state.interfaceID == 42)
            #expect(state.mark == nil)
            #expect(state.mode == .tunnel)
            #expect(state.ipsecProtocol == .esp)
            #expect(state.flags.contains(.addressFamilyUnspecified))
            #expect(state.encapsulation == nil)
            #expect(state.selector == nil)
            #expect(state.lifetime.hardAddSeconds == 3600)
            #expect(state.lifetime.softAddSeconds == 0)
        }
        #expect(s.inbound.algorithms == .aead(name: "rfc4106(gcm(aes))", key: Self.bytes(sa.inboundEncryptionKey), icvBits: 128))
        #expect(s.outbound.algorithms == .aead(name: "rfc4106(gcm(aes))", key: Self.bytes(sa.outboundEncryptionKey), icvBits: 128))
        #expect(Self.bytes(sa.inboundEncryptionKey).count == 36)
        #expect(s.inbound.replay == .window(128))
        #expect(s.outbound.replay == .window(0))
    }

    @Test("VTI binding: both states carry the full mark and no if_id")
    func vtiMark() throws {
        let s = try KernelSAStates(Self.parameters(), binding: KernelSABinding(kind: .vti, interfaceID: 7))
        for state in [s.inbound, s.outbound] {
            #expect(state.mark == XfrmMark(value: 7, mask: 0xffff_ffff))
            #expect(state.interfaceID == nil)
            #expect(state.reqid == 7)
        }
    }

    @Test("UDP encapsulation: ports follow each state's direction; IKE's 500 becomes 4500, a NAT port is kept")
    func encapsulationPorts() throws {
        let s = try KernelSAStates(Self.parameters(encap: true, localPort: 500, peerPort: 4501),
                                   binding: KernelSABinding(kind: .xfrm, interfaceID: 1))
        #expect(s.outbound.encapsulation == XfrmEncapsulation(sourcePort: 4500, destinationPort: 4501))
        #expect(s.inbound.encapsulation == XfrmEncapsulation(sourcePort: 4501, destinationPort: 4500))
        #expect(s.inbound.encapsulation?.type == XfrmEncapsulation.espInUDP)
    }

    @Test("ChaCha20-Poly1305: the kernel's rfc7539esp name and a 288-bit key (key + salt)")
    func chacha() throws {
        let sa = Self.parameters(.chacha20Poly1305)
        let s = try KernelSAStates(sa, binding: KernelSABinding(kind: .xfrm, interfaceID: 1))
        guard case .aead(let name, let key, let icv)? = s.outbound.algorithms else {
            Issue.record("expected an AEAD, got \(String(describing: s.outbound.algorithms))")
            return
        }
        #expect(name == "rfc7539esp(chacha20,poly1305)")
        #expect(key.count == 36)
        #expect(icv == 128)
    }

    @Test("AES-CBC with HMAC-SHA2: cipher + auth-trunc with RFC 4868 truncation", arguments: [
        (IntegrityAlgorithm.hmacSHA256_128, "hmac(sha256)", UInt32(128)),
        (.hmacSHA384_192, "hmac(sha384)", 192),
        (.hmacSHA512_256, "hmac(sha512)", 256),
    ])
    func cbcHMAC(_ integrity: IntegrityAlgorithm, _ auth: String, _ trunc: UInt32) throws {
        let sa = Self.parameters(.aesCBC(keyBits: 128), integrity: integrity)
        let s = try KernelSAStates(sa, binding: KernelSABinding(kind: .xfrm, interfaceID: 1))
        #expect(s.inbound.algorithms == .cipherAndAuth(cipher: "cbc(aes)", cipherKey: Self.bytes(sa.inboundEncryptionKey),
                                                       auth: auth, authKey: Self.bytes(try #require(sa.inboundIntegrityKey)),
                                                       truncationBits: trunc))
        #expect(Self.bytes(sa.inboundEncryptionKey).count == 16)
    }

    @Test("ESN: both states get the 64-bit counter and a non-zero window")
    func extendedSequenceNumbers() throws {
        let s = try KernelSAStates(Self.parameters(esn: true), binding: KernelSABinding(kind: .xfrm, interfaceID: 1), replayWindow: 256)
        #expect(s.inbound.replay == .extendedSequenceNumbers(window: 256))
        #expect(s.outbound.replay == .extendedSequenceNumbers(window: 256))
    }

    @Test("IPv6 underlay: states of family inet6")
    func ipv6() throws {
        let l: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]
        let p: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [2]
        let s = try KernelSAStates(Self.parameters(local: l, peer: p), binding: KernelSABinding(kind: .xfrm, interfaceID: 1))
        #expect(s.outbound.source == IPAddress("2001:db8::1"))
        #expect(s.inbound.source == IPAddress("2001:db8::2"))
    }

    @Test("what the kernel receives decodes back to the same states (keys, ESN, encap, if_id, mark)", arguments: [
        (false, false, KernelSABinding.Kind.xfrm), (true, true, .xfrm), (false, true, .vti), (true, false, .vti),
    ])
    func encodedRoundTrip(_ esn: Bool, _ encap: Bool, _ kind: KernelSABinding.Kind) throws {
        let s = try KernelSAStates(Self.parameters(esn: esn, encap: encap), binding: KernelSABinding(kind: kind, interfaceID: 9))
        for state in [s.inbound, s.outbound] {
            let message = try state.addRequest().message
            #expect(message.type == XfrmMessageType.newSA)
            let decoded = try XfrmState(decoding: message)
            #expect(decoded == state)
        }
    }

    @Test("refusals: wrong key length, CBC without integrity, AEAD with integrity, mixed families, bad window")
    func refusals() {
        let x = KernelSABinding(kind: .xfrm, interfaceID: 1)
        func code(_ body: () throws -> Void) -> DataplaneError.Code? {
            do { try body(); return nil } catch let error as DataplaneError { return error.code } catch {
                Issue.record("unexpected error \(error)")
                return nil
            }
        }
        #expect(code { _ = try KernelSAStates(Self.parameters(keyLength: 32), binding: x) } == .invalidSA)
        #expect(code { _ = try KernelSAStates(Self.parameters(.aesCBC(keyBits: 256)), binding: x) } == .unsupportedSA)
        #expect(code { _ = try KernelSAStates(Self.parameters(integrity: .hmacSHA256_128), binding: x) } == .unsupportedSA)
        let v6: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 12)
        #expect(code { _ = try KernelSAStates(Self.parameters(peer: v6), binding: x) } == .unsupportedSA)
        #expect(code { _ = try KernelSAStates(Self.parameters(peer: [1, 2, 3]), binding: x) } == .invalidSA)
        #expect(code { _ = try KernelSAStates(Self.parameters(), binding: x, replayWindow: 0) } == .invalidSA)
        #expect(code { _ = try KernelSAStates(Self.parameters(), binding: x) } == nil)
    }

    @Test("lifetimes: seconds rounded up; none, zero and non-finite mean unlimited")
    func lifetimes() {
        #expect(KernelSAStates.lifetime(seconds: 1.0).hardAddSeconds == 1)
        #expect(KernelSAStates.lifetime(seconds: 28800.01).hardAddSeconds == 28801)
        #expect(KernelSAStates.lifetime(seconds: 0) == .unlimited)
        #expect(KernelSAStates.lifetime(seconds: .infinity) == .unlimited)
        #expect(KernelSAStates.lifetime(seconds: -5) == .unlimited)
    }

    @Test("a binding is an if_id for xfrm interfaces and a full mark for VTIs, never both")
    func bindingKinds() {
        #expect(KernelSABinding(kind: .xfrm, interfaceID: 5).stateInterfaceID == 5)
        #expect(KernelSABinding(kind: .xfrm, interfaceID: 5).stateMark == nil)
        #expect(KernelSABinding(kind: .vti, interfaceID: 5).stateInterfaceID == nil)
        #expect(KernelSABinding(kind: .vti, interfaceID: 5).stateMark == XfrmMark(value: 5))
    }

    @Test("counters come from curlft and xfrm_stats of a state message; truncation is an error")
    func countersFromDump() throws {
        let s = try KernelSAStates(Self.parameters(), binding: KernelSABinding(kind: .xfrm, interfaceID: 1))
        var message = try s.inbound.addRequest().message
        message.type = XfrmMessageType.newSA
        func put64(_ v: UInt64, at o: Int) { for i in 0..<8 { message.payload[o + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }
        func put32(_ v: UInt32, at o: Int) { for i in 0..<4 { message.payload[o + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) } }
        put64(123_456, at: 160)
        put64(789, at: 168)
        put32(3, at: 196)
        put32(5, at: 200)
        let usage = try KernelSACounters.usage(of: message)
        #expect(usage.bytes == 123_456)
        #expect(usage.packets == 789)
        #expect(usage.replay == 3)
        #expect(usage.integrity == 5)
        var short = message
        short.payload = Array(message.payload[0..<170])
        #expect(throws: NetlinkDecodeError.self) { _ = try KernelSACounters.usage(of: short) }
    }
}
