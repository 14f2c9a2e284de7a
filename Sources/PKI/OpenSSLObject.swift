import COpenSSL
import CryptoCore
import Synchronization

/// One reference to a parsed OpenSSL object (an X509, EVP_PKEY, X509_CRL or X509_STORE), kept
/// for the life of the Swift value that parsed it and freed exactly once, in `deinit`.
///
/// Why it exists: in OpenSSL 3 every `d2i_X509` / `d2i_PUBKEY` runs the provider decoder
/// machinery, which cost the IKE handshake more instructions than its signatures and key
/// exchange together while certificates and keys were plain DER re-parsed on every use
/// (callgrind, docs/pki.md "Performance"). Parsing once and keeping the object removes that.
///
/// Why it is `Sendable`: the object is never modified after parsing, the pointer lives in a
/// `Mutex`, and there are exactly two ways to use it: `withLocked`, which holds the lock while
/// the body runs, and `withShared` / `retained()`, which hand out an OpenSSL reference of its
/// own (an atomic reference count, taken under the lock) for the uses OpenSSL documents as safe
/// from many threads at once on one object (openssl-threads(7)): signing and verifying with an
/// EVP_PKEY, reading an X509 in verification contexts, lookups in an X509_STORE. OpenSSL's
/// lazily cached fields on those objects (X.509 extension flags) are filled under its own locks.
final class OpenSSLObject: Sendable {
    enum Kind: Sendable {
        case x509, publicKey, privateKey, crl, store
    }

    let kind: Kind
    private let pointer: Mutex<OpaquePointer>

    /// Takes over the caller's reference: the caller does not use or free `pointer` afterwards
    /// (a C pointer is a copyable address, so the compiler cannot enforce this; the address is
    /// re-made from its bits so that the caller's copy and ours are not one region to it).
    init(owning pointer: OpaquePointer, kind: Kind) {
        self.kind = kind
        self.pointer = Mutex(unsafeBitCast(UInt(bitPattern: pointer), to: OpaquePointer.self))
    }

    deinit {
        pointer.withLock { release($0) }
    }

    /// Drops one reference (the last one frees the object).
    private func release(_ p: OpaquePointer) {
        switch kind {
        case .x509: X509_free(p)
        case .publicKey, .privateKey: EVP_PKEY_free(p)   // clears private key material
        case .crl: X509_CRL_free(p)
        case .store: X509_STORE_free(p)
        }
    }

    /// Runs `body` with a reference of its own to the object, without holding the lock while
    /// it runs: for the read-only operations OpenSSL documents as safe on one object from many
    /// threads at once (openssl-threads(7): signing and verifying with an EVP_PKEY), so that two
    /// threads signing with the node's key, or checking the same peer's key, do not queue.
    func withShared<R, E: Error>(_ body: (OpaquePointer) throws(E) -> sending R) throws(E) -> sending R {
        let reference = retained()
        defer { release(reference) }
        return try body(reference)
    }

    /// Runs `body` with the object, holding this object's lock.
    func withLocked<R, E: Error>(_ body: (OpaquePointer) throws(E) -> sending R) throws(E) -> sending R {
        try pointer.withLock { p throws(E) -> sending R in try body(p) }
    }

    /// True when `other` is this very object (to recognise it in a chain OpenSSL built).
    func isSame(_ other: OpaquePointer) -> Bool { pointer.withLock { UInt(bitPattern: $0) } == UInt(bitPattern: other) }

    /// A new OpenSSL reference (X509_up_ref / EVP_PKEY_up_ref) that the caller frees; for
    /// OpenSSL structures that keep their own references (stores, verification contexts).
    func retained() -> OpaquePointer {
        let kind = kind
        return pointer.withLock { p in
            switch kind {
            case .x509: _ = X509_up_ref(p)
            case .publicKey, .privateKey: _ = EVP_PKEY_up_ref(p)
            case .crl: _ = X509_CRL_up_ref(p)
            case .store: _ = X509_STORE_up_ref(p)
            }
            return p
        }
    }
}
