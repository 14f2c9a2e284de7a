import KernelModel
import NetTypes
import TestSupport
import Topology

extension Fixture {
    /// The sequence number and port id of a captured request, read from its header, so the encoder is asked
    /// to reproduce exactly that message.
    static func header(_ capture: String) -> (seq: UInt32, pid: UInt32) {
        let b = hex(capture)
        let seq = UInt32(b[8]) | UInt32(b[9]) << 8 | UInt32(b[10]) << 16 | UInt32(b[11]) << 24
        let pid = UInt32(b[12]) | UInt32(b[13]) << 8 | UInt32(b[14]) << 16 | UInt32(b[15]) << 24
        return (seq, pid)
    }
}
