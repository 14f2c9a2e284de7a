import Foundation
import TestSupport
import Testing
@testable import Topology

/// Mutated copies of the examples, the mistakes a person makes by hand: lines dropped or
/// duplicated, indentation shifted, tabs, characters swapped, scalars replaced with lists or
/// garbage. The loader must answer each with a result or located diagnostics, never a crash.
@Suite("Validator fuzzing with mutated examples")
struct FuzzTests {
    static let garbage = ["[", "]", "{", "}", ":", "- ", "\t", "&a", "*a", "!!binary", "'", "\"", "#", "|", ">",
                          "999999999999999999999999", "-1", "0", "1.5", "null", "~", "true", "2001:db8::/200",
                          "198.18.0.0/99", "x25519-", "\u{0}", "\u{feff}", "é", "%TAG", "? ", "<<: *a"]

    static func mutate(_ text: String, rng: inout SplitMix64) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let edits = Int.random(in: 1...3, using: &rng)
        for _ in 0..<edits where !lines.isEmpty {
            let i = Int.random(in: 0..<lines.count, using: &rng)
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: lines.remove(at: i)
            case 1: lines.insert(lines[i], at: i)
            case 2: lines[i] = " " + lines[i]
            case 3: lines[i] = String(lines[i].drop { $0 == " " })
            case 4: lines[i] = "\t" + lines[i]
            case 5:
                var chars = Array(lines[i])
                if chars.count > 1 {
                    let j = Int.random(in: 0..<(chars.count - 1), using: &rng)
                    chars.swapAt(j, j + 1)
                    lines[i] = String(chars)
                }
            case 6:
                if let colon = lines[i].firstIndex(of: ":") {
                    lines[i] = String(lines[i][...colon]) + " " + garbage.randomElement(using: &rng)!
                }
            case 7:
                var chars = Array(lines[i])
                let j = chars.isEmpty ? 0 : Int.random(in: 0..<chars.count, using: &rng)
                chars.insert(contentsOf: garbage.randomElement(using: &rng)!, at: j)
                lines[i] = String(chars)
            case 8:
                if let colon = lines[i].firstIndex(of: ":") {
                    lines[i] = String(lines[i][...colon]) + " [a, [b, {c: d}]]"
                }
            default:
                lines[i] = String(lines[i].prefix(Int.random(in: 0...max(0, lines[i].count), using: &rng)))
            }
        }
        return lines.joined(separator: "\n")
    }

    @Test("3,000 mutations of every example: located diagnostics or a plan, never a crash")
    func mutatedExamples() throws {
        var rng = SplitMix64(seed: 0x5eed_2026)
        var invalid = 0, valid = 0
        for file in topologyFiles("Topologies") {
            let original = readRepoFile(file)
            let lineCount = original.split(separator: "\n", omittingEmptySubsequences: false).count
            for _ in 0..<600 {
                let text = Self.mutate(original, rng: &rng)
                let l = TopologyLoader.load(yaml: text, file: file)
                if l.isValid, let t = l.topology {
                    valid += 1
                    for g in t.gateways where g.managed {
                        _ = NodePlanner.plan(t, links: l.links, node: g.name, fileExists: { _ in true })
                    }
                } else {
                    invalid += 1
                    #expect(!l.errors.isEmpty, "invalid without an error:\n\(text)")
                    for d in l.diagnostics {
                        #expect(d.location.file == file)
                        #expect(d.location.line >= 0 && d.location.line <= lineCount + 3, "\(d)")
                        #expect(!d.message.isEmpty)
                    }
                }
            }
        }
        #expect(invalid > 1000, "the mutations should mostly break the file (\(invalid) invalid, \(valid) valid)")
    }

    @Test("random bytes are refused with a diagnostic, never a crash")
    func randomBytes() {
        var rng = SplitMix64(seed: 42)
        for n in 0..<300 {
            let bytes = (0..<(n * 3)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let text = String(decoding: bytes, as: UTF8.self)
            let l = TopologyLoader.load(yaml: text, file: "random.yaml")
            #expect(!l.isValid)
        }
    }
}
