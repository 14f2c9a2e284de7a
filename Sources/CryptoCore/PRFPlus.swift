// RFC 7296 §2.13: Generating Keying Material.

/// prf+ stretches a PRF to any output length. Pure: it only calls the injected PRF.
///
///     prf+ (K,S) = T1 | T2 | T3 | T4 | ...
///     T1 = prf (K, S | 0x01)
///     T2 = prf (K, T1 | S | 0x02)
///     ...
///
/// The counter is one octet, so at most 255 blocks can be produced; asking for more throws
/// `.invalidKeyLength` rather than silently wrapping (RFC 7296 §2.13: "undefined").
public enum PRFPlus {
    public static func expand(prf: some PseudoRandomFunction, key: UnsafeRawBufferPointer,
                              seed: UnsafeRawBufferPointer, length: Int) throws(CryptoError) -> SecureBytes {
        let blockSize = prf.outputLength
        guard length >= 0, blockSize > 0, length <= 255 * blockSize else {
            throw CryptoError(.invalidKeyLength, "prf+ cannot produce \(length) bytes with a \(blockSize)-byte PRF")
        }
        return try SecureBytes(count: length) { (out) throws(CryptoError) in
            // Scratch holds T(n-1) | S | n; wiped before returning since T blocks are key material.
            var scratch = [UInt8](repeating: 0, count: blockSize + seed.count + 1)
            var block = [UInt8](repeating: 0, count: blockSize)
            defer {
                SecureBytes.wipe(&scratch)
                SecureBytes.wipe(&block)
            }
            var produced = 0
            var counter: UInt8 = 1
            while produced < length {
                let previous = counter == 1 ? 0 : blockSize
                let result: Result<Void, CryptoError> = scratch.withUnsafeMutableBytes { s in
                    block.withUnsafeMutableBytes { b in
                        if previous > 0 { s.copyMemory(from: UnsafeRawBufferPointer(b)) }
                        UnsafeMutableRawBufferPointer(rebasing: s[previous..<(previous + seed.count)])
                            .copyMemory(from: seed)
                        s[previous + seed.count] = counter
                        let input = UnsafeRawBufferPointer(rebasing: s[0..<(previous + seed.count + 1)])
                        return Result { () throws(CryptoError) in try prf.compute(key: key, data: input, into: b) }
                    }
                }
                try result.get()
                let n = min(blockSize, length - produced)
                block.withUnsafeBytes { b in
                    UnsafeMutableRawBufferPointer(rebasing: out[produced..<(produced + n)])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: b[0..<n]))
                }
                produced += n
                counter &+= 1
            }
        }
    }

    /// prf+ keyed by key material (SKEYSEED, SK_d).
    public static func expand(prf: some PseudoRandomFunction, key: SecureBytes,
                              seed: UnsafeRawBufferPointer, length: Int) throws(CryptoError) -> SecureBytes {
        try key.withUnsafeBytes { (k) throws(CryptoError) -> SecureBytes in
            try expand(prf: prf, key: k, seed: seed, length: length)
        }
    }
}
