import NetTypes

extension IPAddress {
    /// From 4 or 16 network-order bytes (what sockets and the engine's endpoints hold).
    init?(networkBytes b: [UInt8]) {
        switch b.count {
        case 4: self = .v4(b.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        case 16:
            self = .v6(b[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }, b[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        default: return nil
        }
    }
}
