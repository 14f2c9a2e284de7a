import Foundation
import CNftables
import KernelModel

/// An error from libnftables: what was run (a summary) and what nft said.
public struct NftablesError: Error, Sendable, CustomStringConvertible {
    public var context: String
    public var message: String
    public var description: String { "\(context): \(message)" }
}

/// One libnftables context (`nft_ctx`), with output and errors buffered, owned by this object.
/// Runs nft command text in the calling thread's network namespace. Viaduct only ever gives it
/// scripts about its own table (`MSSClampRuleset`).
public final class Nftables {
    private let context: OpaquePointer

    public init() throws(NftablesError) {
        guard let c = nft_ctx_new(0) else {
            throw NftablesError(context: "opening libnftables", message: "nft_ctx_new failed")
        }
        context = c
        _ = nft_ctx_buffer_output(context)
        _ = nft_ctx_buffer_error(context)
    }

    deinit { nft_ctx_free(context) }

    /// Runs `script` as one transaction; returns nft's output (JSON with `json`).
    @discardableResult
    public func run(_ script: String, json: Bool = false, context what: String) throws(NftablesError) -> String {
        nft_ctx_output_set_flags(context, json ? UInt32(NFT_CTX_OUTPUT_JSON) : 0)
        let status = nft_run_cmd_from_buffer(context, script)
        let output = nft_ctx_get_output_buffer(context).map { String(cString: $0) } ?? ""
        let errors = nft_ctx_get_error_buffer(context).map { String(cString: $0) } ?? ""
        guard status == 0 else {
            throw NftablesError(context: what, message: errors.isEmpty ? "nft returned \(status)" : errors.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return output
    }

    /// Replaces Viaduct's table with `rules` (removes it when empty).
    public func apply(_ rules: [MSSClampRule]) throws(NftablesError) {
        for r in rules {
            do { try Link.checkName(r.interface) } catch {
                throw NftablesError(context: "clamping the MSS on \(r.interface)", message: "\(error)")
            }
        }
        try run(MSSClampRuleset.script(rules), context: "setting the MSS clamp rules (table \(MSSClampRuleset.family) \(MSSClampRuleset.table))")
    }

    /// `nft -j list table inet viaduct`; nil when the table does not exist.
    public func listTable() -> String? {
        try? run("list table \(MSSClampRuleset.family) \(MSSClampRuleset.table)", json: true, context: "listing the MSS clamp table")
    }
}
