// RFC 5280 §6.1.3 (a)(2) validity period and (a)(3) revocation status, and §6.3.3 (b) CRL
// validity (thisUpdate/nextUpdate): what a reused verification re-checks on every handshake.
import COpenSSL
import ViaductCrypto
import CryptoCore
import Synchronization

/// A validation policy's trust anchors and CRLs as one OpenSSL X509_STORE, built once when the
/// `CertificateValidator` is made instead of on every validation (which re-parsed every CA
/// certificate and CRL per IKE handshake).
///
/// The store holds references to the anchors' own parsed X509 objects, so a chain OpenSSL
/// builds can be mapped back to the `Certificate` values without re-parsing. Verification
/// contexts take their own reference to the store (`retained`): OpenSSL's X509_STORE is made
/// for concurrent lookups from many X509_STORE_CTX, so validations on different threads do not
/// wait for each other.
///
/// It also keeps the certificates peers present, parsed (`certificate(derEncoded:)`): a peer
/// sends the same certificate in every handshake, and parsing it (OpenSSL 3 decodes its key
/// through the provider decoders) cost more than verifying it; a parse is a pure function of
/// the DER, the key. And the chains OpenSSL accepted, keyed by the exact DER presented, so
/// that their signatures are not verified again (`verifiedChain(for:at:)`, which re-checks
/// validity periods and revocation at every handshake's time).
final class TrustStore: Sendable {
    let anchors: [Certificate]
    let crls: [CertificateRevocationList]
    var hasCRLs: Bool { !crls.isEmpty }
    /// Bounded so a peer cycling through certificates cannot grow it: emptied when full.
    private let parsed = Mutex<[DERKey: Certificate]>([:])
    static let parsedLimit = 256
    /// Chains OpenSSL verified, keyed by the exact DER of the presented certificates (end
    /// entity, then intermediates); see `verifiedChain(for:)`. Same bound.
    private let verified = Mutex<[DERKey: [Certificate]]>([:])
    /// nil when the store could not be built (allocation failure); validation then reports it.
    private let store: OpenSSLObject?
    private let buildError: CryptoError?

    init(policy: CertificateValidationPolicy) {
        anchors = policy.trustAnchors
        crls = policy.crls
        do {
            store = try Self.build(policy)
            buildError = nil
        } catch {
            store = nil
            buildError = error
        }
    }

    private static func build(_ policy: CertificateValidationPolicy) throws(CryptoError) -> OpenSSLObject {
        guard let store = X509_STORE_new() else { throw OpenSSL.error(.library, "X509_STORE_new") }
        let owner = OpenSSLObject(owning: store, kind: .store)
        for anchor in policy.trustAnchors {
            let x = anchor.makeX509()
            defer { X509_free(x) }  // the store took its own reference
            if X509_STORE_add_cert(store, x) != 1 {
                OpenSSL.clearErrors()  // duplicate anchors are harmless
            }
        }
        for crl in policy.crls {
            let c: OpaquePointer
            do {
                c = try X509Support.d2i(crl.derBytes, "CRL") { p, n in d2i_X509_CRL(nil, p, n) }
            } catch {
                throw CryptoError(.crlInvalid, "CRL of '\(crl.issuer)' cannot be parsed: \(error)")
            }
            defer { X509_CRL_free(c) }
            _ = X509_STORE_add_crl(store, c)
            OpenSSL.clearErrors()
        }
        return owner
    }

    /// A new reference to the store for one verification context (the caller frees it).
    func retainedStore() throws(CryptoError) -> OpaquePointer {
        guard let store else { throw buildError ?? CryptoError(.library, "no certificate store") }
        return store.retained()
    }

    /// The certificate with this exact DER, parsed once.
    func certificate(derEncoded der: [UInt8]) throws -> Certificate {
        let key = DERKey([der])
        if let known = parsed.withLock({ $0[key] }) { return known }
        let certificate = try Certificate(derEncoded: der)
        parsed.withLock { cache in
            if cache.count >= Self.parsedLimit { cache.removeAll(keepingCapacity: true) }
            cache[key] = certificate
        }
        return certificate
    }

    /// A chain OpenSSL verified earlier for exactly these certificates, if still valid at
    /// `time`. The signatures, path, basic constraints and CA key usages OpenSSL checked are
    /// facts about these exact bytes and this store's fixed anchors and CRLs, so they are reused
    /// (strongSwan's cert_cache does the same for issuer signatures). What can change with time
    /// is re-checked here with OpenSSL's own comparisons (X509_cmp_time: valid from notBefore
    /// inclusive to notAfter exclusive), on every certificate of the chain, anchor included:
    /// its validity period and, when CRLs are configured, its revocation: every CRL of its
    /// issuer must be current (thisUpdate <= time < nextUpdate) and must not list it. Anything
    /// else (no CRL of that issuer, a CRL out of its period, a listed serial) answers nil, and
    /// the caller runs the whole X509_verify_cert, which then reports the precise error.
    func verifiedChain(for presented: [[UInt8]], at time: Int64) -> [Certificate]? {
        guard let chain = verified.withLock({ $0[DERKey(presented)] }) else { return nil }
        for certificate in chain {
            guard certificate.notBefore <= time, time < certificate.notAfter else { return nil }
            guard hasCRLs else { continue }
            let issued = crls.filter { $0.issuer.der == certificate.issuer.der }
            guard !issued.isEmpty else { return nil }
            for crl in issued {
                guard crl.thisUpdate <= time, crl.nextUpdate.map({ time < $0 }) ?? true,
                      !crl.isRevoked(serialNumber: certificate.serialNumber) else { return nil }
            }
        }
        return chain
    }

    /// Records a chain X509_verify_cert accepted.
    func remember(_ chain: [Certificate], for presented: [[UInt8]]) {
        verified.withLock { cache in
            if cache.count >= Self.parsedLimit { cache.removeAll(keepingCapacity: true) }
            cache[DERKey(presented)] = chain
        }
    }

    /// The anchor whose parsed object OpenSSL put in a chain, if `x` is one.
    func anchor(for x: OpaquePointer) -> Certificate? {
        anchors.first { $0.object.isSame(x) }
    }
}

/// DER blobs as a dictionary key, hashed as whole buffers: `[UInt8]`'s own hashing feeds the
/// hasher one byte at a time, which cost more than the rest of a cache lookup.
struct DERKey: Hashable, Sendable {
    let blobs: [[UInt8]]

    init(_ blobs: [[UInt8]]) { self.blobs = blobs }

    func hash(into hasher: inout Hasher) {
        hasher.combine(blobs.count)
        for blob in blobs {
            hasher.combine(blob.count)
            blob.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }
}
