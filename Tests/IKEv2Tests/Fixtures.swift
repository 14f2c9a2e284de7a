// Real strongSwan IKEv2 packets from /work/shared/labs/strongswan/capture/ike-exchange.pcapng
// (16 frames, 192.0.2.1 = initiator "west", 198.51.100.1 = responder "east").
// Outer fixtures: the UDP payload of each ISAKMP frame; for UDP/4500 the 4-octet non-ESP marker is
// stripped. Extracted with a small pcapng reader (no tshark on the build host); the decoded fields the
// tests check come from tshark's dissection in ike-exchange-full.txt.
// Inner fixtures: the SK plaintext (inner payload chain, padding and Pad Length removed) of the
// encrypted frames, decrypted offline with AES-GCM-256 and the lab's throwaway keys in ike-keys.txt
// (nonce = 4-octet salt || 8-octet IV, AAD = IKE header + SK generic header); every GCM tag verified.
// tshark's dissection of the decrypted data (ike-exchange-full.txt) gives the same fields.
import TestSupport

enum Fixtures {
    static func hex(_ parts: String...) -> [UInt8] { TestSupport.hex(parts.joined()) }

    /// Frame 1: IKE_SA_INIT request, MID 0, UDP/500 (272 octets).
    static let ikeSAInitRequest = hex(
        "34f8571ff6f07cfe0000000000000000212022080000000000000110220000300000002c010100040300000c01000014",
        "800e010003000008020000050300000804000013000000080400001f2800004800130000fde1fc17ff4a497a5bfeee5f",
        "ba2d8fb6a01436f1e03357fabe2d07292e60629e3b287dd479c28c16b87de3de48c025879beb89b0c3a6a044c72ade56",
        "c2ca50e2290000245965e1fcbdc0366af6e02f8279e050e6171f8573a2a20d783d4f6420a38259ce2900001c00004004",
        "d5df8955e09d23989869cb62bca2868b765060892900001c00004005e490edf558d962234e562554c38e11d34967a101",
        "290000080000402e290000100000402f00020003000400050000000800004016"
    )

    /// Frame 2: IKE_SA_INIT response, MID 0, UDP/500 (297 octets).
    static let ikeSAInitResponse = hex(
        "34f8571ff6f07cfe4b67b541510ce5f92120222000000000000001292200002800000024010100030300000c01000014",
        "800e0100030000080200000500000008040000132800004800130000777f6b6c6ef59bf0bdfde3bc35bcccbac769ed6d",
        "f291dc5a503c5403745da1fea01578c2d9e8ebd6b202ea8e0a29f67bcab3e24914aa9b3b22c133af1f3333e029000024",
        "5604dbe32d9bb18a19b3d950a29fd6936412549da9f0db4955c41512294d5ae42900001c00004004ace2a43aecdcc8b5",
        "209ce1462bd9e2a039c982402600001c000040059e9028dc519aff5aaa4e0edaf6317cf65270de8e29000019042108d6",
        "f28440fa3a753f653e1d355745ca982b2f290000080000402e290000100000402f000200030004000529000008000040",
        "220000000800004014"
    )

    /// Frame 3: IKE_AUTH request, MID 1, UDP/4500 (814 octets).
    static let ikeAuthRequest = hex(
        "34f8571ff6f07cfe4b67b541510ce5f92e202308000000010000032e230003123d8fd0f5933b49248c1889d1ad3576dd",
        "502bc42c1a310d193bc73987d7cf96df6b552932a433f2a54a7acc1555692dd8cc48b4b5cd18ed84bd8dce5104b7bac4",
        "47d072e40460703e9bfe42bf2998a151845289a95dbbfd0c9c5ec681cc2c75837810a356ce9561d76906dd4dbbc0cc97",
        "d8c8268386512e60af304b5582cad65cdae79d1defa1426d3cc975534ea5971ab0fbf42c9a5911cf5e6f9cf39eecdbdd",
        "fd3f74bebb7d13e66337e7706128fb7748da5b886472dfa3158ff8ef64114eb1513356c81226b5d5834dfc141bcf1712",
        "915734b5cefc7c6806926c40bf7d8e6ceba07637287e4559786516663352b4f4b22381455520ba720633860ae8bc2d22",
        "ec23ff7cca8c5da5223351361a214bb87d8e6878e1f694d6f3278852c063d32587cbf990c01a3a4f7bb79944386bd351",
        "9eeb455f41e370077ac0ef25a7f0d7c954f6ee55cc05bc5b74008553bb592ba786b9daf702609f653ed5db0f4397db5a",
        "0ca02b2ad500e8bd040adec0ec415334fec923a7d97fd99162dc0af670cfd0480017f23ed583abcfeb6a232f6c32cbc8",
        "e4b646c12e34840a78312a710819088c01ea2104c513bf6a943cbf6aacbcd35b0d8e7409cdc7be6c91addeeb57c1d20e",
        "ee7ce654536eb33a2e9f955651745079145c92813e2e934c8e1f638b8fa7e41f38323a80cfa272ecd9eb9be861f68195",
        "a9627109e37787e139fea911b040cf9d756770e85b89be0f2a6e195dbbc54bad15fca1bb49efff4e0bbf311cfdcef180",
        "12710f484b662e5332fa57482abbc28fcad9d2994e0f21835b0ee3b4e04cde65bf9a340057a19e2868e96391454da45d",
        "ceeb997325bc111a91d248594f11e0641921d128572b7163d446c6140bba484556d6631aa6f529db8841a65c2c4cf992",
        "7d8d9933a579a51bfcbb690e010ec59b1510c8eb36d6a89633ca193c39ac1ab22720f2b4b78db8c641d44c357af7fe8e",
        "acf53be2b88406d983f21f02735385d485aedc4873f0daddd29deff9e072c63eff95fe176cb1dae584982a5606051013",
        "a15178bae35ec77e2c588cd175b4160aed36c22595fd14dfd4d080ff476c011e1f2e9c69bbb8010c18d6a830e7fc"
    )

    /// Frame 4: IKE_AUTH response, MID 1, UDP/4500 (735 octets).
    static let ikeAuthResponse = hex(
        "34f8571ff6f07cfe4b67b541510ce5f92e20232000000001000002df240002c336d4b18658670f64d59e800215ade6ec",
        "50edf8c47514b1048946fd73e33780244227c51520c61d916e74658e7704c85df0959ae4d756119f8b237a232e0aaf52",
        "be644ac7853b6da97c3fd53c3c7270a706ca206d0a744ad7449f1a739e8d27ac67c4521804602211833a31e6180f0628",
        "9e0f4fca1880319aa65a34082c70fc95cef9b96eaff901583faebdcffe4719a67016e6d0fcf41ca7a08e332c57111f7e",
        "b6f5e9a1c5aa609fd2e344ce8cc0d9eb4256c6107e115a6d6ddc921fb0177964764c6ccc24332fbb3e5787d5eff78206",
        "2fb776a9df95f2d5e2f28285ca5bbb9a8eabe0f80277b269811b101a23f8054ef71ff4b5f25f881a20dae151eb524d7e",
        "8be2a87ec82404d22c802a948e449c47752cf397cdaab8f569fcee3d3746df4c328ec9190b1b982bbcbb9ac3a6378d31",
        "8494d05027a30c235129190c344f7e51ad41fa0a2430828d73a1f0f272399006db955e49cf94a8b72070617449e72564",
        "c76fad795acee895c595c8c00d22d341f9643eb70f5ecd0ee529ec23c30c27b93d6c1dac0f7ef12116ab29ab63c399ec",
        "8e43fe4f4eac02299cb158ac5e618a926c63060c6b17bf4915ca29a1983c4a3e2948a8151f61c59c9a8e79de9e12728e",
        "2ca00a4ea80c01bb9fefcc8f434313acc4c52098ffb698b67ea314aa09cc9cfb57f105d85f1a21497f7a27159edf1b39",
        "c8dff9c913557bf3ba1f67a5ce3303e242f383ad2644d1fb4e562ddca24d8b4ae93a8a51903cf9d13fe3c38f79ffe616",
        "2688eb07ba1b8807112d63d48b424dabee06435543aaec89b1ebaf36a2aeb9e691427e46fcb340f677200debc88a65b0",
        "abbf75b63d499b268f00a4b88a76ae0c5b7f9c351d502887de2dc71d6a50f0da544004f5112d223ee0cabd15d2ac33f7",
        "b11a622efe802b3c3db3b0f36e1e24bc6180a9a337360f94f7612f23ae3b00a3ddeb361ac5f8561a91f313d1b4779224",
        "4b47dd4ca41629507ef357eda71170"
    )

    /// Frame 9: CREATE_CHILD_SA request (Child SA rekey), MID 2 (277 octets).
    static let createChildSARequest = hex(
        "34f8571ff6f07cfe4b67b541510ce5f92e2024080000000200000115290000f93d8fd0f6933b49247a115a25f43d8924",
        "446d23258e462685a7a50adc407b7db677250a0e974fbf10e10b703e0832851d04488407b42d561ae637d3aacc99abd7",
        "88b8c0de28872fc6bd632a504eb9b1f1aeaac597805d8966a464d4cc4c9e439ec308aa60f2f42393b5ec585f6e172b44",
        "0173e9baeec9f383620415fb45b52d7e7e5c68d4878e32eaf6b9736819d7ee95ca3726e45e2c455b1b287627a7a0cf42",
        "4a1714a887026df15faf56b80d94c903dd6b1abf73d3d7c8752065b1a405a608ba5f6c001d38a4362e7b464af4ead14a",
        "ccccba447721c5c2f960b918bfeca0a490cd61da491b28f91e8e673857c31a9f9bb47a793d"
    )

    /// Frame 10: CREATE_CHILD_SA response, MID 2 (257 octets).
    static let createChildSAResponse = hex(
        "34f8571ff6f07cfe4b67b541510ce5f92e2024200000000200000101210000e536d4b18558670f64805dbdcafa2af316",
        "4aac882f70630fe75486812855aa5a539d924f3b9d441f066bc921f455c98b9d2177392e03034e27bf9c03c2c91642db",
        "8ce4803ed201c83dc9d395f8d25122b9003ffad4a23233a67d62d2a998c3992c3f5bae78279b558b8b745aa3dcf1d700",
        "3b934ddffb0eddad0d260d6646bcd6e94215867b7f078101bd6117a899946c37c2d1f0a009f0465b4fd45dad9aa08658",
        "4069a616ce579bed85518ce865ec07c0706f2dce459696202f8ff0720b2021cee8f68744f3e78573948dfed0d22cf090",
        "a454786a3aef41a81d5e043721c7edf518"
    )

    /// Frame 11: INFORMATIONAL request (Delete ESP), MID 3 (69 octets).
    static let informationalDeleteChildRequest = hex(
        "34f8571ff6f07cfe4b67b541510ce5f92e20250800000003000000452a0000293d8fd0f7933b4924344e41354c109abf",
        "9cc0ea0d6a6530e87838982de75ebf0d17680e65d5"
    )

    /// Frame 12: INFORMATIONAL response (Delete ESP), MID 3 (69 octets).
    static let informationalDeleteChildResponse = hex(
        "34f8571ff6f07cfe4b67b541510ce5f92e20252000000003000000452a00002936d4b18458670f64068fd3bf2730fce6",
        "beba0ecf38ef9b1f875bbf808d8c923db604459946"
    )

    /// Frame 15: INFORMATIONAL request (Delete IKE SA), MID 4 (65 octets).
    static let informationalDeleteIKERequest = hex(
        "34f8571ff6f07cfe4b67b541510ce5f92e20250800000004000000412a0000253d8fd0f0933b492462076893706a012c",
        "79b6ba10471a7568cb4ce373fc1e769167"
    )

    /// Frame 16: INFORMATIONAL response (empty), MID 4 (57 octets).
    static let informationalDeleteIKEResponse = hex(
        "34f8571ff6f07cfe4b67b541510ce5f92e20252000000004000000390000001d36d4b18358670f643d18b8bbb71d2b53",
        "6407e6c1344fac2a38"
    )

    /// Frame 3: decrypted SK plaintext (757 octets), first inner payload 35.
    static let ikeAuthRequestInner = hex(
        "2500001802000000776573742e6578616d706c652e6e6574290001dc04308201d33082017aa00302010202082ea01093",
        "772a5886300a06082a8648ce3d0403023043310b300906035504061302585831123010060355040a1309495073656320",
        "4c61623120301e060355040313174950736563204c616220656364736120526f6f74204341301e170d32363131323932",
        "32333333355a170d3331313132383232333333355a303c310b300906035504061302585831123010060355040a130949",
        "50736563204c61623119301706035504031310776573742e6578616d706c652e6e65743059301306072a8648ce3d0201",
        "06082a8648ce3d030107034200044ac1b447b50502acdde47f21020240c6897e2c8c61c4d9fc222509fb220fad098b67",
        "8a12b47f1cc53f0515fd24bb39deac590a490ce82efb1b50a731ac1f599ba35f305d301f0603551d23041830168014f2",
        "246e2ed2fc672ff54ee99d1b3796d1dcec0f7b301b0603551d11041430128210776573742e6578616d706c652e6e6574",
        "301d0603551d250416301406082b0601050507030106082b06010505070302300a06082a8648ce3d0403020347003044",
        "022079a4272ae42014899c3523a8004885a0b6636c51ade71093760377912bebc63d022061c29b7cf79bf55f06e73d28",
        "f6a570f204897a2edec1949dfc1b62d45c3d2cce260000080000400024000019042108d6f28440fa3a753f653e1d3557",
        "45ca982b2f2700001802000000656173742e6578616d706c652e6e65742100005c0e0000000c300a06082a8648ce3d04",
        "0302304502204cbc7c37788d14e5458807fef5298e99be2c4a0612bfc9c50127895dcc6c4943022100be7dc1020366f2",
        "1a290d22332a7207e17ffcb3f6d49899239ec7f39b4d9c5ea92c0000240000002001030402f80c9d4c0300000c010000",
        "14800e010000000008050000002d00001801000000070000100000ffff00000000ffffffff2900001801000000070000",
        "100000ffff00000000ffffffff290000080000401429000008000040210000000800004024"
    )

    /// Frame 4: decrypted SK plaintext (678 octets), first inner payload 36.
    static let ikeAuthResponseInner = hex(
        "2500001802000000656173742e6578616d706c652e6e6574270001dd04308201d43082017aa00302010202086a1a2517",
        "7c4ca240300a06082a8648ce3d0403023043310b300906035504061302585831123010060355040a1309495073656320",
        "4c61623120301e060355040313174950736563204c616220656364736120526f6f74204341301e170d32363131323932",
        "32333333355a170d3331313132383232333333355a303c310b300906035504061302585831123010060355040a130949",
        "50736563204c61623119301706035504031310656173742e6578616d706c652e6e65743059301306072a8648ce3d0201",
        "06082a8648ce3d03010703420004ca6dc4bf7dffd63ce1165a5ed914b2105574a100b94e3dd051e56e972ce6d5a8f5b0",
        "b2ec3147506325492e6754a895ebfa09c9c073ce1e01853a7ccfa8879fa8a35f305d301f0603551d23041830168014f2",
        "246e2ed2fc672ff54ee99d1b3796d1dcec0f7b301b0603551d11041430128210656173742e6578616d706c652e6e6574",
        "301d0603551d250416301406082b0601050507030106082b06010505070302300a06082a8648ce3d0403020348003045",
        "02210088708ef4e7f6f725c95a405ee13905629a4082d7f988900e65e9f23e7f8b5b5e0220237416d17ff29446239011",
        "3a1aea69ec8a23029659bf807678b037bf06c01ec22100005d0e0000000c300a06082a8648ce3d040302304602210083",
        "3a7709e3d1e20c418545a22744cd083b1d45bb2818db42503a47500da900a1022100f8b8fc2cae081baaf966e364a4b1",
        "e72efefda06dfad2f618f651bd71e8a547272c0000240000002001030402d21ea7910300000c01000014800e01000000",
        "0008050000002d00001801000000070000100000ffff00000000ffffffff0000001801000000070000100000ffff0000",
        "0000ffffffff"
    )

    /// Frame 9: decrypted SK plaintext (220 octets), first inner payload 41.
    static let createChildSARequestInner = hex(
        "2100000c03044009f80c9d4c280000340000003001030404259ea1df0300000c01000014800e01000300000804000013",
        "030000080400001f000000080500000022000024110f69a223d577b27345bd38821d77e4e15726b4f57dea5c4b214727",
        "dc3a26bb2c000048001300007aef68f56f8a95e45814a92d4a4fed05bab688c978893169ba04aa218379f47e9b89f30b",
        "206dcd94bef6d67a9e7f01df945119913b55fd70ce1c12183b2d0ba82d00001801000000070000100000ffff00000000",
        "ffffffff0000001801000000070000100000ffff00000000ffffffff"
    )

    /// Frame 10: decrypted SK plaintext (200 octets), first inner payload 33.
    static let createChildSAResponseInner = hex(
        "2800002c0000002801030403c5c5519b0300000c01000014800e01000300000804000013000000080500000022000024",
        "be2792370f8cc968977a1fa7109f41bae7046bf6943685f37892dc26dbdbdf732c000048001300008bdaa53cdd80eff1",
        "fae17df1a71c99c27c11cf863134f0da6c78fa3e73e4a715c763cdca833e8803e9ff59a10f7e1bf4fbe1b7d5db22ba63",
        "31adf498112651d82d00001801000000070000100000ffff00000000ffffffff0000001801000000070000100000ffff",
        "00000000ffffffff"
    )

    /// Frame 11: decrypted SK plaintext (12 octets), first inner payload 42.
    static let informationalDeleteChildRequestInner = hex(
        "0000000c03040001f80c9d4c"
    )

    /// Frame 12: decrypted SK plaintext (12 octets), first inner payload 42.
    static let informationalDeleteChildResponseInner = hex(
        "0000000c03040001d21ea791"
    )

    /// Frame 15: decrypted SK plaintext (8 octets), first inner payload 42.
    static let informationalDeleteIKERequestInner = hex(
        "0000000801000000"
    )

    /// Frame 16: decrypted SK plaintext (0 octets), first inner payload 0.
    static let informationalDeleteIKEResponseInner = hex(
        ""
    )

    /// Every outer message fixture, named.
    static let messages: [(name: String, bytes: [UInt8])] = [
        ("ikeSAInitRequest", ikeSAInitRequest),
        ("ikeSAInitResponse", ikeSAInitResponse),
        ("ikeAuthRequest", ikeAuthRequest),
        ("ikeAuthResponse", ikeAuthResponse),
        ("createChildSARequest", createChildSARequest),
        ("createChildSAResponse", createChildSAResponse),
        ("informationalDeleteChildRequest", informationalDeleteChildRequest),
        ("informationalDeleteChildResponse", informationalDeleteChildResponse),
        ("informationalDeleteIKERequest", informationalDeleteIKERequest),
        ("informationalDeleteIKEResponse", informationalDeleteIKEResponse),
    ]

    /// Every inner chain fixture with its first payload type (the SK header's Next Payload).
    static let innerChains: [(name: String, first: UInt8, bytes: [UInt8])] = [
        ("ikeAuthRequestInner", 35, ikeAuthRequestInner),
        ("ikeAuthResponseInner", 36, ikeAuthResponseInner),
        ("createChildSARequestInner", 41, createChildSARequestInner),
        ("createChildSAResponseInner", 33, createChildSAResponseInner),
        ("informationalDeleteChildRequestInner", 42, informationalDeleteChildRequestInner),
        ("informationalDeleteChildResponseInner", 42, informationalDeleteChildResponseInner),
        ("informationalDeleteIKERequestInner", 42, informationalDeleteIKERequestInner),
        ("informationalDeleteIKEResponseInner", 0, informationalDeleteIKEResponseInner),
    ]
}
