/// A deterministic generator for tests and simulations: same seed, same bytes, on every platform.
///
/// NOT FOR PRODUCTION. It is xoshiro256** (Blackman & Vigna, 2018) seeded through SplitMix64: fast and
/// well distributed, but not cryptographically secure — its output is predictable from a few
/// outputs. Never use it for keys, nonces, SPIs or IVs outside tests.
public struct SeededRandomSource: RandomSource, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        // SplitMix64 expands the seed so that nearby seeds give unrelated streams and the state is
        // never all zero (xoshiro's one fixed point).
        var s = seed
        func splitMix() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    /// A generator seeded from this one's next output: its own stream, and this one moves on.
    public mutating func split() -> any RandomSource { SeededRandomSource(seed: next()) }

    public mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        var i = 0
        while i < buffer.count {
            var word = next()
            let n = min(8, buffer.count - i)
            for j in 0..<n {
                buffer[i + j] = UInt8(truncatingIfNeeded: word)
                word >>= 8
            }
            i += n
        }
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}
