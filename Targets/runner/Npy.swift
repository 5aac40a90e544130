/// A minimal reader and writer of NumPy `.npy` files (format versions 1.0, 2.0, 3.0):
/// little-endian float32 (`'<f4'`) arrays in C order are read; float32 and int8
/// (`'|i1'`) arrays are written (version 1.0).
///
/// Layout: magic `\x93NUMPY`, major and minor version bytes, header length (UInt16 LE in
/// version 1, UInt32 LE in 2 and 3), an ASCII (UTF-8 in 3) Python dict literal
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }` padded with
/// spaces and a newline so that the data starts on a 64-byte boundary, then the data.
enum NpyError: Error {
    case notNpy
    case unsupportedVersion(major: UInt8)
    case truncatedHeader
    case badHeader(String)
    case unsupportedDType(String)
    case fortranOrder
    case dataSize(expected: Int, found: Int)

    var message: String {
        switch self {
        case .notNpy: return "not a .npy file (bad magic)"
        case .unsupportedVersion(let major): return "unsupported .npy version \(major)"
        case .truncatedHeader: return "truncated .npy header"
        case .badHeader(let what): return "malformed .npy header: \(what)"
        case .unsupportedDType(let d): return "unsupported dtype '\(d)' (need '<f4', float32 little-endian)"
        case .fortranOrder: return "Fortran-order arrays are not supported (need C order)"
        case .dataSize(let expected, let found):
            return "data is \(found) bytes, shape needs \(expected)"
        }
    }
}

/// A parsed float32 `.npy` file: its shape and a pointer to its data inside the file bytes.
struct NpyFloatArray {
    var shape: [Int]
    /// First element; may be unaligned (read with `loadUnaligned`).
    var data: UnsafeRawPointer
    var count: Int

    @inline(__always)
    func element(_ i: Int) -> Float {
        Float(bitPattern: data.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian)
    }

    static func parse(_ bytes: UnsafeRawBufferPointer) throws(NpyError) -> NpyFloatArray {
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY
        guard bytes.count >= 10 else { throw .notNpy }
        for i in 0..<6 where bytes[i] != magic[i] { throw .notNpy }
        let major = bytes[6]
        let headerStart: Int
        let headerLength: Int
        switch major {
        case 1:
            headerStart = 10
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        case 2, 3:
            guard bytes.count >= 12 else { throw .truncatedHeader }
            headerStart = 12
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        default:
            throw .unsupportedVersion(major: major)
        }
        guard headerLength >= 0, headerStart + headerLength <= bytes.count else { throw .truncatedHeader }
        let header = UnsafeRawBufferPointer(rebasing: bytes[headerStart..<(headerStart + headerLength)])
        var parser = HeaderParser(bytes: header)
        let dict = try parser.parseDict()
        guard let descr = dict.descr else { throw .badHeader("no 'descr'") }
        guard equal(descr, "<f4") else { throw .unsupportedDType(descr) }
        guard let fortran = dict.fortranOrder else { throw .badHeader("no 'fortran_order'") }
        guard !fortran else { throw .fortranOrder }
        guard let shape = dict.shape else { throw .badHeader("no 'shape'") }
        var count = 1
        for d in shape {
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw .badHeader("shape too large") }
            count = p
        }
        let dataStart = headerStart + headerLength
        let available = bytes.count - dataStart
        let (needed, overflow) = count.multipliedReportingOverflow(by: 4)
        guard !overflow, needed == available else { throw .dataSize(expected: overflow ? Int.max : needed, found: available) }
        return NpyFloatArray(shape: shape, data: bytes.baseAddress! + dataStart, count: count)
    }
}

/// The fields of a `.npy` header dict that the runner needs.
struct NpyHeaderFields {
    var descr: String?
    var fortranOrder: Bool?
    var shape: [Int]?
}

/// Parses the Python literal dict of a `.npy` header: string keys; values are strings,
/// True/False or tuples of non-negative integers.
struct HeaderParser {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    mutating func skipSpace() {
        while position < bytes.count, bytes[position] == 0x20 || bytes[position] == 0x0A || bytes[position] == 0x09 {
            position += 1
        }
    }

    mutating func expect(_ c: UInt8) throws(NpyError) {
        skipSpace()
        guard position < bytes.count, bytes[position] == c else {
            throw .badHeader("expected '\(String(decoding: CollectionOfOne(c), as: UTF8.self))' at byte \(position)")
        }
        position += 1
    }

    mutating func peek() -> UInt8? {
        skipSpace()
        return position < bytes.count ? bytes[position] : nil
    }

    mutating func parseString() throws(NpyError) -> String {
        skipSpace()
        guard position < bytes.count, bytes[position] == 0x27 || bytes[position] == 0x22 else {
            throw .badHeader("expected a string at byte \(position)")
        }
        let quote = bytes[position]
        position += 1
        let start = position
        while position < bytes.count, bytes[position] != quote { position += 1 }
        guard position < bytes.count else { throw .badHeader("unterminated string") }
        let s = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        position += 1
        return s
    }

    mutating func parseInteger() throws(NpyError) -> Int {
        skipSpace()
        var value = 0
        var digits = 0
        while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(bytes[position] - 0x30))
            guard !o1, !o2 else { throw .badHeader("dimension too large") }
            value = a
            position += 1
            digits += 1
        }
        // Python 2 era writers append L to longs.
        if position < bytes.count, bytes[position] == 0x4C { position += 1 }
        guard digits > 0 else { throw .badHeader("expected a dimension at byte \(position)") }
        return value
    }

    mutating func parseWord() -> String {
        skipSpace()
        let start = position
        while position < bytes.count, (bytes[position] >= 0x41 && bytes[position] <= 0x5A) || (bytes[position] >= 0x61 && bytes[position] <= 0x7A) {
            position += 1
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    }

    mutating func parseTuple() throws(NpyError) -> [Int] {
        try expect(0x28)  // (
        var result: [Int] = []
        while true {
            if peek() == 0x29 { position += 1; break }  // )
            result.append(try parseInteger())
            if peek() == 0x2C { position += 1; continue }  // ,
            try expect(0x29)
            break
        }
        return result
    }

    mutating func parseDict() throws(NpyError) -> NpyHeaderFields {
        var fields = NpyHeaderFields()
        try expect(0x7B)  // {
        while true {
            if peek() == 0x7D { position += 1; break }  // }
            let key = try parseString()
            try expect(0x3A)  // :
            if equal(key, "descr") {
                fields.descr = try parseString()
            } else if equal(key, "fortran_order") {
                let word = parseWord()
                guard equal(word, "True") || equal(word, "False") else {
                    throw .badHeader("fortran_order is '\(word)'")
                }
                fields.fortranOrder = equal(word, "True")
            } else if equal(key, "shape") {
                fields.shape = try parseTuple()
            } else {
                throw .badHeader("unknown key '\(key)'")
            }
            if peek() == 0x2C { position += 1; continue }
            try expect(0x7D)
            break
        }
        return fields
    }
}

/// The bytes of a version 1.0 `.npy` header for `descr` and `shape`, padded so that the
/// data starts at a multiple of 64 bytes.
func npyHeader(descr: String, shape: [Int]) -> [UInt8] {
    // Python's repr of a tuple: "()", "(3,)", "(1, 10)".
    var dims = ""
    for (i, d) in shape.enumerated() { dims += (i == 0 ? "" : ", ") + "\(d)" }
    if shape.count == 1 { dims += "," }
    let dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(dims)), }"
    var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0]
    let unpadded = 10 + dict.utf8.count + 1
    let padded = (unpadded + 63) / 64 * 64
    let headerLength = padded - 10
    bytes.append(UInt8(headerLength & 0xFF))
    bytes.append(UInt8(headerLength >> 8))
    bytes.append(contentsOf: dict.utf8)
    for _ in 0..<(padded - unpadded) { bytes.append(0x20) }
    bytes.append(0x0A)
    return bytes
}
