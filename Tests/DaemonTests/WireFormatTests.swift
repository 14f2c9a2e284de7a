@testable import Daemon
import Foundation
import IKEv2
import Logging
import NetTypes
import System
import Testing
import TestSupport

/// RFC 3948 §2.2 non-ESP marker, byte by byte, and the daemon's log line format.
struct WireFormatTests {
    @Test func markerIsStrippedOnlyOnTheNATTPort() {
        let ike = ikeMessage(spiI: 1, spiR: 0, initiator: true, response: false)
        let a = IKEEndpoint(address: gwA, port: 4500), b = IKEEndpoint(address: gwB, port: 4500)
        #expect(IKESocketSet.classify(.init(bytes: [0, 0, 0, 0] + ike, source: b, destination: a), ports: .standard)
                == .ike(IKEDatagram(bytes: ike, source: b, destination: a)))
        let a500 = IKEEndpoint(address: gwA, port: 500), b500 = IKEEndpoint(address: gwB, port: 500)
        #expect(IKESocketSet.classify(.init(bytes: ike, source: b500, destination: a500), ports: .standard)
                == .ike(IKEDatagram(bytes: ike, source: b500, destination: a500)))
        #expect(NonESPMarker.classify([0, 0, 0, 1, 9]) == .esp)
        #expect(NonESPMarker.classify([0xFF]) == .keepalive)
        for n in 0..<4 { #expect(NonESPMarker.classify([UInt8](repeating: 0, count: n)) == .malformed) }
    }

    @Test func markerIsAddedWhenEitherPortIsNATT() {
        let body: [UInt8] = [1, 2, 3]
        func wire(_ sp: UInt16, _ dp: UInt16) -> [UInt8] {
            IKESocketSet.wireBytes(IKEDatagram(bytes: body, source: IKEEndpoint(address: gwA, port: sp),
                                               destination: IKEEndpoint(address: gwB, port: dp)), ports: .standard)
        }
        #expect(wire(500, 500) == body)
        #expect(wire(4500, 4500) == [0, 0, 0, 0] + body)
        #expect(wire(500, 4500) == [0, 0, 0, 0] + body)
        #expect(wire(4500, 1234) == [0, 0, 0, 0] + body)
    }

    @Test func pollTimeoutRoundsUpAndCaps() {
        let now = IKEInstant(nanoseconds: 5_000_000_000)
        #expect(SystemMonotonicClock.pollTimeout(until: nil, now: now) == -1)
        #expect(SystemMonotonicClock.pollTimeout(until: IKEInstant(nanoseconds: 4_000_000_000), now: now) == 0)
        #expect(SystemMonotonicClock.pollTimeout(until: IKEInstant(nanoseconds: 5_000_000_001), now: now) == 1)
        #expect(SystemMonotonicClock.pollTimeout(until: now.adding(seconds: 2.5), now: now) == 2500)
        #expect(SystemMonotonicClock.pollTimeout(until: now.adding(seconds: 3600), now: now, cap: 1000) == 1000)
    }

    /// sd-daemon(3) prefixes: journald takes `<N>` as the entry's priority (journalctl -p).
    @Test func journalLinesCarryTheirSyslogPriority() {
        let lines = LogCapture()
        var h = KeyValueLogHandler(label: "t", level: .trace, journalPriorities: true) { lines.append($0) }
        h[metadataKey: "peer"] = "dc2"
        for (level, n) in [(Logger.Level.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2)] {
            h.log(event: LogEvent(level: level, message: "m", metadata: nil, source: "t", file: "f", function: "g", line: 1))
            #expect(lines.lines.last == "<\(n)>\(level.rawValue) m peer=dc2\n")
        }
        let plain = LogCapture()
        let p = KeyValueLogHandler(label: "t", level: .info) { plain.append($0) }
        p.log(event: LogEvent(level: .warning, message: "m", metadata: nil, source: "t", file: "f", function: "g", line: 1))
        #expect(plain.lines.last == "warning m\n")
    }

    /// JOURNAL_STREAM is `DEVICE:INODE`; anything else, or a stream that is not stderr, is not the journal.
    @Test func journalStreamMustBeStderr() {
        #expect(KeyValueLogHandler.parseJournalStream("8:123456")! == (8, 123456))
        #expect(KeyValueLogHandler.parseJournalStream("8:") == nil)
        #expect(KeyValueLogHandler.parseJournalStream("8:1:2") == nil)
        #expect(KeyValueLogHandler.parseJournalStream("x:1") == nil)
        #expect(!KeyValueLogHandler.stderrIsJournal(environment: [:]))
        #expect(!KeyValueLogHandler.stderrIsJournal(environment: ["JOURNAL_STREAM": "1:1"]))
        if let (dev, ino) = Syscall.deviceAndInode(2) {
            #expect(KeyValueLogHandler.stderrIsJournal(environment: ["JOURNAL_STREAM": "\(dev):\(ino)"]))
        }
    }

    @Test func logValuesWithSpacesAreQuoted() {
        #expect(KeyValueLogHandler.quote("dc2") == "dc2")
        #expect(KeyValueLogHandler.quote("a b") == "\"a b\"")
        #expect(KeyValueLogHandler.quote("say \"hi\"") == "\"say \\\"hi\\\"\"")
        #expect(KeyValueLogHandler.quote("") == "\"\"")
    }
}
