// RFC 7296 §3.3.1: the SA payload proposal of an initial IKE_SA_INIT (empty SPI).

extension IKEAlgorithmSet {
    /// The proposal as the engine's initiator puts it in SAi1: for tools outside the engine
    /// that must send well-formed IKE_SA_INIT requests (the flood generator, tests).
    public func initialProposal(number: UInt8) -> IKEProposal { wireProposal(number: number) }
}
