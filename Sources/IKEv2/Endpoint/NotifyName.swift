/// RFC 7296 §3.10.1 error notify names as RFC 7296 and strongSwan's log spell them, for
/// log lines a network engineer can search for.
public enum NotifyName {
    public static func of(_ type: UInt16) -> String {
        switch type {
        case 1: "UNSUPPORTED_CRITICAL_PAYLOAD"
        case 4: "INVALID_IKE_SPI"
        case 5: "INVALID_MAJOR_VERSION"
        case 7: "INVALID_SYNTAX"
        case 9: "INVALID_MESSAGE_ID"
        case 11: "INVALID_SPI"
        case 14: "NO_PROPOSAL_CHOSEN"
        case 17: "INVALID_KE_PAYLOAD"
        case 24: "AUTHENTICATION_FAILED"
        case 34: "SINGLE_PAIR_REQUIRED"
        case 35: "NO_ADDITIONAL_SAS"
        case 36: "INTERNAL_ADDRESS_FAILURE"
        case 37: "FAILED_CP_REQUIRED"
        case 38: "TS_UNACCEPTABLE"
        case 39: "INVALID_SELECTORS"
        case 43: "TEMPORARY_FAILURE"
        case 44: "CHILD_SA_NOT_FOUND"
        default: "NOTIFY_\(type)"
        }
    }
}
