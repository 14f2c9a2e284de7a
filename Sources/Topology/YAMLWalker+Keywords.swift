/// A field that takes either one of a few keywords or a whole number in a range (`mtu: auto`,
/// `mss-clamp: off`, `ike.fragment-size: 1280`).
enum KeywordOrNumber: Equatable {
    case keyword(String)
    case number(Int)
}

extension YAMLWalker {
    /// `keywords` or a whole number in `range`; anything else is an error naming both.
    func keywordOrInt(_ node: YAMLNode, _ what: String, keywords: [String], range: ClosedRange<Int>) -> KeywordOrNumber? {
        guard let text = string(node, what) else { return nil }
        if keywords.contains(text) { return .keyword(text) }
        let choices = keywords.map { "'\($0)'" }.joined(separator: ", ")
        guard let v = Int(text.replacingOccurrences(of: "_", with: "")) else {
            let hint = Suggest.closest(to: text, in: keywords).map { "; did you mean '\($0)'?" } ?? ""
            error(.wrongType, node, "\(what) must be \(choices) or a whole number between \(range.lowerBound) and \(range.upperBound), found '\(text)'\(hint)")
            return nil
        }
        guard range.contains(v) else {
            error(.invalidValue, node, "\(what) must be \(choices) or between \(range.lowerBound) and \(range.upperBound), found \(v)")
            return nil
        }
        return .number(v)
    }

    func tunnelMTU(_ node: YAMLNode, _ what: String) -> TunnelMTU? {
        switch keywordOrInt(node, what, keywords: ["auto"], range: TunnelMTU.range) {
        case .keyword: .auto
        case .number(let n): .fixed(n)
        case nil: nil
        }
    }

    func mssClamp(_ node: YAMLNode, _ what: String) -> MSSClamp? {
        switch keywordOrInt(node, what, keywords: ["auto", "off"], range: MSSClamp.range) {
        case .keyword("off"): .off
        case .keyword: .auto
        case .number(let n): .fixed(n)
        case nil: nil
        }
    }

    func fragmentSize(_ node: YAMLNode, _ what: String) -> IKEFragmentSize? {
        switch keywordOrInt(node, what, keywords: ["auto"], range: IKEFragmentSize.range) {
        case .keyword: .auto
        case .number(let n): .fixed(n)
        case nil: nil
        }
    }
}
