import NetTypes

/// SPIs as strongSwan prints them (`swanctl --list-sas`: `c1a2b3c4_i`, 16 hex digits for IKE
/// SPIs), so a log line and a swanctl listing can be compared by eye or by grep.
public enum SPIText {
    public static func child(_ spi: ESPSPI) -> String { hex(UInt64(spi.rawValue), digits: 8) }
    public static func ike(_ spi: IKESPI) -> String { hex(spi.rawValue, digits: 16) }

    static func hex(_ v: UInt64, digits: Int) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, digits - s.count)) + s
    }
}
