/// The factory the pure core asks for primitives, so IKEv2 and the data planes name algorithms by
/// their IANA enums and never import a crypto library. The shell injects an OpenSSL-backed
/// provider; tests could inject another.
///
/// Every factory throws `.unsupportedAlgorithm` for a combination it cannot build and
/// `.invalidKeyLength` when the key does not match the algorithm (key + salt for AEADs).
public protocol CryptoProvider: Sendable {
    /// A fresh ephemeral key pair whose private key is drawn from `random`.
    func makeKeyExchange<R: RandomSource>(_ group: KeyExchangeGroup, random: inout R) throws(CryptoError) -> any KeyExchange

    /// A key pair from a fixed private key: known-answer tests (RFC 5903 §8, RFC 7748 §6).
    /// MODP: big-endian exponent; ECP: big-endian scalar of the field size; X25519/X448: raw scalar;
    /// ML-KEM: the 64-byte seed d || z (FIPS 203 §7.1).
    func makeKeyExchange(_ group: KeyExchangeGroup, privateKey: SecureBytes) throws(CryptoError) -> any KeyExchange

    /// The responder's half for the initiator's KE data `initiatorValue`: a fresh key pair and
    /// g^ir for a Diffie-Hellman group, an encapsulation to the initiator's key for a KEM. Throws
    /// `.invalidPublicValue` for a value to reject (RFC 6989; FIPS 203 §7.2's input checks).
    /// ML-KEM's encapsulation draws its randomness from the library's own generator, not `random`.
    func respondToKeyExchange<R: RandomSource>(_ group: KeyExchangeGroup, initiatorValue: [UInt8],
                                               random: inout R) throws(CryptoError) -> KeyExchangeResponse

    func makePRF(_ algorithm: PRFAlgorithm) throws(CryptoError) -> any PseudoRandomFunction

    /// `key` is the whole key material for the direction: cipher key followed by the 4-byte salt
    /// (`algorithm.keyMaterialLength` bytes).
    func makeAEAD(_ algorithm: EncryptionAlgorithm, key: SecureBytes) throws(CryptoError) -> any AEADCipher

    func makeCBC(_ algorithm: EncryptionAlgorithm, key: SecureBytes) throws(CryptoError) -> any CBCCipher

    func makeIntegrity(_ algorithm: IntegrityAlgorithm, key: SecureBytes) throws(CryptoError) -> any IntegrityMAC
}
