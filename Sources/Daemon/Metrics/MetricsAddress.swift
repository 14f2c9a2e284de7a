import Glibc
import IKEv2

/// Where `viaduct run --metrics` listens: `127.0.0.1:9469` or `[::1]:9469`, a literal address
/// and a port, no names (the daemon resolves nothing). Parsed once at start; errors name the
/// value and say what was expected.
public struct MetricsAddress: Hashable, Sendable, CustomStringConvertible {
    public let endpoint: IKEEndpoint

    public init(parsing text: String) throws(DaemonError) {
        let bad = DaemonError(.configuration, "--metrics '\(text)': expected ADDRESS:PORT, e.g. 127.0.0.1:9469 or [::1]:9469")
        let host: Substring
        let port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { throw bad }
            host = text[text.index(after: text.startIndex)..<close]
            port = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { throw bad }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        guard let p = UInt16(port), p != 0, let address = Self.address(String(host)) else { throw bad }
        endpoint = IKEEndpoint(address: address, port: p)
    }

    private static func address(_ s: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, s, &v4) == 1 { return withUnsafeBytes(of: v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, s, &v6) == 1 { return withUnsafeBytes(of: v6) { Array($0) } }
        return nil
    }

    public var description: String {
        endpoint.address.count == 16 ? "[\(endpoint.addressText)]:\(endpoint.port)" : "\(endpoint.addressText):\(endpoint.port)"
    }
}
