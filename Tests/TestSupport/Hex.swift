/// Decodes hex as printed in RFCs and captures (spaces, newlines and colons allowed). Test-only:
/// fixed literals, so a bad digit is a bug in the test and yields an empty array that fails it.
public func hex(_ s: String) -> [UInt8] {
    let digits = s.filter { $0.isHexDigit }
    guard digits.count % 2 == 0 else { return [] }
    var out: [UInt8] = []
    var index = digits.startIndex
    while index < digits.endIndex {
        let next = digits.index(index, offsetBy: 2)
        guard let byte = UInt8(digits[index..<next], radix: 16) else { return [] }
        out.append(byte)
        index = next
    }
    return out
}

/// Lower-case hex of bytes, no separators.
public func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
}
