/// Certificate and CRL times (epoch seconds) as Viaduct's messages print them,
/// "2025-01-31 12:00:00 UTC", for callers outside PKI (the daemon's reload and expiry messages).
public enum PKITime {
    public static func format(_ epochSeconds: Int64) -> String { X509Support.formatTime(epochSeconds) }
}
