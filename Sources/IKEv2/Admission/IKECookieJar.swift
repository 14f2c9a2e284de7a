// RFC 7296 §2.6: "Cookie = <VersionIDofSecret> | Hash(Ni | IPi | SPIi | <secret>)", the secret
// "changed periodically", and cookies made with the previous secret "accepted for a short time"
// after a change. The hash is the injected PRF (HMAC) keyed with the secret.
import CryptoCore
import NetTypes

/// Makes and checks stateless cookies. Secrets come from the injected random source and change
/// at fixed epochs of the injected time (`lifetime` long), so two responders fed the same time
/// and seed behave the same; nothing is remembered per request.
struct IKECookieJar {
    /// How a cookie a request carried was judged.
    enum Verdict: Equatable, Sendable {
        case valid
        /// Made with a secret we know, but the MAC is wrong: forged, or for another Ni/IP/SPI.
        case invalid
        /// Made with a secret we no longer accept (or never had).
        case expired
    }

    private struct Secret {
        var version: UInt8
        var epoch: UInt64
        var key: SecureBytes
    }

    private let prf: any PseudoRandomFunction
    private var random: any RandomSource
    private let lifetimeNanoseconds: UInt64
    private let graceNanoseconds: UInt64
    private var current: Secret?
    private var previous: Secret?
    /// Bytes of the secret: as long as the PRF's output, the HMAC key length RFC 2104 suggests.
    private var secretLength: Int { prf.outputLength }

    init(prf: any PseudoRandomFunction, random: any RandomSource, lifetimeSeconds: Double, graceSeconds: Double) {
        self.prf = prf
        self.random = random
        lifetimeNanoseconds = max(1, UInt64(max(0.001, lifetimeSeconds) * 1e9))
        graceNanoseconds = UInt64(max(0, graceSeconds) * 1e9)
    }

    /// Cookie length on the wire: version octet plus the PRF output.
    var cookieLength: Int { 1 + prf.outputLength }

    /// The cookie for this request (§2.6), with the secret of `now`'s epoch.
    mutating func cookie(nonce: [UInt8], address: [UInt8], spi: UInt64, now: IKEInstant) throws(CryptoError) -> [UInt8] {
        try rotate(now: now)
        guard let secret = current else { throw CryptoError(.library, "no cookie secret") }
        return [secret.version] + (try mac(secret, nonce: nonce, address: address, spi: spi))
    }

    /// Whether `cookie` is one we made for this Ni, IPi and SPIi, with the current secret or
    /// with the previous one within its grace period.
    mutating func verify(_ cookie: [UInt8], nonce: [UInt8], address: [UInt8], spi: UInt64, now: IKEInstant) -> Verdict {
        do { try rotate(now: now) } catch { return .expired }
        guard cookie.count == cookieLength, let version = cookie.first else { return .invalid }
        let secret: Secret
        if let c = current, c.version == version {
            secret = c
        } else if let p = previous, p.version == version, now.nanoseconds < (p.epoch + 1) * lifetimeNanoseconds + graceNanoseconds {
            secret = p
        } else {
            return .expired
        }
        guard let expected = try? mac(secret, nonce: nonce, address: address, spi: spi) else { return .invalid }
        return Self.constantTimeEqual(Array(cookie.dropFirst()), expected) ? .valid : .invalid
    }

    /// Moves to the secret of `now`'s epoch; the one it replaces stays as `previous` only if it
    /// was the secret of the epoch just before (otherwise its cookies are long stale).
    private mutating func rotate(now: IKEInstant) throws(CryptoError) {
        let epoch = now.nanoseconds / lifetimeNanoseconds
        if let c = current, epoch <= c.epoch { return }
        let key = try random.secureBytes(secretLength)
        let next = Secret(version: (current?.version ?? 0) &+ 1, epoch: epoch, key: key)
        previous = current.flatMap { $0.epoch + 1 == epoch ? $0 : nil }
        current = next
    }

    private func mac(_ secret: Secret, nonce: [UInt8], address: [UInt8], spi: UInt64) throws(CryptoError) -> [UInt8] {
        let data = nonce + address + IKESPI(spi).bytes
        var out = [UInt8](repeating: 0, count: prf.outputLength)
        try secret.key.withUnsafeBytes { (k) throws(CryptoError) in
            try data.withBytes { (d) throws(CryptoError) in
                try out.withMutableBytes { (o) throws(CryptoError) in try prf.compute(key: k, data: d, into: o) }
            }
        }
        return out
    }

    private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}
