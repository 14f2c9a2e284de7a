// ike-stateful: the engine behind the integrity check (RFC 7296 §1.2-§1.4, §2.8, §2.18). Two
// sessions reach a known state (IKE_SA_INIT done, or established); then the fuzzer's plaintexts
// are sealed with the IKE SA's keys as IKE_AUTH / CREATE_CHILD_SA / INFORMATIONAL requests or
// responses and fed to one side, so the payload processing after decryption is what is fuzzed.
//
// Input: mode (1 byte), then up to 4 messages, each: kind (1), first payload type (1), plaintext
// (a 16-bit length, then the bytes). Modes (mode % 5):
//   0  IKE_AUTH request to the responder, after IKE_SA_INIT
//   1  IKE_AUTH response to the initiator, after IKE_SA_INIT (its request outstanding)
//   2  requests to the established responder, from the initiator
//   3  requests to the established initiator, from the responder
//   4  responses to the established initiator's own requests (kind / 4 % 4 picks the command
//      that makes it send one: rekey-child, rekey-ike, delete-child, delete-ike)
// kind % 4 picks the exchange (IKE_AUTH, CREATE_CHILD_SA, INFORMATIONAL, or the kind byte itself);
// kind bit 7: afterwards, move time 40 s on and fire both sides' timers.
import FuzzSupport
import IKEv2

enum Mode: UInt8, CaseIterable {
    case authRequest, authResponse, requestToResponder, requestToInitiator, responseToInitiator
}

let commands: [SessionCommand] = [.rekeyChild, .rekeyIKE, .deleteChild, .deleteIKE]

func exchange(_ kind: UInt8) -> IKEExchangeType {
    switch kind % 4 {
    case 0: .ikeAuth
    case 1: .createChildSA
    case 2: .informational
    default: IKEExchangeType(rawValue: kind)
    }
}

/// The two states, reached once per process (two certificate handshakes); every input runs on
/// a copy (`EnginePair.copy`), so it starts from the same state whatever came before.
@MainActor let afterSAInit = prepared(EnginePair.afterSAInit())
@MainActor let established = prepared(EnginePair.established())

func prepared(_ pair: EnginePair) -> EnginePair {
    pair.checkCopies()
    return pair
}

@MainActor
func run(_ input: [UInt8]) {
    var reader = FuzzReader(input)
    let mode = Mode.allCases[Int(reader.u8()) % Mode.allCases.count]
    let pair: EnginePair
    switch mode {
    case .authRequest, .authResponse: pair = afterSAInit.copy()
    default: pair = established.copy()
    }
    for _ in 0..<4 where !reader.isAtEnd {
        let kind = reader.u8()
        let first = reader.u8()
        let plaintext = reader.record()
        let datagram: IKEDatagram?
        let receiver: IKESession
        switch mode {
        case .authRequest, .requestToResponder:
            receiver = pair.responder
            datagram = pair.sealed(from: pair.initiator, exchange(kind), messageID: pair.expectedRequestID(of: receiver),
                                   response: false, firstPayload: first, plaintext: plaintext)
        case .authResponse:
            receiver = pair.initiator
            let id = pair.outstanding(of: receiver)?.messageID ?? 1
            datagram = pair.sealed(from: pair.responder, exchange(kind), messageID: id, response: true,
                                   firstPayload: first, plaintext: plaintext)
        case .requestToInitiator:
            receiver = pair.initiator
            datagram = pair.sealed(from: pair.responder, exchange(kind), messageID: pair.expectedRequestID(of: receiver),
                                   response: false, firstPayload: first, plaintext: plaintext)
        case .responseToInitiator:
            receiver = pair.initiator
            if pair.outstanding(of: receiver) == nil {
                _ = receiver.perform(commands[Int(kind / 4) % commands.count], now: pair.now)
                _ = pair.take(from: receiver)
            }
            let outstanding = pair.outstanding(of: receiver)
            datagram = pair.sealed(from: pair.responder, outstanding?.exchange ?? exchange(kind), messageID: outstanding?.messageID ?? 0,
                                   response: true, firstPayload: first, plaintext: plaintext)
        }
        if let datagram { receiver.receive(datagram, now: pair.now) }
        _ = pair.take(from: pair.initiator)
        _ = pair.take(from: pair.responder)
        pair.drainEvents()
        if kind & 0x80 != 0 {
            pair.advance(seconds: 40)
            _ = pair.take(from: pair.initiator)
            _ = pair.take(from: pair.responder)
        }
    }
}

/// Seeds: the plaintexts the two engines really exchange (IKE_AUTH both ways, a Child SA rekey,
/// an IKE SA rekey, a Child SA delete, an IKE SA delete), in this target's input layout.
func writeSeeds(to directory: String) {
    var seeds: [(String, [UInt8])] = []
    func record(_ name: String, _ mode: Mode, _ messages: [(kind: UInt8, first: UInt8, plaintext: [UInt8])]) {
        var w = FuzzWriter()
        w.u8(mode.rawValue)
        for m in messages { w.u8(m.kind); w.u8(m.first); w.record(m.plaintext) }
        seeds.append((name, w.bytes))
    }
    // IKE_AUTH request and response.
    let pair = EnginePair()
    pair.initiator.start(now: pair.now)
    pair.deliver(from: pair.initiator, to: pair.responder)
    pair.deliver(from: pair.responder, to: pair.initiator)
    let authRequest = pair.take(from: pair.initiator)
    if let r = authRequest.first, let o = pair.opened(r, by: pair.responder) {
        record("engine-ike-auth-request", .authRequest, [(0, o.firstPayload, o.plaintext)])
    }
    for d in authRequest { pair.responder.receive(d, now: pair.now) }
    if let r = pair.take(from: pair.responder).first, let o = pair.opened(r, by: pair.initiator) {
        record("engine-ike-auth-response", .authResponse, [(0, o.firstPayload, o.plaintext)])
    }
    // Each command: its request (to the responder) and its response (to the initiator).
    for (index, command) in commands.enumerated() {
        let pair = EnginePair.established()
        _ = pair.initiator.perform(command, now: pair.now)
        let kind = UInt8(index * 4) | (command == .deleteChild || command == .deleteIKE ? 2 : 1)
        guard let request = pair.take(from: pair.initiator).first, let o = pair.opened(request, by: pair.responder) else { continue }
        record("engine-\(command.rawValue)-request", .requestToResponder, [(kind, o.firstPayload, o.plaintext)])
        record("engine-\(command.rawValue)-request-to-initiator", .requestToInitiator, [(kind, o.firstPayload, o.plaintext)])
        pair.responder.receive(request, now: pair.now)
        guard let response = pair.take(from: pair.responder).first, let p = pair.opened(response, by: pair.initiator) else { continue }
        record("engine-\(command.rawValue)-response", .responseToInitiator, [(kind, p.firstPayload, p.plaintext)])
    }
    SeedFiles.write(seeds, to: directory)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzDriver.bytes(data, size)
    MainActor.assumeIsolated { run(input) }
    return 0
}

@_cdecl("IKEStateful_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzDriver.run(argc, argv, testOneInput, writeSeeds: { writeSeeds(to: $0) })
}
