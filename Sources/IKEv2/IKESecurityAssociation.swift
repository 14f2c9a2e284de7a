// RFC 7296 §3.3: the Security Association payload.

/// SA payload body: one or more proposals.
public struct IKESecurityAssociation: Hashable, Sendable {
    public var proposals: [IKEProposal]

    public init(proposals: [IKEProposal]) { self.proposals = proposals }

    public init(decoding reader: inout IKEByteReader) throws(IKEDecodeError) {
        var proposals: [IKEProposal] = []
        var lastFlag: UInt8 = reader.isAtEnd ? 0 : 2
        while lastFlag == 2 {
            guard proposals.count < IKELimits.maxProposals else { throw reader.error(.limitExceeded, "proposals") }
            guard !reader.isAtEnd else { throw reader.error(.invalidSubstructure, "proposal announced but SA ended") }
            let (proposal, flag) = try IKEProposal.decode(from: &reader)
            proposals.append(proposal)
            lastFlag = flag
        }
        try reader.requireAtEnd("data after the last proposal")
        self.proposals = proposals
    }

    public func encode(into writer: inout IKEByteWriter) {
        for (i, proposal) in proposals.enumerated() {
            proposal.encode(into: &writer, isLast: i == proposals.count - 1)
        }
    }
}
