/// FNV-1a, 64 bits. Swift's `Hasher` is seeded per process, but interface names and `if_id`s
/// must be the same on every run and on both ends of a tunnel, so they come from this instead.
enum StableHash {
    static func fnv1a64(_ text: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in text.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        return h
    }

    /// FNV-1a followed by MurmurHash3's 64-bit finalizer, so names differing only in their
    /// last character still land far apart in every bit range we truncate to.
    static func mixed(_ text: String) -> UInt64 {
        var h = fnv1a64(text)
        h ^= h >> 33
        h = h &* 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        h = h &* 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return h
    }

    /// Lowercase base-32 (a-z, 2-7 minus confusables avoided by RFC 4648's alphabet), `count` characters.
    static func base32(_ value: UInt64, count: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var v = value
        var out = ""
        for _ in 0..<count {
            out.append(alphabet[Int(v & 31)])
            v >>= 5
        }
        return out
    }
}
