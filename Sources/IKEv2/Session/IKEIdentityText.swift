// RFC 7296 §3.5: identities as an engineer writes them, and the comparison used to check a
// peer's IDi/IDr against configuration.

public enum IKEIdentityText {
    public static func describe(_ identity: IKEIdentity) -> String {
        switch identity {
        case .ipv4(let a): "\(a)"
        case .ipv6(let a): "\(a)"
        case .fqdn(let s): s
        case .rfc822(let s): s
        case .derASN1DN(let d): "DN(\(d.count) bytes)"
        case .derASN1GN(let d): "GN(\(d.count) bytes)"
        case .keyID(let d): "keyid:" + d.map { String($0, radix: 16) }.joined()
        }
    }

    public static func describe(_ identification: IKEIdentification) -> String {
        identification.identity.map(describe) ?? "\(identification.type) (\(identification.data.count) bytes)"
    }

    /// FQDN and RFC822 identities compare case-insensitively (RFC 4343), trailing dot ignored;
    /// everything else byte for byte.
    public static func matches(_ identification: IKEIdentification, _ expected: IKEIdentity) -> Bool {
        guard let got = identification.identity else { return false }
        switch (got, expected) {
        case (.fqdn(let a), .fqdn(let b)), (.rfc822(let a), .rfc822(let b)):
            return normalise(a) == normalise(b)
        default:
            return got == expected
        }
    }

    private static func normalise(_ s: String) -> String {
        var t = s.lowercased()
        if t.hasSuffix(".") { t.removeLast() }
        return t
    }
}
