// RFC 7296 §3.3.2, §3.3.5: mapping raw transforms to CryptoCore's algorithm enums and back.
import CryptoCore

/// A transform Viaduct understands, as a CryptoCore algorithm.
public enum IKETransformAlgorithm: Hashable, Sendable {
    case encryption(EncryptionAlgorithm)
    case prf(PRFAlgorithm)
    case integrity(IntegrityAlgorithm)
    case keyExchange(KeyExchangeGroup)
    /// ESN transform: true for ID 1 (extended sequence numbers), false for ID 0.
    case extendedSequenceNumbers(Bool)
}

extension IKETransform {
    /// The wire form of a known algorithm (with its Key Length attribute where the ID needs one).
    public init(_ algorithm: IKETransformAlgorithm) {
        switch algorithm {
        case .encryption(let enc):
            self.init(
                type: TransformType.encryption.rawValue, id: enc.transformID,
                attributes: enc.keyLengthAttribute.map { [.keyLength($0)] } ?? [])
        case .prf(let prf):
            self.init(type: TransformType.prf.rawValue, id: prf.transformID)
        case .integrity(let integ):
            self.init(type: TransformType.integrity.rawValue, id: integ.transformID)
        case .keyExchange(let group):
            self.init(type: TransformType.keyExchange.rawValue, id: group.transformID)
        case .extendedSequenceNumbers(let on):
            self.init(type: TransformType.extendedSequenceNumbers.rawValue, id: on ? 1 : 0)
        }
    }

    /// The transform type, when it is one RFC 7296 defines.
    public var transformType: TransformType? { TransformType(rawValue: type) }

    /// The algorithm, or nil when the type/ID is unknown to CryptoCore or the transform carries an
    /// attribute other than Key Length (RFC 7296 §3.3.6: such a transform must not be selected).
    public var algorithm: IKETransformAlgorithm? {
        var keyLength: UInt16?
        for attribute in attributes {
            guard case .keyLength(let bits) = attribute, keyLength == nil else { return nil }
            keyLength = bits
        }
        switch transformType {
        case .encryption:
            return EncryptionAlgorithm(transformID: id, keyLength: keyLength).map { .encryption($0) }
        case .prf:
            guard keyLength == nil else { return nil }
            return PRFAlgorithm(rawValue: id).map { .prf($0) }
        case .integrity:
            guard keyLength == nil else { return nil }
            return IntegrityAlgorithm(rawValue: id).map { .integrity($0) }
        case .keyExchange:
            guard keyLength == nil else { return nil }
            return KeyExchangeGroup(rawValue: id).map { .keyExchange($0) }
        case .extendedSequenceNumbers:
            guard keyLength == nil, id <= 1 else { return nil }
            return .extendedSequenceNumbers(id == 1)
        case nil:
            return nil
        }
    }
}
