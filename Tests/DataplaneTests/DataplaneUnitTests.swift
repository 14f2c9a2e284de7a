import CryptoCore
@testable import Dataplane
import DataplaneContract
import ESP
import Glibc
import IKEv2
import System
import Testing

/// What needs no root: layouts the syscalls depend on, and the requests the control plane must
/// refuse before anything touches a device.
struct DataplaneUnitTests {
    @Test("struct mmsghdr as declared in Swift has C's layout")
    func multiMessageHeaderLayout() {
        #expect(MemoryLayout<MultiMessageHeader>.stride == MemoryLayout<msghdr>.size + 8)
        #expect(MemoryLayout<MultiMessageHeader>.offset(of: \.length) == MemoryLayout<msghdr>.size)
        #expect(BatchSyscalls.table.recvmmsg != nil)
        #expect(BatchSyscalls.table.sendmmsg != nil)
    }

    @Test("interface names the kernel would refuse are refused first", arguments: ["", "0123456789abcdef", "a/b", "a b"])
    func badInterfaceNames(_ name: String) {
        #expect(throws: DataplaneError.self) { try TUNDevice(name: name) }
        do { _ = try TUNDevice(name: name) } catch { #expect(error.code == .invalidInterfaceName) }
    }

    @Test("packet batch slots are disjoint, aligned, and hold headroom + packet + tailroom")
    func batchSlots() {
        let batch = PacketBatch(capacity: 4, headroom: 16, packetSize: 1500 + 21)
        #expect(batch.slotSize >= 16 + 1500 + 21)
        #expect(batch.slotSize % 64 == 0)
        for i in 0..<3 {
            let a = batch.slot(i), b = batch.slot(i + 1)
            #expect(a.baseAddress.map { $0 + a.count } == b.baseAddress)
        }
    }

    @Test("install refuses what userspace ESP cannot carry")
    func refusals() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        try #require(fd >= 0)
        let plane = try UserspaceDataplane(socket: ESPSocket(adopting: FileDescriptor(taking: fd), local: IKEEndpoint(address: [192, 0, 2, 1], port: 4500)))
        var sa = ChildSAParameters(
            inboundSPI: 0x2000, outboundSPI: 0x2001, encryption: .aesGCM16(keyBits: 128), integrity: nil,
            extendedSequenceNumbers: true,
            inboundEncryptionKey: SecureBytes([UInt8](repeating: 1, count: 20)),
            outboundEncryptionKey: SecureBytes([UInt8](repeating: 2, count: 20)),
            inboundIntegrityKey: nil, outboundIntegrityKey: nil,
            local: IKEEndpoint(address: [192, 0, 2, 1], port: 4500), peer: IKEEndpoint(address: [192, 0, 2, 2], port: 4500),
            udpEncapsulation: true, lifetimeSeconds: 60)
        func code(_ sa: ChildSAParameters, peer: String = "p") -> DataplaneError.Code? {
            do { try plane.install(sa, peer: peer); return nil } catch { return error.code }
        }
        #expect(code(sa) == .unknownPeer)
        var plain = sa
        plain.udpEncapsulation = false
        #expect(code(plain) == .unsupportedSA)
        var cbc = sa
        cbc.encryption = .aesCBC(keyBits: 128)
        #expect(code(cbc) == .unsupportedSA)
        var v6 = sa
        v6.peer = IKEEndpoint(address: [UInt8](repeating: 0x20, count: 16), port: 4500)
        #expect(code(v6) == .unsupportedSA)
        sa.inboundEncryptionKey = SecureBytes([1, 2, 3])
        #expect(code(sa) == .invalidSA)
        #expect(plane.counters(inboundSPI: 0x2000) == nil)
        #expect(throws: DataplaneError.self) { try plane.activateOutbound(spi: 0x2001, peer: "p") }
    }
}
