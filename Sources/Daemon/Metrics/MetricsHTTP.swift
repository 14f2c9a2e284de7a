/// The little HTTP/1.x the metrics endpoint speaks (RFC 9112): it reads one request head, answers
/// `GET /metrics` with the Prometheus text format (version 0.0.4) and anything else with 404,
/// and closes the connection. Pure bytes in, bytes out, so tests need no socket.
enum MetricsHTTP {
    /// A request head larger than this is refused (431) and the connection closed.
    static let maxRequestHead = 8 * 1024
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    enum Parse: Equatable {
        /// No blank line yet: keep reading.
        case incomplete
        case tooLarge
        case malformed
        case request(method: String, path: String)
    }

    /// Looks for the end of the head (CRLF CRLF, or LF LF from hand-typed clients) and splits
    /// the request line.
    static func parse(_ bytes: [UInt8]) -> Parse {
        guard let end = headEnd(bytes) else { return bytes.count > maxRequestHead ? .tooLarge : .incomplete }
        if end > maxRequestHead { return .tooLarge }
        let lineEnd = bytes.firstIndex(of: 0x0A) ?? end
        let line = String(decoding: bytes[..<lineEnd], as: UTF8.self).trimmingSuffix("\r")
        let parts = line.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1."), !parts[0].isEmpty, parts[1].hasPrefix("/") else { return .malformed }
        let target = parts[1]
        let path = target.firstIndex(of: "?").map { target[..<$0] } ?? target
        return .request(method: String(parts[0]), path: String(path))
    }

    private static func headEnd(_ b: [UInt8]) -> Int? {
        var i = 0
        while i < b.count {
            if b[i] == 0x0A {
                if i + 1 < b.count && b[i + 1] == 0x0A { return i + 2 }
                if i + 2 < b.count && b[i + 1] == 0x0D && b[i + 2] == 0x0A { return i + 3 }
            }
            i += 1
        }
        return nil
    }

    /// The whole answer to one request; `metrics` is only called for `GET /metrics`.
    static func respond(to parse: Parse, metrics: () -> [UInt8]) -> [UInt8] {
        switch parse {
        case .request("GET", "/metrics"):
            return response(200, "OK", contentType: contentType, body: metrics())
        case .request:
            return response(404, "Not Found", contentType: "text/plain; charset=utf-8", body: Array("not found: try GET /metrics\n".utf8))
        case .tooLarge:
            return response(431, "Request Header Fields Too Large", contentType: "text/plain; charset=utf-8", body: [])
        case .malformed, .incomplete:
            return response(400, "Bad Request", contentType: "text/plain; charset=utf-8", body: [])
        }
    }

    static func response(_ status: Int, _ reason: String, contentType: String, body: [UInt8]) -> [UInt8] {
        let head = "HTTP/1.1 \(status) \(reason)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + body
    }
}

extension String {
    fileprivate func trimmingSuffix(_ s: String) -> String { hasSuffix(s) ? String(dropLast(s.count)) : self }
}
