import COpenSSL
import ViaductCrypto
import CryptoCore

/// What a gateway accepts from a peer: trust anchors, CRLs and usage rules. Policy only —
/// `CertificateValidator` is the mechanism that applies it.
public struct CertificateValidationPolicy: Sendable {
    /// CA certificates that terminate a chain. Any of them (root or intermediate) is trusted as
    /// an anchor, as in strongSwan where every configured CA certificate is a trust anchor.
    public var trustAnchors: [Certificate]
    /// When non-empty, revocation is checked for EVERY certificate in the chain
    /// (X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL): a CA in the chain without a CRL
    /// here is an error (`crl-unavailable`), so a missing CRL file cannot silently disable checks.
    public var crls: [CertificateRevocationList]
    /// RFC 4945 §5.1.3.2: if keyUsage is present, digitalSignature must be set.
    public var requireDigitalSignature: Bool
    /// RFC 4945 §5.1.3.12: if extendedKeyUsage is present it must contain one of these OIDs.
    public var acceptedExtendedKeyUsages: Set<String>
    /// Upper bound on chain length (end entity + intermediates + anchor).
    public var maxDepth: Int

    public init(trustAnchors: [Certificate], crls: [CertificateRevocationList] = [],
                requireDigitalSignature: Bool = true,
                acceptedExtendedKeyUsages: Set<String> = [ExtendedKeyUsage.serverAuth, ExtendedKeyUsage.clientAuth,
                                                           ExtendedKeyUsage.ipsecIKE, ExtendedKeyUsage.any],
                maxDepth: Int = 8) {
        self.trustAnchors = trustAnchors
        self.crls = crls
        self.requireDigitalSignature = requireDigitalSignature
        self.acceptedExtendedKeyUsages = acceptedExtendedKeyUsages
        self.maxDepth = maxDepth
    }
}

/// Validates a peer's certificate chain at an injected time. Never reads the clock: the caller
/// passes `time` (epoch seconds), which keeps validation deterministic and testable.
///
/// Order of checks, each failing with its own `CryptoError.Code`:
///   1. path building + signatures + validity + CRLs (OpenSSL X509_verify_cert with
///      X509_V_FLAG_USE_CHECK_TIME via X509_STORE_CTX_set_time); for certificates byte for byte
///      identical to a chain it already accepted, the validator re-checks only what can change
///      with time, validity periods and CRLs (`TrustStore.verifiedChain(for:at:)`),
///   2. end-entity keyUsage / extendedKeyUsage (RFC 4945 §5.1.3.2, §5.1.3.12),
///   3. identity binding (RFC 4945 §3.2, §4.1).
public struct CertificateValidator: Sendable {
    public let policy: CertificateValidationPolicy
    /// The anchors and CRLs parsed once, for every validation with this policy.
    private let trustStore: TrustStore
    /// RFC 7296 §3.7: SHA-1 of each trust anchor's SubjectPublicKeyInfo, what CERTREQ carries;
    /// computed once here rather than per IKE session.
    public let trustedCAKeyHashes: [[UInt8]]

    public init(policy: CertificateValidationPolicy) {
        self.policy = policy
        self.trustStore = TrustStore(policy: policy)
        self.trustedCAKeyHashes = policy.trustAnchors.map(\.spkiSHA1)
    }

    /// Parses a certificate a peer presented, reusing an earlier parse of the same DER (a parse
    /// is a pure function of the bytes; `validate` still judges the certificate every time).
    public func certificate(derEncoded der: [UInt8]) throws -> Certificate {
        try trustStore.certificate(derEncoded: der)
    }

    /// Returns the verified chain, end entity first, trust anchor last.
    @discardableResult
    public func validate(_ endEntity: Certificate, intermediates: [Certificate] = [],
                         identity: CertificateIdentity?, at time: Int64) throws -> [Certificate] {
        let chain = try verifyChain(endEntity, intermediates: intermediates, at: time)
        try checkUsage(endEntity)
        if let identity, !identity.isBound(to: endEntity) {
            throw CryptoError(.identityMismatch,
                              "certificate '\(endEntity.subject)' does not bind identity \(identity) (SANs: \(endEntity.subjectAltNames.map(\.description).joined(separator: ", ")))")
        }
        return chain
    }

    // MARK: Mechanism

    private func verifyChain(_ ee: Certificate, intermediates: [Certificate], at time: Int64) throws -> [Certificate] {
        guard !policy.trustAnchors.isEmpty else {
            throw CryptoError(.certificateUntrusted, "certificate '\(ee.subject)': no trusted CA configured")
        }
        let presented = [ee.derBytes] + intermediates.map(\.derBytes)
        if let chain = trustStore.verifiedChain(for: presented, at: time) { return chain }
        let store = try trustStore.retainedStore()
        defer { X509_STORE_free(store) }
        guard let untrusted = viaduct_sk_X509_new_null() else { throw OpenSSL.error(.library, "sk_X509_new_null") }
        defer { viaduct_sk_X509_pop_free(untrusted) }
        for c in intermediates {
            let x = c.makeX509()
            guard viaduct_sk_X509_push(untrusted, x) > 0 else {
                X509_free(x)
                throw OpenSSL.error(.library, "sk_X509_push")
            }
        }
        let leaf = ee.makeX509()
        defer { X509_free(leaf) }
        guard let ctx = X509_STORE_CTX_new() else { throw OpenSSL.error(.library, "X509_STORE_CTX_new") }
        defer { X509_STORE_CTX_free(ctx) }
        guard X509_STORE_CTX_init(ctx, store, leaf, untrusted) == 1 else { throw OpenSSL.error(.library, "X509_STORE_CTX_init") }

        var flags = UInt(X509_V_FLAG_PARTIAL_CHAIN)
        if trustStore.hasCRLs { flags |= UInt(X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL) }
        X509_STORE_CTX_set_flags(ctx, flags)
        // Sets X509_V_FLAG_USE_CHECK_TIME: every validity comparison uses `time`, not the clock.
        X509_STORE_CTX_set_time(ctx, 0, time_t(time))
        X509_STORE_CTX_set_depth(ctx, Int32(max(1, policy.maxDepth)))

        let rc = X509_verify_cert(ctx)
        OpenSSL.clearErrors()
        guard rc == 1 else {
            throw mapError(ctx, ee: ee, time: time)
        }
        // The chain OpenSSL built holds our own parsed objects: map them back, parse only a
        // stranger (none is expected).
        var chain: [Certificate] = []
        if let sk = X509_STORE_CTX_get0_chain(ctx) {
            for i in 0..<viaduct_sk_X509_num(sk) {
                guard let x = viaduct_sk_X509_value(sk, i) else { continue }
                if ee.object.isSame(x) {
                    chain.append(ee)
                } else if let c = intermediates.first(where: { $0.object.isSame(x) }) ?? trustStore.anchor(for: x) {
                    chain.append(c)
                } else if let der = X509Support.der({ i2d_X509(x, $0) }) {
                    chain.append(try Certificate(x509: x, der: der))
                }
            }
        }
        trustStore.remember(chain, for: presented)
        return chain
    }

    /// Turns OpenSSL's verify result into a Viaduct code and a message naming the certificate.
    private func mapError(_ ctx: OpaquePointer, ee: Certificate, time: Int64) -> CryptoError {
        let err = X509_STORE_CTX_get_error(ctx)
        let depth = X509_STORE_CTX_get_error_depth(ctx)
        var who = "'\(ee.subject)'"
        var current: Certificate? = nil
        if let x = X509_STORE_CTX_get_current_cert(ctx), let der = X509Support.der({ i2d_X509(x, $0) }),
           let c = try? Certificate(x509: x, der: der) {
            current = c
            who = depth == 0 ? "'\(c.subject)'" : "'\(c.subject)' (CA of '\(ee.subject)', chain depth \(depth))"
        }
        OpenSSL.clearErrors()
        let reason = String(cString: X509_verify_cert_error_string(Int(err)))
        let at = X509Support.formatTime(time)
        switch err {
        case X509_V_ERR_CERT_HAS_EXPIRED:
            let until = current.map { X509Support.formatTime($0.notAfter) } ?? "?"
            return CryptoError(.certificateExpired, "certificate \(who) expired: valid until \(until), checked at \(at)")
        case X509_V_ERR_CERT_NOT_YET_VALID:
            let from = current.map { X509Support.formatTime($0.notBefore) } ?? "?"
            return CryptoError(.certificateNotYetValid, "certificate \(who) is not yet valid: valid from \(from), checked at \(at)")
        case X509_V_ERR_CERT_REVOKED:
            return CryptoError(.certificateRevoked, "certificate \(who) (serial \(current?.serialHex ?? "?")) is revoked by its CA's CRL")
        case X509_V_ERR_UNABLE_TO_GET_CRL, X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
            return CryptoError(.crlUnavailable, "certificate \(who): CRL checking is enabled but no CRL from issuer '\(current?.issuer.string ?? "?")' is configured")
        case X509_V_ERR_CRL_HAS_EXPIRED, X509_V_ERR_CRL_NOT_YET_VALID, X509_V_ERR_CRL_SIGNATURE_FAILURE,
             X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE, X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD,
             X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD, X509_V_ERR_KEYUSAGE_NO_CRL_SIGN, X509_V_ERR_DIFFERENT_CRL_SCOPE:
            return CryptoError(.crlInvalid, "certificate \(who): the CRL of '\(current?.issuer.string ?? "?")' is unusable: \(reason) (checked at \(at))")
        default:
            return CryptoError(.certificateUntrusted, "certificate \(who) is not trusted: \(reason)")
        }
    }

    /// RFC 4945 §5.1.3.2 / §5.1.3.12 on the end entity.
    private func checkUsage(_ ee: Certificate) throws {
        if policy.requireDigitalSignature, let ku = ee.keyUsage, !ku.contains(.digitalSignature) {
            throw CryptoError(.keyUsage, "certificate '\(ee.subject)' keyUsage (\(ku)) lacks digitalSignature, required to sign IKE AUTH")
        }
        if let eku = ee.extendedKeyUsage, !eku.contains(where: policy.acceptedExtendedKeyUsages.contains) {
            throw CryptoError(.keyUsage, "certificate '\(ee.subject)' extendedKeyUsage (\(eku.map(ExtendedKeyUsage.name).joined(separator: ", "))) allows none of serverAuth, clientAuth, ipsecIKE, anyExtendedKeyUsage")
        }
    }
}
