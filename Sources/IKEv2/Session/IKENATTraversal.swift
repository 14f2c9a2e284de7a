// RFC 7296 §2.23 (NAT traversal: which side is behind the NAT, following a peer's new
// mapping) and RFC 3948 §2.3 / §4 (NAT-keepalive: one 0xFF octet on the NAT-T port).
import NetTypes

/// Where the NAT is and when the next keepalive is due.
struct IKENATTraversalState {
    var peerBehindNAT = false
    var localBehindNAT = false
    var nextKeepalive: IKEInstant?
    var keepalivesSent = 0
    var peerEndpointChanges = 0
}

extension IKEDatagram {
    /// RFC 3948 §2.3: the NAT-keepalive. Not an IKE message: the daemon sends these bytes as
    /// they are, without the non-ESP marker.
    public static func natKeepalive(from local: IKEEndpoint, to peer: IKEEndpoint) -> IKEDatagram {
        IKEDatagram(bytes: [0xFF], source: local, destination: peer)
    }

    public var isNATKeepalive: Bool { bytes == [0xFF] }
}

extension IKESession {
    /// We are behind a NAT (the peer's NAT_DETECTION_DESTINATION_IP did not match our address).
    public var localBehindNAT: Bool { natTraversal.localBehindNAT }
    /// The peer is behind a NAT, or fakes being so to force encapsulation.
    public var peerBehindNAT: Bool { natTraversal.peerBehindNAT }
    public var natKeepalivesSent: Int { natTraversal.keepalivesSent }

    /// IKE_SA_INIT: records which side the NAT is on and, when it is ours, schedules keepalives.
    func recordNATSituation(_ notifies: [IKENotify], spiR: IKESPI, datagram: IKEDatagram, now: IKEInstant) {
        let s = IKENATDetection.situation(in: notifies, spiI: initiatorSPI, spiR: spiR, datagram: datagram)
        natTraversal.peerBehindNAT = s.peerBehindNAT
        natTraversal.localBehindNAT = s.localBehindNAT
        if s.localBehindNAT, configuration.natKeepaliveSeconds > 0 {
            natTraversal.nextKeepalive = now.adding(seconds: configuration.natKeepaliveSeconds)
        }
    }

    /// RFC 3948 §4: keepalives only while the SA is up and we are the one behind the NAT. The
    /// engine does not see ESP, so they are sent on a fixed period rather than after idle time;
    /// one octet every 20 s costs nothing.
    var natKeepaliveDeadline: IKEInstant? {
        guard state == .established, natTraversal.localBehindNAT else { return nil }
        return natTraversal.nextKeepalive
    }

    func natKeepaliveTimer(now: IKEInstant) {
        guard let due = natKeepaliveDeadline, now >= due else { return }
        transmitQueue.append(.natKeepalive(from: local, to: peer))
        natTraversal.keepalivesSent += 1
        natTraversal.nextKeepalive = now.adding(seconds: configuration.natKeepaliveSeconds)
    }

    /// RFC 7296 §2.23: "a host that is not behind a NAT SHOULD send all packets (including
    /// retransmission packets) to the IP address and port in the validated packet" when the
    /// peer's NAT changed its mapping. Called with every authenticated message of an established
    /// SA; the Child SAs follow (`peerEndpointChanged`), and so does a request being retransmitted.
    func followPeerEndpoint(_ datagram: IKEDatagram, _ up: inout IKEEstablishedSA) {
        guard natTraversal.peerBehindNAT, !natTraversal.localBehindNAT, datagram.source != peer,
              datagram.source.address.count == peer.address.count, datagram.destination == local else { return }
        let previous = peer
        peer = datagram.source
        natTraversal.peerEndpointChanges += 1
        for i in up.children.indices { up.children[i].parameters.peer = peer }
        if var request = window.outstanding {
            request.datagram.destination = peer
            for j in request.fragments.indices { request.fragments[j].destination = peer }
            window.outstanding = request
        }
        emit(.peerEndpointChanged(previous: previous, peer: peer, inboundSPIs: up.children.map(\.inboundSPI)))
    }
}
