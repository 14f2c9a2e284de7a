// RFC 7296 §3.3.2 transforms written in strongSwan's proposal syntax, so failure messages read
// like the configuration a network engineer wrote ("aes256gcm16-prfsha384-ecp384").
import CryptoCore

public enum IKEProposalText {
    public static func word(_ e: EncryptionAlgorithm) -> String {
        switch e {
        case .aesGCM16(let bits): "aes\(bits)gcm16"
        case .aesCBC(let bits): "aes\(bits)"
        case .chacha20Poly1305: "chacha20poly1305"
        case .tripleDES: "3des"
        }
    }

    public static func word(_ i: IntegrityAlgorithm) -> String {
        switch i {
        case .hmacMD5_96: "md5"
        case .hmacSHA1_96: "sha1"
        case .hmacSHA256_128: "sha256"
        case .hmacSHA384_192: "sha384"
        case .hmacSHA512_256: "sha512"
        }
    }

    public static func word(_ p: PRFAlgorithm) -> String {
        switch p {
        case .hmacMD5: "prfmd5"
        case .hmacSHA1: "prfsha1"
        case .hmacSHA256: "prfsha256"
        case .hmacSHA384: "prfsha384"
        case .hmacSHA512: "prfsha512"
        }
    }

    public static func word(_ g: KeyExchangeGroup) -> String {
        switch g {
        case .modp1024: "modp1024"
        case .modp1536: "modp1536"
        case .modp2048: "modp2048"
        case .modp3072: "modp3072"
        case .modp4096: "modp4096"
        case .ecp256: "ecp256"
        case .ecp384: "ecp384"
        case .ecp521: "ecp521"
        case .curve25519: "x25519"
        case .curve448: "x448"
        case .mlkem768: "mlkem768"
        case .mlkem1024: "mlkem1024"
        }
    }

    public static func format(_ set: IKEAlgorithmSet) -> String {
        (set.encryption.map(word) + set.integrity.map(word) + set.prf.map(word) + set.groups.map(word)
            + set.additional.flatMap { a in a.groups.map { "ke\(a.index)_\($0.map(word) ?? "none")" } })
            .joined(separator: "-")
    }

    public static func format(_ set: ESPAlgorithmSet) -> String {
        var words = set.encryption.map(word) + set.integrity.map(word) + set.groups.map(word)
        if set.esn != [false] { words += set.esn.map { $0 ? "esn" : "noesn" } }
        return words.joined(separator: "-")
    }

    /// A proposal as received: known algorithms by keyword, unknown ones by IANA number
    /// ("ENCR_23", "KE_30"), grouped in strongSwan's order (encryption, integrity, PRF, KE, ESN).
    public static func format(_ proposal: IKEProposal) -> String {
        var enc: [String] = [], integ: [String] = [], prf: [String] = [], ke: [String] = [], esn: [String] = []
        for t in proposal.transforms {
            switch t.algorithm {
            case .encryption(let e)?: enc.append(word(e))
            case .integrity(let i)?: integ.append(word(i))
            case .prf(let p)?: prf.append(word(p))
            case .keyExchange(let g)?: ke.append(word(g))
            case .extendedSequenceNumbers(let on)?: esn.append(on ? "esn" : "noesn")
            case nil:
                let name = switch t.type {
                case 1: "ENCR"
                case 2: "PRF"
                case 3: "INTEG"
                case 4: "KE"
                case 5: "ESN"
                case 6...12: "KE\(t.type - 5)"
                default: "T\(t.type)"
                }
                if (6...12).contains(t.type) {
                    // RFC 9370 additional key exchanges, in strongSwan's spelling (ke1_mlkem768, ke1_none).
                    ke.append("ke\(t.type - 5)_" + (t.id == 0 ? "none" : KeyExchangeGroup(rawValue: t.id).map(word) ?? "\(t.id)"))
                    continue
                }
                let text = t.type == 3 && t.id == 0 ? "" : t.type == 4 && t.id == 0 ? "" : "\(name)_\(t.id)"
                if text.isEmpty { continue }
                switch t.type {
                case 1: enc.append(text + (t.keyLength.map { "_\($0)" } ?? ""))
                case 2: prf.append(text)
                case 3: integ.append(text)
                case 4: ke.append(text)
                default: esn.append(text)
                }
            }
        }
        if esn == ["noesn"] { esn = [] }
        return (enc + integ + prf + ke + esn).joined(separator: "-")
    }

    public static func format(_ proposals: [IKEProposal]) -> String {
        proposals.isEmpty ? "no proposal" : proposals.map(format).joined(separator: ", ")
    }
}
