/// Child SA keys split from KEYMAT (RFC 7296 §2.17): one pair per traffic direction.
public struct ChildSAKeys: Sendable {
    /// Keys for one direction: encryption key material (key then salt for AEADs) and, for
    /// non-AEAD ciphers, the integrity key.
    public struct Direction: Sendable {
        public let encryption: SecureBytes
        public let integrity: SecureBytes?

        public init(encryption: SecureBytes, integrity: SecureBytes?) {
            self.encryption = encryption
            self.integrity = integrity
        }
    }

    public let initiatorToResponder: Direction
    public let responderToInitiator: Direction

    public init(initiatorToResponder: Direction, responderToInitiator: Direction) {
        self.initiatorToResponder = initiatorToResponder
        self.responderToInitiator = responderToInitiator
    }

    /// (outbound, inbound) for our role: the initiator sends with the initiator->responder keys.
    public func directions(isInitiator: Bool) -> (outbound: Direction, inbound: Direction) {
        isInitiator ? (initiatorToResponder, responderToInitiator) : (responderToInitiator, initiatorToResponder)
    }
}
