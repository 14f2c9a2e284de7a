import Foundation
import Glibc

/// What `viaduct bench dataplane` reads around each iperf3 run: this process's CPU time, the
/// data plane's worker threads' clock ticks, and iperf3's JSON.
public enum DataplaneBenchmark {
    /// User + system CPU seconds of this process (both data planes).
    public static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// User + system clock ticks of this process's data-plane worker threads (gw-a-out, gw-a-in,
    /// gw-b-out, gw-b-in), from /proc/self/task/TID/stat (fields 14 and 15, after the command name).
    public static func workerThreadTicks() -> [String: Int] {
        var ticks: [String: Int] = [:]
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return ticks }
        for task in tasks {
            guard let comm = try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8),
                  let stat = try? String(contentsOfFile: "/proc/self/task/\(task)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let name = comm.trimmingCharacters(in: .whitespacesAndNewlines)
            guard name.hasPrefix("gw-") else { continue }
            // After "pid (comm) ": state is field 3, utime 14, stime 15.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else { continue }
            ticks[name, default: 0] += user + system
        }
        return ticks
    }

    /// iperf3 -J: end.sum_sent.retransmits (the sender's TCP retransmissions over the run).
    public static func retransmits(_ json: String) -> Int? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let end = object["end"] as? [String: Any],
              let sent = end["sum_sent"] as? [String: Any] else { return nil }
        return (sent["retransmits"] as? NSNumber)?.intValue
    }

    /// iperf3 -J: end.sum_received.bits_per_second.
    public static func receivedBitsPerSecond(_ json: String) -> Double {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let end = object["end"] as? [String: Any],
              let received = end["sum_received"] as? [String: Any],
              let bps = received["bits_per_second"] as? Double else { return 0 }
        return bps
    }
}
