// RFC 7296 §3.10.1 and the IANA "IKEv2 Notify Message Types" registry (error types < 16384, status ≥ 16384).

/// Notify Message Type. Unknown values are preserved in `.unknown`.
public enum IKENotifyType: Hashable, Sendable, CustomStringConvertible {
    // Error types (RFC 7296 §3.10.1).
    case unsupportedCriticalPayload        // 1
    case invalidIKESPI                     // 4
    case invalidMajorVersion               // 5
    case invalidSyntax                     // 7
    case invalidMessageID                  // 9
    case invalidSPI                        // 11
    case noProposalChosen                  // 14
    case invalidKEPayload                  // 17
    case authenticationFailed              // 24
    case singlePairRequired                // 34
    case noAdditionalSAs                   // 35
    case internalAddressFailure            // 36
    case failedCPRequired                  // 37
    case tsUnacceptable                    // 38
    case invalidSelectors                  // 39
    case temporaryFailure                  // 43
    case childSANotFound                   // 44
    // Status types.
    case initialContact                    // 16384
    case setWindowSize                     // 16385
    case additionalTSPossible              // 16386
    case ipcompSupported                   // 16387
    case natDetectionSourceIP              // 16388
    case natDetectionDestinationIP         // 16389
    case cookie                            // 16390
    case useTransportMode                  // 16391
    case httpCertLookupSupported           // 16392
    case rekeySA                           // 16393
    case espTFCPaddingNotSupported         // 16394
    case nonFirstFragmentsAlso             // 16395
    case mobikeSupported                   // 16396 (RFC 4555)
    case additionalIP4Address              // 16397
    case additionalIP6Address              // 16398
    case noAdditionalAddresses             // 16399
    case updateSAAddresses                 // 16400
    case cookie2                           // 16401
    case noNATsAllowed                     // 16402
    case authLifetime                      // 16403 (RFC 4478)
    case multipleAuthSupported             // 16404 (RFC 4739)
    case anotherAuthFollows                // 16405
    case redirectSupported                 // 16406 (RFC 5685)
    case redirect                          // 16407
    case redirectedFrom                    // 16408
    case eapOnlyAuthentication             // 16417 (RFC 5998)
    case childlessIKEv2Supported           // 16418 (RFC 6023)
    case ikev2MessageIDSyncSupported       // 16420 (RFC 6311)
    case ipsecReplayCounterSyncSupported   // 16421
    case ikev2FragmentationSupported       // 16430 (RFC 7383)
    case signatureHashAlgorithms           // 16431 (RFC 7427)
    case usePPK                            // 16435 (RFC 8784)
    case ppkIdentity                       // 16436
    case noPPKAuth                         // 16437
    case intermediateExchangeSupported     // 16438 (RFC 9242)
    case unknown(UInt16)

    /// Every named case (for lookups and tests).
    public static let allKnown: [IKENotifyType] = [
        .unsupportedCriticalPayload, .invalidIKESPI, .invalidMajorVersion, .invalidSyntax, .invalidMessageID,
        .invalidSPI, .noProposalChosen, .invalidKEPayload, .authenticationFailed, .singlePairRequired,
        .noAdditionalSAs, .internalAddressFailure, .failedCPRequired, .tsUnacceptable, .invalidSelectors,
        .temporaryFailure, .childSANotFound,
        .initialContact, .setWindowSize, .additionalTSPossible, .ipcompSupported, .natDetectionSourceIP,
        .natDetectionDestinationIP, .cookie, .useTransportMode, .httpCertLookupSupported, .rekeySA,
        .espTFCPaddingNotSupported, .nonFirstFragmentsAlso, .mobikeSupported, .additionalIP4Address,
        .additionalIP6Address, .noAdditionalAddresses, .updateSAAddresses, .cookie2, .noNATsAllowed,
        .authLifetime, .multipleAuthSupported, .anotherAuthFollows, .redirectSupported, .redirect,
        .redirectedFrom, .eapOnlyAuthentication, .childlessIKEv2Supported, .ikev2MessageIDSyncSupported,
        .ipsecReplayCounterSyncSupported, .ikev2FragmentationSupported, .signatureHashAlgorithms, .usePPK,
        .ppkIdentity, .noPPKAuth, .intermediateExchangeSupported,
    ]

    public init(rawValue: UInt16) {
        self = Self.allKnown.first { $0.rawValue == rawValue } ?? .unknown(rawValue)
    }

    public var rawValue: UInt16 {
        switch self {
        case .unsupportedCriticalPayload: 1
        case .invalidIKESPI: 4
        case .invalidMajorVersion: 5
        case .invalidSyntax: 7
        case .invalidMessageID: 9
        case .invalidSPI: 11
        case .noProposalChosen: 14
        case .invalidKEPayload: 17
        case .authenticationFailed: 24
        case .singlePairRequired: 34
        case .noAdditionalSAs: 35
        case .internalAddressFailure: 36
        case .failedCPRequired: 37
        case .tsUnacceptable: 38
        case .invalidSelectors: 39
        case .temporaryFailure: 43
        case .childSANotFound: 44
        case .initialContact: 16384
        case .setWindowSize: 16385
        case .additionalTSPossible: 16386
        case .ipcompSupported: 16387
        case .natDetectionSourceIP: 16388
        case .natDetectionDestinationIP: 16389
        case .cookie: 16390
        case .useTransportMode: 16391
        case .httpCertLookupSupported: 16392
        case .rekeySA: 16393
        case .espTFCPaddingNotSupported: 16394
        case .nonFirstFragmentsAlso: 16395
        case .mobikeSupported: 16396
        case .additionalIP4Address: 16397
        case .additionalIP6Address: 16398
        case .noAdditionalAddresses: 16399
        case .updateSAAddresses: 16400
        case .cookie2: 16401
        case .noNATsAllowed: 16402
        case .authLifetime: 16403
        case .multipleAuthSupported: 16404
        case .anotherAuthFollows: 16405
        case .redirectSupported: 16406
        case .redirect: 16407
        case .redirectedFrom: 16408
        case .eapOnlyAuthentication: 16417
        case .childlessIKEv2Supported: 16418
        case .ikev2MessageIDSyncSupported: 16420
        case .ipsecReplayCounterSyncSupported: 16421
        case .ikev2FragmentationSupported: 16430
        case .signatureHashAlgorithms: 16431
        case .usePPK: 16435
        case .ppkIdentity: 16436
        case .noPPKAuth: 16437
        case .intermediateExchangeSupported: 16438
        case .unknown(let v): v
        }
    }

    /// Error types are below 16384 (RFC 7296 §3.10.1); an unrecognised error type still means failure.
    public var isError: Bool { rawValue < 16384 }

    public var description: String {
        switch self {
        case .unknown(let v): "notify(\(v))"
        default: "\(rawValue)"
        }
    }
}
