import ViaductCrypto
import CryptoCore
import IKEv2

/// What the responder's admission gate costs per IKE_SA_INIT it answers with a cookie, and per
/// returned cookie it verifies, beside one key exchange of the proposal's group: the work a
/// cookie saves (`viaduct bench admission`).
public enum AdmissionBenchmark {
    public struct Report: Sendable {
        public var requests: Int
        /// µs per COOKIE answer (decode, HMAC-SHA-256, encode).
        public var cookieMicros: Double
        /// µs per request carrying a valid cookie, verified and admitted.
        public var verifyMicros: Double
        public var admitted: Int
        /// µs per key pair + shared secret of the group, over `keyExchanges` of them.
        public var keyExchangeMicros: Double
        public var keyExchanges: Int
        public var cookiesSent: UInt64
        public var sourcesRemembered: Int
    }

    /// `count` distinct requests (the flood generator's) from 16 sources.
    public static func measure(count: Int, proposal: IKEAlgorithmSet, group: KeyExchangeGroup) throws -> Report {
        let n = max(1, count)
        var template = try FloodRequestTemplate(proposal: proposal)
        var random = SeededRandomSource(seed: 9)
        let responder = IKEEndpoint(address: [192, 0, 2, 1], port: 500)
        let requests = (0..<n).map { i in
            IKEDatagram(bytes: template.next(random: &random),
                        source: IKEEndpoint(address: [203, 0, 113, UInt8(truncatingIfNeeded: i % 16 + 1)], port: 500),
                        destination: responder)
        }
        let provider = OpenSSLCryptoProvider()
        let policy = IKEAdmissionPolicy(cookieThreshold: 0, maxHalfOpen: Int.max, maxHalfOpenPerSource: Int.max,
                                        verifiedRate: IKERate(perSecond: 1e9, burst: 1e9),
                                        cookieReplyRate: IKERate(perSecond: 1e9, burst: 1e9))
        var gate = IKEAdmissionGate(policy: policy, prf: try provider.makePRF(.hmacSHA256), random: OpenSSLRandomSource())
        let clock = ContinuousClock()
        let now = IKEInstant(nanoseconds: 1)
        var answers: [IKEDatagram] = []
        answers.reserveCapacity(n)
        let cookieTime = clock.measure {
            for r in requests { if case .respond(let d) = gate.admit(r, sessions: 0, now: now) { answers.append(d) } }
        }
        // The same requests, each carrying the cookie it was given: verification, then admission.
        let returned = try zip(requests, answers).map { r, a in
            let cookie = try IKEMessage(decoding: a.bytes).notifies.first { $0.type == .cookie }?.data ?? []
            var m = try IKEMessage(decoding: r.bytes)
            m.payloads.insert(.notify(IKENotify(type: .cookie, data: cookie)), at: 0)
            return IKEDatagram(bytes: try m.encoded(), source: r.source, destination: r.destination)
        }
        var verifyGate = gate
        var admitted = 0
        let verifyTime = clock.measure {
            for r in returned { if case .admit(let t) = verifyGate.admit(r, sessions: 0, now: now) { admitted += 1; verifyGate.release(t) } }
        }
        let dhCount = max(1, n / 100)
        var dhRandom = OpenSSLRandomSource()
        let peer = try provider.makeKeyExchange(group, random: &dhRandom).publicValue
        let dhTime = try clock.measure {
            for _ in 0..<dhCount {
                let ke = try provider.makeKeyExchange(group, random: &dhRandom)
                _ = try ke.sharedSecret(peerPublicValue: peer)
            }
        }
        func micros(_ d: Duration, _ k: Int) -> Double {
            (Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12) / Double(k)
        }
        let c = micros(cookieTime, n), v = micros(verifyTime, n), dh = micros(dhTime, dhCount)
        return Report(requests: n, cookieMicros: c, verifyMicros: v, admitted: admitted, keyExchangeMicros: dh,
                      keyExchanges: dhCount, cookiesSent: gate.counters.cookiesSent, sourcesRemembered: gate.counters.sources)
    }
}
