import COpenSSL
import CryptoCore

/// The production `CryptoProvider`: maps Viaduct's IANA algorithm enums to the OpenSSL 3
/// conformances in this module. Stateless, hence `Sendable`; everything it makes is not, and
/// belongs to the caller's isolation domain.
public struct OpenSSLCryptoProvider: CryptoProvider {
    public init() {}

    public func makeKeyExchange<R: RandomSource>(_ group: KeyExchangeGroup, random: inout R) throws(CryptoError) -> any KeyExchange {
        switch group {
        case .modp1024, .modp1536, .modp2048, .modp3072, .modp4096:
            try MODPKeyExchange(group: group, random: &random)
        case .ecp256, .ecp384, .ecp521:
            try ECPKeyExchange(group: group, random: &random)
        case .curve25519, .curve448:
            try MontgomeryKeyExchange(group: group, random: &random)
        case .mlkem768, .mlkem1024:
            try MLKEMKeyExchange(group: group, random: &random)
        }
    }

    public func makeKeyExchange(_ group: KeyExchangeGroup, privateKey: SecureBytes) throws(CryptoError) -> any KeyExchange {
        switch group {
        case .modp1024, .modp1536, .modp2048, .modp3072, .modp4096:
            try MODPKeyExchange(group: group, privateKey: privateKey)
        case .ecp256, .ecp384, .ecp521:
            try ECPKeyExchange(group: group, privateKey: privateKey)
        case .curve25519, .curve448:
            try MontgomeryKeyExchange(group: group, privateKey: privateKey)
        case .mlkem768, .mlkem1024:
            try MLKEMKeyExchange(group: group, privateKey: privateKey)
        }
    }

    public func respondToKeyExchange<R: RandomSource>(_ group: KeyExchangeGroup, initiatorValue: [UInt8],
                                                      random: inout R) throws(CryptoError) -> KeyExchangeResponse {
        if group.isKEM { return try MLKEMKeyExchange.encapsulate(group: group, to: initiatorValue) }
        let ours = try makeKeyExchange(group, random: &random)
        return KeyExchangeResponse(value: ours.publicValue, sharedSecret: try ours.sharedSecret(peerPublicValue: initiatorValue))
    }

    public func makePRF(_ algorithm: PRFAlgorithm) throws(CryptoError) -> any PseudoRandomFunction {
        try HMACPseudoRandomFunction(algorithm: algorithm)
    }

    public func makeAEAD(_ algorithm: EncryptionAlgorithm, key: SecureBytes) throws(CryptoError) -> any AEADCipher {
        try OpenSSLAEADCipher(algorithm: algorithm, key: key)
    }

    public func makeCBC(_ algorithm: EncryptionAlgorithm, key: SecureBytes) throws(CryptoError) -> any CBCCipher {
        try OpenSSLCBCCipher(algorithm: algorithm, key: key)
    }

    public func makeIntegrity(_ algorithm: IntegrityAlgorithm, key: SecureBytes) throws(CryptoError) -> any IntegrityMAC {
        try HMACIntegrity(algorithm: algorithm, key: key)
    }
}
