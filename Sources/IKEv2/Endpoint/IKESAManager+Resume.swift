import NetTypes

extension IKESAManager {
    /// What a peer's new IKE SA waited for has arrived (the daemon's resolver answered for the
    /// peer's name, `IKESessionFactoryError.waiting`): its pending re-initiation, or the retry
    /// of its reauthentication, is due now instead of after the pause. The caller then fires
    /// the timers. False when the peer is unknown or waits for nothing.
    @discardableResult
    public func resume(_ tunnel: TunnelID, now: IKEInstant) -> Bool {
        guard let i = table.peerIndex(of: tunnel), !shuttingDown else { return false }
        var resumed = false
        for timer in [IKEEndpointTimer.reinitiate(peer: i), .reauthenticationRetry(peer: i)] where table.timers[timer] != nil {
            table.timers[timer] = now
            resumed = true
        }
        return resumed
    }
}
