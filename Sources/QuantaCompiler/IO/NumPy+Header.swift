extension NumPy {
    /// The three keys of a `.npy` header dictionary, e.g.
    /// `{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }`.
    struct Header: Equatable {
        var dtype: NumPyDType
        var shape: [Int]

        /// Parses the header text (a Python dict literal, padded with spaces and a newline).
        static func parse(_ text: String, source: String) throws -> Header {
            var parser = LiteralParser(text: Array(text.unicodeScalars), source: source)
            let value = try parser.parseValue()
            parser.skipSpace()
            guard parser.atEnd else { throw parser.error("unexpected text after the dictionary") }
            guard case .dict(let entries) = value else {
                throw NumPyError.malformedHeader(source: source, detail: "the header is not a dictionary")
            }
            func entry(_ key: String) throws -> LiteralValue {
                guard let v = entries.first(where: { $0.key == key })?.value else {
                    throw NumPyError.malformedHeader(source: source, detail: "missing key '\(key)'")
                }
                return v
            }
            guard case .bool(let fortran) = try entry("fortran_order") else {
                throw NumPyError.malformedHeader(source: source, detail: "'fortran_order' is not True or False")
            }
            let shapeValue = try entry("shape")
            guard case .sequence(let dims) = shapeValue else {
                throw NumPyError.malformedHeader(source: source, detail: "'shape' is not a tuple")
            }
            var shape: [Int] = []
            for d in dims {
                guard case .int(let n) = d, n >= 0 else {
                    throw NumPyError.malformedHeader(source: source, detail: "'shape' holds something other than non-negative integers")
                }
                shape.append(n)
            }
            let dtype: NumPyDType
            switch try entry("descr") {
            case .string(let descr): dtype = try parseDescr(descr, source: source)
            default: throw NumPyError.unsupportedDType(source: source, descr: "structured (record) dtype")
            }
            if fortran && shape.filter({ $0 > 1 }).count > 1 {
                // One-dimensional data is laid out identically in both orders.
                throw NumPyError.fortranOrder(source: source)
            }
            return Header(dtype: dtype, shape: shape)
        }

        /// Maps a dtype string to a supported type: byte order `<`, `=` (the hosts Quanta's
        /// compiler runs on are little-endian) or none; for one-byte types also `|` or `>`.
        static func parseDescr(_ descr: String, source: String) throws -> NumPyDType {
            var body = Substring(descr)
            var order: Character = "="
            if let first = body.first, "<>|=".contains(first) {
                order = first
                body = body.dropFirst()
            }
            let dtype: NumPyDType
            switch body {
            case "f4": dtype = .float32
            case "f8": dtype = .float64
            case "i1", "b": dtype = .int8
            case "u1", "B": dtype = .uint8
            case "i4": dtype = .int32
            case "i8": dtype = .int64
            default: throw NumPyError.unsupportedDType(source: source, descr: descr)
            }
            if dtype.size > 1 {
                if order == ">" { throw NumPyError.bigEndian(source: source, descr: descr) }
                if order == "|" { throw NumPyError.unsupportedDType(source: source, descr: descr) }
            }
            return dtype
        }
    }

    /// The subset of Python literals a `.npy` header uses.
    enum LiteralValue: Equatable {
        case string(String)
        case int(Int)
        case bool(Bool)
        case none
        case sequence([LiteralValue])
        case dict([(key: String, value: LiteralValue)])

        static func == (a: LiteralValue, b: LiteralValue) -> Bool {
            switch (a, b) {
            case (.string(let x), .string(let y)): return x == y
            case (.int(let x), .int(let y)): return x == y
            case (.bool(let x), .bool(let y)): return x == y
            case (.none, .none): return true
            case (.sequence(let x), .sequence(let y)): return x == y
            case (.dict(let x), .dict(let y)):
                return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
            default: return false
            }
        }
    }

    struct LiteralParser {
        let text: [Unicode.Scalar]
        let source: String
        var position = 0

        init(text: [Unicode.Scalar], source: String) {
            self.text = text
            self.source = source
        }

        var atEnd: Bool { position >= text.count }

        func error(_ detail: String) -> NumPyError {
            .malformedHeader(source: source, detail: "\(detail) at character \(position)")
        }

        mutating func skipSpace() {
            while position < text.count, text[position].properties.isWhitespace { position += 1 }
        }

        mutating func expect(_ c: Unicode.Scalar) throws {
            skipSpace()
            guard position < text.count, text[position] == c else { throw error("expected '\(c)'") }
            position += 1
        }

        /// Consumes `c` (after spaces) when it is next.
        mutating func accept(_ c: Unicode.Scalar) -> Bool {
            skipSpace()
            if position < text.count, text[position] == c {
                position += 1
                return true
            }
            return false
        }

        mutating func parseValue(depth: Int = 0) throws -> LiteralValue {
            guard depth < 16 else { throw error("nesting too deep") }
            skipSpace()
            guard position < text.count else { throw error("unexpected end of header") }
            let c = text[position]
            switch c {
            case "{":
                position += 1
                var entries: [(key: String, value: LiteralValue)] = []
                while !accept("}") {
                    guard case .string(let key) = try parseValue(depth: depth + 1) else {
                        throw error("dictionary key is not a string")
                    }
                    try expect(":")
                    entries.append((key, try parseValue(depth: depth + 1)))
                    if !accept(",") {
                        try expect("}")
                        break
                    }
                }
                return .dict(entries)
            case "(", "[":
                let close: Unicode.Scalar = c == "(" ? ")" : "]"
                position += 1
                var items: [LiteralValue] = []
                while !accept(close) {
                    items.append(try parseValue(depth: depth + 1))
                    if !accept(",") {
                        try expect(close)
                        break
                    }
                }
                return .sequence(items)
            case "'", "\"":
                position += 1
                var s = String.UnicodeScalarView()
                while position < text.count, text[position] != c {
                    if text[position] == "\\" { position += 1 }
                    guard position < text.count else { break }
                    s.append(text[position])
                    position += 1
                }
                guard position < text.count else { throw error("unterminated string") }
                position += 1
                return .string(String(s))
            default:
                let start = position
                while position < text.count,
                      text[position].properties.isAlphabetic || ("0"..."9").contains(text[position]) || text[position] == "-" || text[position] == "_" {
                    position += 1
                }
                let word = String(String.UnicodeScalarView(text[start..<position]))
                switch word {
                case "True": return .bool(true)
                case "False": return .bool(false)
                case "None": return .none
                default:
                    // Python 2 wrote long integers with an `L` suffix.
                    let digits = word.hasSuffix("L") ? String(word.dropLast()) : word
                    guard let n = Int(digits) else {
                        throw NumPyError.malformedHeader(source: source, detail: "unexpected '\(word.isEmpty ? String(c) : word)' at character \(start)")
                    }
                    return .int(n)
                }
            }
        }
    }
}
