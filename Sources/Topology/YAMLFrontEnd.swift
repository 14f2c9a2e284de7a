import CYAML
import Synchronization

/// A position in YAML text: line and column start at 1 (libyaml's marks start at 0; columns
/// count Unicode scalars, as libyaml does).
struct YAMLMark: Hashable, Sendable {
    var line: Int
    var column: Int

    init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    init(_ m: yaml_mark_t) {
        self.init(line: Int(m.line) + 1, column: Int(m.column) + 1)
    }
}

/// A scalar as written: its text, how it was quoted and its explicit tag, if any. Nothing is
/// converted: the walker decides what `yes`, `1` or `null` mean where it reads them.
struct YAMLScalar: Hashable, Sendable {
    enum Style: Hashable, Sendable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    var string: String
    var style: Style
    /// The explicit tag (`!!str` arrives as `tag:yaml.org,2002:str`); nil when there is none.
    var tag: String?
}

struct YAMLPair: Sendable {
    var key: YAMLNode
    var value: YAMLNode
}

/// The composed tree the walker reads. An alias is replaced by the node its anchor names, with
/// that node's position; the node is shared, not copied, so composing costs time and memory
/// linear in the input however the aliases multiply (the walker bounds the expanded walk).
enum YAMLNode: Sendable {
    case scalar(YAMLScalar, YAMLMark)
    case sequence([YAMLNode], YAMLMark)
    case mapping([YAMLPair], YAMLMark)

    var mark: YAMLMark {
        switch self {
        case .scalar(_, let m), .sequence(_, let m), .mapping(_, let m): return m
        }
    }
}

/// Why YAML text did not compose into one document.
enum YAMLError: Error, Hashable, Sendable {
    /// libyaml's reader refused the bytes (invalid UTF-8, control characters), at that byte.
    case reader(problem: String, offset: Int, value: Int32, at: YAMLMark)
    /// libyaml's scanner or parser, or the composer (undefined alias, a second document), with
    /// libyaml's context ("while scanning a simple key") and the mark of the problem.
    case syntax(problem: String, context: String?, contextMark: YAMLMark?, at: YAMLMark)
    /// Keys that appear more than once in one mapping; the mark is the first key's.
    case duplicateKeys([String], at: YAMLMark)
    /// Collections nested deeper than the limit (aliases count with the depth of their anchor).
    case tooDeep(limit: Int, at: YAMLMark)
    /// The text is larger than the front end accepts.
    case tooLarge(bytes: Int, limit: Int)
    /// libyaml could not allocate memory.
    case memory
}

/// The YAML front end: Debian's libyaml event parser (`yaml_parser_parse`) composing one
/// document into `YAMLNode`s. Pure: it reads from memory only. Every libyaml allocation is
/// released on every path; the composition is iterative, so no input can exhaust the stack.
enum YAMLFrontEnd {
    /// A topology nests about six levels; anything past this is refused rather than composed.
    static let maxDepth = 64
    static let tag = (str: "tag:yaml.org,2002:str", prefix: "tag:yaml.org,2002:")

    static func compose(_ yaml: String, maxBytes: Int = TopologyLoader.maxFileSize) -> Result<YAMLNode?, YAMLError> {
        compose(bytes: Array(yaml.utf8), maxBytes: maxBytes)
    }

    static func compose(bytes: [UInt8], maxBytes: Int = TopologyLoader.maxFileSize) -> Result<YAMLNode?, YAMLError> {
        guard bytes.count <= maxBytes else { return .failure(.tooLarge(bytes: bytes.count, limit: maxBytes)) }
        // libyaml asserts a non-NULL input even when it is empty.
        let input = bytes.isEmpty ? [0] : bytes
        return input.withUnsafeBufferPointer { buffer -> Result<YAMLNode?, YAMLError> in
            guard let base = buffer.baseAddress else { return .failure(.memory) }
            let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
            defer { parser.deallocate() }
            guard yaml_parser_initialize(parser) == 1 else { return .failure(.memory) }
            defer { yaml_parser_delete(parser) }
            yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(parser, base, bytes.count)
            var composer = Composer()
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(parser, &event) == 1 else {
                    return .failure(parserError(parser.pointee, bytes: bytes))
                }
                defer { yaml_event_delete(&event) }
                switch composer.take(event) {
                case .more: continue
                case .done(let root): return .success(root)
                case .failed(let e): return .failure(e)
                }
            }
        }
    }

    static func parserError(_ p: yaml_parser_t, bytes: [UInt8]) -> YAMLError {
        let problem = p.problem.map { String(cString: $0) } ?? "unknown error"
        switch p.error {
        case YAML_READER_ERROR:
            return .reader(problem: problem, offset: Int(p.problem_offset), value: p.problem_value,
                           at: mark(ofByte: Int(p.problem_offset), in: bytes))
        case YAML_SCANNER_ERROR, YAML_PARSER_ERROR, YAML_COMPOSER_ERROR:
            let context = p.context.map { String(cString: $0) }
            return .syntax(problem: problem, context: context, contextMark: context.map { _ in YAMLMark(p.context_mark) },
                           at: YAMLMark(p.problem_mark))
        default:
            return .memory
        }
    }

    /// The line and column of a byte offset (the reader reports offsets, not marks); the bytes
    /// before it are valid UTF-8, since the reader stopped at the first bad one. Line breaks are
    /// libyaml's: LF, CR, CRLF, NEL, LS and PS.
    static func mark(ofByte offset: Int, in bytes: [UInt8]) -> YAMLMark {
        var line = 1, column = 1
        let end = min(max(offset, 0), bytes.count)
        var scalars = String(decoding: bytes[0..<end], as: UTF8.self).unicodeScalars.makeIterator()
        var previous: Unicode.Scalar?
        while let c = scalars.next() {
            switch c {
            case "\n" where previous == "\r":
                break
            case "\n", "\r", "\u{85}", "\u{2028}", "\u{2029}":
                line += 1
                column = 1
            default:
                column += 1
            }
            previous = c
        }
        return YAMLMark(line: line, column: column)
    }

    static func string(_ p: UnsafeMutablePointer<yaml_char_t>?, length: Int? = nil) -> String? {
        guard let p else { return nil }
        if let length { return String(decoding: UnsafeBufferPointer(start: p, count: length), as: UTF8.self) }
        return String(cString: p)
    }

    /// Builds the tree from events with an explicit stack of open collections.
    struct Composer {
        enum Step {
            case more
            case done(YAMLNode?)
            case failed(YAMLError)
        }

        struct Frame {
            var isMapping: Bool
            var mark: YAMLMark
            var anchor: String?
            var items: [YAMLNode] = []
            var pairs: [YAMLPair] = []
            var pendingKey: YAMLNode?
            /// Levels of collections below this one, counting aliased subtrees.
            var height = 1
        }

        var stack: [Frame] = []
        /// Completed anchored nodes and their height; a later anchor of the same name replaces them.
        var anchors: [String: (node: YAMLNode, height: Int)] = [:]
        var root: YAMLNode?
        var documents = 0

        mutating func take(_ e: yaml_event_t) -> Step {
            let at = YAMLMark(e.start_mark)
            switch e.type {
            case YAML_STREAM_START_EVENT, YAML_DOCUMENT_END_EVENT:
                return .more
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                if documents > 1 {
                    // As before: one topology per file.
                    return .failed(.syntax(problem: "but found another document", context: "expected a single document in the stream",
                                           contextMark: YAMLMark(line: 1, column: 1), at: at))
                }
                return .more
            case YAML_STREAM_END_EVENT:
                return .done(root)
            case YAML_ALIAS_EVENT:
                guard let name = YAMLFrontEnd.string(e.data.alias.anchor), let target = anchors[name] else {
                    return .failed(.syntax(problem: "found undefined alias", context: nil, contextMark: nil, at: at))
                }
                return add(target.node, height: target.height, at: at)
            case YAML_SCALAR_EVENT:
                let s = e.data.scalar
                let style: YAMLScalar.Style
                switch s.style {
                case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
                case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
                case YAML_LITERAL_SCALAR_STYLE: style = .literal
                case YAML_FOLDED_SCALAR_STYLE: style = .folded
                default: style = .plain
                }
                // A quoted scalar without a tag is a string whatever it reads (libyaml's quoted_implicit).
                let tag = s.quoted_implicit != 0 ? YAMLFrontEnd.tag.str : YAMLFrontEnd.string(s.tag)
                let value = YAMLFrontEnd.string(s.value, length: Int(s.length)) ?? ""
                let node = YAMLNode.scalar(YAMLScalar(string: value, style: style, tag: tag), at)
                if let a = YAMLFrontEnd.string(s.anchor) { anchors[a] = (node, 0) }
                return add(node, height: 0, at: at)
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                guard stack.count < YAMLFrontEnd.maxDepth else {
                    return .failed(.tooDeep(limit: YAMLFrontEnd.maxDepth, at: at))
                }
                let isMapping = e.type == YAML_MAPPING_START_EVENT
                let anchor = YAMLFrontEnd.string(isMapping ? e.data.mapping_start.anchor : e.data.sequence_start.anchor)
                stack.append(Frame(isMapping: isMapping, mark: at, anchor: anchor))
                return .more
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let f = stack.popLast() else { return .more }
                let node: YAMLNode
                if f.isMapping {
                    if let dup = YAMLFrontEnd.duplicates(f.pairs) { return .failed(dup) }
                    node = .mapping(f.pairs, f.mark)
                } else {
                    node = .sequence(f.items, f.mark)
                }
                if let a = f.anchor { anchors[a] = (node, f.height) }
                return add(node, height: f.height, at: f.mark)
            default:
                return .more
            }
        }

        /// Attaches a finished node (height: its collection levels) to the open collection.
        mutating func add(_ node: YAMLNode, height: Int, at: YAMLMark) -> Step {
            guard let last = stack.indices.last else {
                root = node
                return .more
            }
            // An alias puts its anchor's whole subtree here: count its levels too.
            guard stack.count + height <= YAMLFrontEnd.maxDepth else {
                return .failed(.tooDeep(limit: YAMLFrontEnd.maxDepth, at: at))
            }
            stack[last].height = max(stack[last].height, height + 1)
            if !stack[last].isMapping {
                stack[last].items.append(node)
            } else if let key = stack[last].pendingKey {
                stack[last].pairs.append(YAMLPair(key: key, value: node))
                stack[last].pendingKey = nil
            } else {
                stack[last].pendingKey = node
            }
            return .more
        }
    }

    /// Scalar keys equal in text and in resolved tag (`1` and `'1'` differ, `a` and `'a'` do
    /// not), as YAML defines key equality; collection keys are left to the walker, which refuses them.
    static func duplicates(_ pairs: [YAMLPair]) -> YAMLError? {
        var byText: [String: [(scalar: YAMLScalar, mark: YAMLMark)]] = [:]
        for p in pairs {
            if case .scalar(let s, let m) = p.key { byText[s.string, default: []].append((s, m)) }
        }
        var found: [(text: String, mark: YAMLMark)] = []
        for (text, keys) in byText where keys.count > 1 {
            var seen: [String: YAMLMark] = [:]
            for k in keys {
                let t = resolvedTag(k.scalar)
                if seen[t] != nil {
                    found.append((text, seen[t] ?? k.mark))
                    break
                }
                seen[t] = k.mark
            }
        }
        guard !found.isEmpty else { return nil }
        found.sort { ($0.text, $0.mark.line, $0.mark.column) < ($1.text, $1.mark.line, $1.mark.column) }
        return .duplicateKeys(found.map(\.text), at: found[0].mark)
    }

    /// The YAML 1.1 tag of a scalar: its explicit tag, else what its plain text reads as.
    static func resolvedTag(_ s: YAMLScalar) -> String {
        if let t = s.tag, t != "!" { return t }
        guard s.style == .plain else { return tag.str }
        let text = s.string
        let name = tagRules.withLock { rules in rules.first { (try? $0.pattern.wholeMatch(in: text)) != nil }?.name }
        return name.map { tag.prefix + $0 } ?? tag.str
    }

    /// YAML 1.1's implicit tags of plain scalars and their patterns, compiled once: compiling
    /// them for every key compared took most of the time of loading a file with repeated keys.
    /// (`Regex` is not `Sendable`, hence the lock; a compiled pattern caches its program.)
    private static let tagRules = Mutex<[(name: String, pattern: Regex<AnyRegexOutput>)]>({
        let rules: [(String, String)] = [
            ("bool", "yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"),
            ("int", "[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+"),
            ("float", "[-+]?(?:[0-9][0-9_]*)(?:\\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|\\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*|[-+]?\\.(?:inf|Inf|INF)|\\.(?:nan|NaN|NAN)"),
            ("merge", "<<"),
            ("null", "~|null|Null|NULL|"),
            ("timestamp", "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \\t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\\.[0-9]*)?(?:[ \\t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?"),
            ("value", "="),
        ]
        return rules.compactMap { name, pattern in (try? Regex("^(?:\(pattern))$")).map { (name, $0) } }
    }())
}
