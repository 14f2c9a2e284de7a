import COpenSSL
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
///      X509_V_FLAG_USE_CHECK_TIME via X509_STORE_CTX_set_time),
///   2. end-entity keyUsage / extendedKeyUsage (RFC 4945 §5.1.3.2, §5.1.3.12),
///   3. identity binding (RFC 4945 §3.2, §4.1).
public struct CertificateValidator: Sendable {
    public let policy: CertificateValidationPolicy

    public init(policy: CertificateValidationPolicy) { self.policy = policy }

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
        guard let store = X509_STORE_new() else { throw OpenSSL.error(.library, "X509_STORE_new") }
        defer { X509_STORE_free(store) }
        for anchor in policy.trustAnchors {
            let x = try anchor.makeX509()
            defer { X509_free(x) }  // the store took its own reference
            guard X509_STORE_add_cert(store, x) == 1 else {
                OpenSSL.clearErrors()  // duplicate anchors are harmless
                continue
            }
        }
        for crl in policy.crls {
            let c = try X509Support.d2i(crl.derBytes, "CRL") { p, n in d2i_X509_CRL(nil, p, n) }
            defer { X509_CRL_free(c) }
            _ = X509_STORE_add_crl(store, c)
            OpenSSL.clearErrors()
        }
        guard let untrusted = viaduct_sk_X509_new_null() else { throw OpenSSL.error(.library, "sk_X509_new_null") }
        defer { viaduct_sk_X509_pop_free(untrusted) }
        for c in intermediates {
            let x = try c.makeX509()
            guard viaduct_sk_X509_push(untrusted, x) > 0 else {
                X509_free(x)
                throw OpenSSL.error(.library, "sk_X509_push")
            }
        }
        let leaf = try ee.makeX509()
        defer { X509_free(leaf) }
        guard let ctx = X509_STORE_CTX_new() else { throw OpenSSL.error(.library, "X509_STORE_CTX_new") }
        defer { X509_STORE_CTX_free(ctx) }
        guard X509_STORE_CTX_init(ctx, store, leaf, untrusted) == 1 else { throw OpenSSL.error(.library, "X509_STORE_CTX_init") }

        var flags = UInt(X509_V_FLAG_PARTIAL_CHAIN)
        if !policy.crls.isEmpty { flags |= UInt(X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL) }
        X509_STORE_CTX_set_flags(ctx, flags)
        // Sets X509_V_FLAG_USE_CHECK_TIME: every validity comparison uses `time`, not the clock.
        X509_STORE_CTX_set_time(ctx, 0, time_t(time))
        X509_STORE_CTX_set_depth(ctx, Int32(max(1, policy.maxDepth)))

        let rc = X509_verify_cert(ctx)
        OpenSSL.clearErrors()
        guard rc == 1 else {
            throw mapError(ctx, ee: ee, time: time)
        }
        var chain: [Certificate] = []
        if let sk = X509_STORE_CTX_get0_chain(ctx) {
            for i in 0..<viaduct_sk_X509_num(sk) {
                guard let x = viaduct_sk_X509_value(sk, i), let der = X509Support.der({ i2d_X509(x, $0) }) else { continue }
                chain.append(try Certificate(x509: x, der: der))
            }
        }
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
