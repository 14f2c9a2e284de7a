import ViaductCrypto
import CryptoCore
import DataplaneContract
import ESP
import IKEv2
import NetTypes

/// Builds the ESP SA objects of one Child SA from the daemon's parameters. Used by the workers
/// (which own the SAs) and, first, by the control plane as a check, so that a bad SA is refused
/// synchronously by `install` rather than discovered on a worker thread.
enum SAFactory {
    static func inbound(_ sa: ChildSAParameters, lifetime: ESPLifetime, replayWindowSize: Int) throws(DataplaneError) -> ESPInboundSA {
        do {
            let provider = OpenSSLCryptoProvider()
            if let integrity = sa.integrity {
                // RFC 7296 §2.17: the non-AEAD keys arrive split, encryption key then integrity key.
                guard let integrityKey = sa.inboundIntegrityKey else {
                    throw DataplaneError(.invalidSA, "inbound SA \(sa.inboundSPI): \(integrity) without an integrity key")
                }
                return try ESPInboundSA(spi: sa.inboundSPI, cipher: provider.makeCBC(sa.encryption, key: sa.inboundEncryptionKey),
                                        integrity: provider.makeIntegrity(integrity, key: integrityKey),
                                        extendedSequenceNumbers: sa.extendedSequenceNumbers,
                                        replayWindowSize: replayWindowSize, lifetime: lifetime)
            }
            let cipher = try provider.makeAEAD(sa.encryption, key: sa.inboundEncryptionKey)
            return try ESPInboundSA(spi: sa.inboundSPI, cipher: cipher, extendedSequenceNumbers: sa.extendedSequenceNumbers,
                                    replayWindowSize: replayWindowSize, lifetime: lifetime)
        } catch let error as DataplaneError {
            throw error
        } catch {
            throw DataplaneError(.invalidSA, "inbound SA \(sa.inboundSPI): \(error)")
        }
    }

    static func outbound(_ sa: ChildSAParameters, lifetime: ESPLifetime, ivMask: UInt64) throws(DataplaneError) -> ESPOutboundSA {
        do {
            let provider = OpenSSLCryptoProvider()
            if let integrity = sa.integrity {
                guard let integrityKey = sa.outboundIntegrityKey else {
                    throw DataplaneError(.invalidSA, "outbound SA \(sa.outboundSPI): \(integrity) without an integrity key")
                }
                // RFC 3602 §2.4: each packet's IV comes from OpenSSL's CSPRNG.
                return try ESPOutboundSA(spi: sa.outboundSPI, cipher: provider.makeCBC(sa.encryption, key: sa.outboundEncryptionKey),
                                         integrity: provider.makeIntegrity(integrity, key: integrityKey),
                                         extendedSequenceNumbers: sa.extendedSequenceNumbers,
                                         lifetime: lifetime, random: OpenSSLRandomSource())
            }
            let cipher = try provider.makeAEAD(sa.encryption, key: sa.outboundEncryptionKey)
            return try ESPOutboundSA(spi: sa.outboundSPI, cipher: cipher, extendedSequenceNumbers: sa.extendedSequenceNumbers,
                                     lifetime: lifetime, ivMask: ivMask)
        } catch let error as DataplaneError {
            throw error
        } catch {
            throw DataplaneError(.invalidSA, "outbound SA \(sa.outboundSPI): \(error)")
        }
    }

    /// RFC 4106 §3.1: the IV is the sequence number XOR a random per-SA mask (as Linux's seqiv and
    /// strongSwan do), so the IV does not reveal the counter and never repeats under one key.
    static func randomIVMask() throws(DataplaneError) -> UInt64 {
        var random = OpenSSLRandomSource()
        do {
            return try random.bytes(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        } catch {
            throw DataplaneError(.system, "no randomness for the IV mask: \(error)")
        }
    }
}
