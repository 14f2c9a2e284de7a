// Real ESP-in-UDP packets from /work/shared/labs/strongswan/capture/ike-exchange.pcapng: two
// strongSwan 5.9.8 gateways with kernel-libipsec, ESP AES_GCM_16_256/NO_EXT_SEQ, tunnel mode,
// west 192.0.2.1 (IKE initiator) and east 198.51.100.1, pinging 198.18.1.10 -> 198.18.2.10
// (`ping -c 2` from ss-west-host, bench.sh capture). Each fixture is the UDP/4500 payload.
//
// The Child SA keys are not in the capture; they are derived as RFC 7296 §2.17 says for the first
// Child SA (created by IKE_AUTH): KEYMAT = prf+(SK_d, Ni | Nr), PRF_HMAC_SHA2_256 (the IKE SA's
// negotiated PRF: ike-exchange-full.txt, "Transform ID (PRF): PRF_HMAC_SHA2_256 (5)"), split as
// i->r key+salt (36 bytes), r->i key+salt (36 bytes). SK_d is from ike-keys.txt (charon ike=4 log);
// Ni and Nr are the Nonce payloads of frames 1 and 2. SPIs: 0xf80c9d4c is in the SA payload of
// the decrypted IKE_AUTH request (west's inbound SPI), 0xd21ea791 in the response (east's inbound),
// as `initiate.log` says ("SPIs f80c9d4c_i d21ea791_o").
//
// The expected values below were produced independently of Viaduct by this script (Python 3,
// hashlib/hmac for prf+, the `cryptography` package's AESGCM for decryption), run on the host:
//
//     import struct, hmac, hashlib
//     from cryptography.hazmat.primitives.ciphers.aead import AESGCM
//     CAP = "/work/shared/labs/strongswan/capture/"
//     def frames(path):                                   # pcapng: Enhanced Packet Blocks (type 6)
//         d = open(path, "rb").read(); o = 0; out = []
//         while o < len(d):
//             btype, blen = struct.unpack_from("<II", d, o)
//             if btype == 6:
//                 cap = struct.unpack_from("<I", d, o + 20)[0]
//                 out.append(d[o + 28:o + 28 + cap])
//             o += blen
//         return out
//     def udp_payload(f):                                 # Ethernet / IPv4 / UDP
//         ip = f[14:]; udp = ip[(ip[0] & 15) * 4:]
//         return udp[8:struct.unpack_from(">H", udp, 4)[0]]
//     def nonce(msg):                                     # walk the IKE payload chain to Nonce (40)
//         nxt, o = msg[16], 28
//         while nxt:
//             n2, _, ln = struct.unpack_from(">BBH", msg, o)
//             if nxt == 40: return msg[o + 4:o + ln]
//             nxt, o = n2, o + ln
//     def prf_plus(key, seed, n):                         # RFC 7296 §2.13 with PRF_HMAC_SHA2_256
//         out, t, i = b"", b"", 1
//         while len(out) < n:
//             t = hmac.new(key, t + seed + bytes([i]), hashlib.sha256).digest(); out += t; i += 1
//         return out[:n]
//     fr = frames(CAP + "ike-exchange.pcapng")
//     ni, nr = nonce(udp_payload(fr[0])), nonce(udp_payload(fr[1]))
//     skd = bytes.fromhex([l.split("=")[1] for l in open(CAP + "ike-keys.txt") if l.startswith("Sk_d=")][0].strip())
//     keymat = prf_plus(skd, ni + nr, 2 * 36)             # AES-GCM-256: 32-byte key + 4-byte salt, no integ
//     print("Ni", ni.hex()); print("Nr", nr.hex()); print("KEYMAT", keymat.hex())
//     for n in (5, 6, 7, 8):
//         esp = udp_payload(fr[n - 1]); spi = esp[:4].hex()
//         key = keymat[:36] if spi == "d21ea791" else keymat[36:]   # d21ea791: initiator -> responder
//         pt = AESGCM(key[:32]).decrypt(key[32:] + esp[8:16], esp[16:], esp[:8])   # AAD = SPI || Seq
//         print(f"frame {n} esp", esp.hex()); print(f"frame {n} plaintext", pt.hex())
//
// libipsec's IV is not the bare sequence number: it is seq XOR a per-SA 64-bit mask (frame 5:
// IV 833e2c64b261e3b9 for seq 1, frame 7: ...e3ba for seq 2; mask 833e2c64b261e3b8), which is
// what `ESPOutboundSA`'s `ivMask` models, so re-encapsulation reproduces the captured bytes.

import ESP
import NetTypes
import TestSupport

enum CaptureFixtures {
    static let skD = hex("0e91f7720ae9bffd5352f6afa34a232b48e2441b366213d134eb4db064bdc301")
    static let nonceI = hex("5965e1fcbdc0366af6e02f8279e050e6171f8573a2a20d783d4f6420a38259ce")
    static let nonceR = hex("5604dbe32d9bb18a19b3d950a29fd6936412549da9f0db4955c41512294d5ae4")
    /// prf+(SK_d, Ni | Nr), 72 bytes, from the script above.
    static let keymat = hex("""
        408834ffc68a831646829a157b1fe84a6ace265049d4434fd686e0abb5e39a2cc95745b282f608f97f8d9ab2\
        5b0b9537fdbb87c1ffbd8079f263795eb01cba49a8821cbfb8d4c0f5
        """)

    /// East's inbound SPI: west (initiator) sends with it, under the i->r key.
    static let spiInitiatorToResponder = ESPSPI(0xd21e_a791)
    /// West's inbound SPI: east sends with it, under the r->i key.
    static let spiResponderToInitiator = ESPSPI(0xf80c_9d4c)
    static let ivMaskInitiatorToResponder: UInt64 = 0x833e_2c64_b261_e3b8
    static let ivMaskResponderToInitiator: UInt64 = 0xa0d8_ac19_129b_74ff

    struct Frame {
        let number: Int
        let esp: [UInt8]
        /// The decrypted ESP payload: inner packet, padding, Pad Length, Next Header.
        let plaintext: [UInt8]
        var fromInitiator: Bool { esp.starts(with: [0xd2, 0x1e, 0xa7, 0x91]) }
    }

    /// Frames 5-8: echo request (west->east), reply, request, reply.
    static let frames: [Frame] = [
        Frame(number: 5, esp: hex("""
            d21ea79100000001833e2c64b261e3b9080fd5bbb9f560db9b07120dc71627b04dec73b957a41d65c4ca238403c916f6\
            ed6f31f216a2e9ea48af75f95defcd193fe997d2033370056f647090aefa8891e6c133b0878bb9283feb5468235eacb8\
            11a5a3b8d97031242bd53804e224bfb3c7316513c8faa8bc
            """), plaintext: hex("""
            450000546e3940003f013e37c612010ac612020a0800909d7108000145ad0c6b00000000db6d0a000000000010111213\
            1415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363701020204
            """)),
        Frame(number: 6, esp: hex("""
            f80c9d4c00000001a0d8ac19129b74fe0bfb83dc77ab34cd94751f7f0d4d968d314cc7fbf60c49a27340ccb998bace10\
            e2bab5f25f64e30ba1e50806a9d22b204eed58b6aa23fc9e877101fd3c8692da774f8fe6413d5093c48253dacbdf5b2b\
            96ae2f08533eeda893664c5dabadb1db3bab85b4d0cf1bc9
            """), plaintext: hex("""
            45000054d87900003f0113f7c612020ac612010a0000989d7108000145ad0c6b00000000db6d0a000000000010111213\
            1415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363701020204
            """)),
        Frame(number: 7, esp: hex("""
            d21ea79100000002833e2c64b261e3ba25817f86ecd038ce9a02e508ca6fe8d3e69b917e9ee3797f8df2f0252e3d29f8\
            97e005194b3f2a1d88418d89f573328831092270188f2d668d1e21ef4cf90a9ddcec9fee83bd5989a56cfd18ff71effa\
            7efc7ff5f8a0b7803f5f70d0205b6699f09ff368332006a5
            """), plaintext: hex("""
            450000546e4940003f013e27c612010ac612020a08008e8a7108000245ad0c6b00000000da7f0d000000000010111213\
            1415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363701020204
            """)),
        Frame(number: 8, esp: hex("""
            f80c9d4c00000002a0d8ac19129b74fda799487ab23e3dadf8f73e97ac46aa98ab033302c27d111ad20753d1ca8d70e6\
            6d9b20f57bd0dc86813af98c7f5974ee6955d4fc00b89f35d534bb13453fefeeab402fefef7b0debd23b3e123f2b9a85\
            bd15f58a918b02c1d14365d843e79ddde4566658e46322f2
            """), plaintext: hex("""
            45000054d88a00003f0113e6c612020ac612010a0000968a7108000245ad0c6b00000000da7f0d000000000010111213\
            1415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363701020204
            """)),
    ]

    /// Frames 13 and 14: after the CREATE_CHILD_SA rekey with PFS (keys need the DH secret we do
    /// not have). Real packets of SAs we do not hold: unknown-SPI and fuzz material.
    static let rekeyedFrames: [[UInt8]] = [
        hex("""
            c5c5519b0000000171949d444bb70b97ec944ca4856515aa28a56ce7ddd58495a3e5528e67dbf5f755e91077\
            508a57ee9164f397c803e200217914e581dfb22d2f21cc7124a2984afee154350917d77f3f7da0dd6b7e840a\
            77a63e883b7bacead0796a361bc255564f9503c7
            """),
        hex("""
            259ea1df000000018e0ecf9c1a59ee14326b017627dfb93ff87a4a160ce9703ee2fce6ed312e0296840fb332\
            98cda317dde93a1b0fa75dc9fc0c421024acee6341a0318894028b621d1ac15800a4cf743685094387889ca4
            """),
    ]
}
