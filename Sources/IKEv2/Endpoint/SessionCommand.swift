import NetTypes


/// What an operator can ask of a running tunnel, as `swanctl --rekey` / `--terminate` do for
/// strongSwan: RFC 7296 §1.3.2/§2.18 (rekey the IKE SA), §1.3.3/§2.8 (rekey the Child SA),
/// §1.4.1 (delete the Child SA, or the IKE SA with everything in it).
public enum SessionCommand: String, Codable, Hashable, Sendable, CaseIterable {
    case rekeyIKE = "rekey-ike"
    case rekeyChild = "rekey-child"
    case deleteChild = "delete-child"
    case deleteIKE = "delete-ike"
}

extension IKESession {
    /// Runs `command` on an established IKE SA; false when there is none (or no Child SA to act on).
    public func perform(_ command: SessionCommand, now: IKEInstant) -> Bool {
        guard state == .established else { return false }
        switch command {
        case .rekeyIKE: rekeyIKESA(now: now)
        case .rekeyChild:
            guard childSA != nil else { return false }
            rekeyChildSA(now: now)
        case .deleteChild:
            guard let spi = childSA?.inboundSPI else { return false }
            deleteChildSA(inboundSPI: spi, now: now)
        case .deleteIKE: close(now: now)
        }
        return true
    }

    /// §1.4.1: deletes the Child SA `inboundSPI` if this IKE SA holds it and is not deleting it already.
    public func deleteChild(inboundSPI: ESPSPI, now: IKEInstant) -> Bool {
        guard state == .established, let child = phase.up?.children.first(where: { $0.inboundSPI == inboundSPI }),
              child.phase != .deleting else { return false }
        deleteChildSA(inboundSPI: inboundSPI, now: now)
        return true
    }
}
