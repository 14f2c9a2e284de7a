// topology: the topology loader (YAML through libyaml's event parser, then the validator) and,
// for a topology without errors, the planner for every gateway: YAML in, diagnostics or plans
// out. The input is a topology file's contents.
import FuzzSupport
import Foundation
import Topology

func run(_ input: [UInt8]) {
    let loaded = TopologyLoader.load(contents: Data(input), file: "fuzz.yaml")
    for d in loaded.diagnostics { _ = "\(d)" }
    guard loaded.isValid, let topology = loaded.topology else { return }
    for gateway in topology.gateways {
        _ = NodePlanner.plan(topology, links: loaded.links, node: gateway.name, fileExists: { _ in true })
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    run(FuzzDriver.bytes(data, size))
    return 0
}

@_cdecl("TopologyLoad_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzDriver.run(argc, argv, testOneInput)
}
