import CryptoCore

/// Algorithm names in strongSwan's proposal keywords, the spelling operators see in
/// topologies and in `swanctl --list-sas`.
public enum AlgorithmText {
    public static func encryption(_ e: EncryptionAlgorithm) -> String {
        switch e {
        case .aesGCM16(let bits): "aes\(bits)gcm16"
        case .aesCBC(let bits): "aes\(bits)"
        case .chacha20Poly1305: "chacha20poly1305"
        case .tripleDES: "3des"
        }
    }

    public static func integrity(_ i: IntegrityAlgorithm) -> String {
        switch i {
        case .hmacSHA256_128: "sha256"
        case .hmacSHA384_192: "sha384"
        case .hmacSHA512_256: "sha512"
        case .hmacSHA1_96: "sha1"
        case .hmacMD5_96: "md5"
        }
    }
}
