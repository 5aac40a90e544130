import Foundation

/// The element types Quanta reads from `.npy` files.
public enum NumPyDType: String, Equatable, Sendable, CaseIterable {
    case float32 = "<f4"
    case float64 = "<f8"
    case int8 = "|i1"
    case uint8 = "|u1"
    case int32 = "<i4"
    case int64 = "<i8"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .int8, .uint8: return 1
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        }
    }
}

/// The elements of an array, in C (row-major) order, in their stored type.
public enum NumPyElements: Equatable {
    case float32([Float])
    case float64([Double])
    case int8([Int8])
    case uint8([UInt8])
    case int32([Int32])
    case int64([Int64])
}

/// An n-dimensional array as stored in a `.npy` file: a shape and its elements in C order.
public struct NumPyArray: Equatable {
    public var shape: [Int]
    public var elements: NumPyElements

    /// Creates an array; `elements` must hold `shape.reduce(1, *)` values (checked by `NumPy.encode`).
    public init(shape: [Int], elements: NumPyElements) {
        self.shape = shape
        self.elements = elements
    }

    public init(shape: [Int], float32 values: [Float]) { self.init(shape: shape, elements: .float32(values)) }
    public init(shape: [Int], int8 values: [Int8]) { self.init(shape: shape, elements: .int8(values)) }

    public var dtype: NumPyDType {
        switch elements {
        case .float32: return .float32
        case .float64: return .float64
        case .int8: return .int8
        case .uint8: return .uint8
        case .int32: return .int32
        case .int64: return .int64
        }
    }

    public var count: Int {
        switch elements {
        case .float32(let v): return v.count
        case .float64(let v): return v.count
        case .int8(let v): return v.count
        case .uint8(let v): return v.count
        case .int32(let v): return v.count
        case .int64(let v): return v.count
        }
    }

    /// The elements converted to `Float` (float64 rounded to nearest; integers converted
    /// exactly up to 2^24 in magnitude, rounded to nearest beyond).
    public var floats: [Float] {
        switch elements {
        case .float32(let v): return v
        case .float64(let v): return v.map { Float($0) }
        case .int8(let v): return v.map { Float($0) }
        case .uint8(let v): return v.map { Float($0) }
        case .int32(let v): return v.map { Float($0) }
        case .int64(let v): return v.map { Float($0) }
        }
    }
}

/// Reading and writing NumPy `.npy` files (format versions 1.0, 2.0 and 3.0).
///
/// Reads little-endian, C-order arrays of float32 (`<f4`), float64 (`<f8`), int8
/// (`|i1`), uint8 (`|u1`), int32 (`<i4`) and int64 (`<i8`); anything else is a
/// `NumPyError` naming the file and the problem. Writes float32 and int8 arrays with a
/// version 1.0 header padded so that the data starts at a multiple of 64 bytes, as numpy does.
public enum NumPy {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY

    // MARK: Files

    /// Reads the `.npy` file at `path`.
    public static func read(_ path: String) throws -> NumPyArray {
        try decode(FileIO.read(path), source: path)
    }

    /// Reads every `*.npy` file in `folder`, in ascending byte order of the file names
    /// (`a.npy` < `b.npy` < `b10.npy` < `b2.npy`), as `(name, array)` pairs. Sub-folders
    /// and other files are ignored. An empty selection is `NumPyError.emptyFolder`.
    public static func readFolder(_ folder: String) throws -> [(name: String, array: NumPyArray)] {
        try folderEntries(folder).map { ($0, try read((folder as NSString).appendingPathComponent($0))) }
    }

    /// The names `readFolder` reads, in its order (`emptyFolder` when there is none).
    static func folderEntries(_ folder: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) else {
            throw FileError.notFound(path: folder)
        }
        guard isDirectory.boolValue else { throw FileError.unreadable(path: folder, reason: "not a folder") }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw FileError.unreadable(path: folder, reason: "cannot list the folder")
        }
        let selected = names.filter { $0.hasSuffix(".npy") && !$0.hasPrefix(".") }
            .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            .filter { name in
                var isDir: ObjCBool = false
                let path = (folder as NSString).appendingPathComponent(name)
                return !(FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue)
            }
        if selected.isEmpty { throw NumPyError.emptyFolder(path: folder) }
        return selected
    }

    /// Writes `array` (float32 or int8) to `path` atomically.
    public static func write(_ array: NumPyArray, to path: String) throws {
        try FileIO.writeAtomically(encode(array, source: path), to: path)
    }

    // MARK: Bytes

    /// Parses the bytes of a `.npy` file. `source` names it in errors.
    public static func decode(_ bytes: [UInt8], source: String = "<memory>") throws -> NumPyArray {
        let layout = try parseLayout(bytes, fileSize: bytes.count, source: source)
        let header = layout.header, count = layout.count, dataStart = layout.dataOffset
        let expected = dataStart + count * header.dtype.size
        let elements: NumPyElements = bytes.withUnsafeBytes { raw in
            let data = UnsafeRawBufferPointer(rebasing: raw[dataStart..<expected])
            switch header.dtype {
            case .float32: return .float32(loadLittleEndian(data, count, UInt32.self).map { Float(bitPattern: $0) })
            case .float64: return .float64(loadLittleEndian(data, count, UInt64.self).map { Double(bitPattern: $0) })
            case .int8: return .int8(data.map { Int8(bitPattern: $0) })
            case .uint8: return .uint8(Array(data))
            case .int32: return .int32(loadLittleEndian(data, count, Int32.self))
            case .int64: return .int64(loadLittleEndian(data, count, Int64.self))
            }
        }
        return NumPyArray(shape: header.shape, elements: elements)
    }

    /// Where the data of a `.npy` file lies, from its first bytes (`prefix`: at least the
    /// magic, version, length and header; the whole file for `decode`) and its size: the
    /// same checks and errors as `decode` (magic, version, header, shape overflow, the size
    /// against the data length), without reading the data.
    static func parseLayout(_ prefix: [UInt8], fileSize: Int, source: String) throws -> NumPyLayout {
        guard prefix.count >= 8 else {
            if prefix.count < 6 || Array(prefix[0..<6]) != magic {
                throw NumPyError.badMagic(source: source)
            }
            throw NumPyError.truncated(source: source, expectedBytes: 10, actualBytes: fileSize)
        }
        guard Array(prefix[0..<6]) == magic else { throw NumPyError.badMagic(source: source) }
        let major = Int(prefix[6]), minor = Int(prefix[7])
        guard minor == 0, (1...3).contains(major) else {
            throw NumPyError.unsupportedVersion(source: source, major: major, minor: minor)
        }
        let lengthBytes = major == 1 ? 2 : 4
        let headerStart = 8 + lengthBytes
        guard prefix.count >= headerStart else {
            throw NumPyError.truncated(source: source, expectedBytes: headerStart, actualBytes: fileSize)
        }
        var headerLength = 0
        for i in 0..<lengthBytes { headerLength |= Int(prefix[8 + i]) << (8 * i) }
        let dataStart = headerStart + headerLength
        guard prefix.count >= dataStart else {
            throw NumPyError.truncated(source: source, expectedBytes: dataStart, actualBytes: fileSize)
        }
        let headerBytes = prefix[headerStart..<dataStart]
        let text: String
        if major == 3 {
            guard let t = String(validating: headerBytes, as: UTF8.self) else {
                throw NumPyError.malformedHeader(source: source, detail: "header is not valid UTF-8")
            }
            text = t
        } else {
            guard headerBytes.allSatisfy({ $0 < 0x80 }) else {
                throw NumPyError.malformedHeader(source: source, detail: "header is not ASCII (version \(major).0)")
            }
            text = String(decoding: headerBytes, as: UTF8.self)
        }
        let header = try Header.parse(text, source: source)

        var count = 1
        for d in header.shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else {
                throw NumPyError.malformedHeader(source: source, detail: "shape \(NumPyError.format(header.shape)) is too large")
            }
            count = product
        }
        let (dataLength, overflow) = count.multipliedReportingOverflow(by: header.dtype.size)
        guard !overflow, dataStart <= Int.max - dataLength else {
            throw NumPyError.malformedHeader(source: source, detail: "shape \(NumPyError.format(header.shape)) is too large")
        }
        let expected = dataStart + dataLength
        if fileSize < expected {
            throw NumPyError.truncated(source: source, expectedBytes: expected, actualBytes: fileSize)
        }
        if fileSize > expected {
            throw NumPyError.trailingBytes(source: source, expectedBytes: expected, actualBytes: fileSize)
        }
        return NumPyLayout(header: header, count: count, dataOffset: dataStart)
    }

    /// `parseLayout` of the file at `path`, reading only its header.
    static func layout(path: String) throws -> NumPyLayout {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw FileError.notFound(path: path) }
        if isDirectory.boolValue { throw FileError.isDirectory(path: path) }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FileError.unreadable(path: path, reason: "permission denied or I/O error")
        }
        defer { try? handle.close() }
        let size = Int((try? handle.seekToEnd()) ?? 0)
        try? handle.seek(toOffset: 0)
        var prefix = [UInt8]((try? handle.read(upToCount: 12)) ?? Data())
        if prefix.count >= 10, Array(prefix[0..<6]) == magic {
            let major = Int(prefix[6])
            let lengthBytes = major == 1 ? 2 : 4
            var headerLength = 0
            if prefix.count >= 8 + lengthBytes {
                for i in 0..<lengthBytes { headerLength |= Int(prefix[8 + i]) << (8 * i) }
            }
            let want = min(8 + lengthBytes + headerLength, size) - prefix.count
            if want > 0 { prefix += [UInt8]((try? handle.read(upToCount: want)) ?? Data()) }
        }
        return try parseLayout(prefix, fileSize: size, source: path)
    }

    /// The bytes of a `.npy` file (version 1.0, C order, little-endian) holding `array`,
    /// which must be float32 or int8 and hold exactly `shape.reduce(1, *)` elements.
    public static func encode(_ array: NumPyArray, source: String = "<memory>") throws -> [UInt8] {
        guard array.shape.allSatisfy({ $0 >= 0 }) else {
            throw NumPyError.shapeMismatch(source: source, expected: array.shape, actual: [array.count])
        }
        let count = array.shape.reduce(1, *)
        guard count == array.count else {
            throw NumPyError.shapeMismatch(source: source, expected: array.shape, actual: [array.count])
        }
        let shapeText: String
        switch array.shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(array.shape[0]),)"
        default: shapeText = "(" + array.shape.map(String.init).joined(separator: ", ") + ")"
        }
        var header = "{'descr': '\(array.dtype.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        // magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        guard header.utf8.count <= Int(UInt16.max) else {
            throw NumPyError.malformedHeader(source: source, detail: "header longer than 65535 bytes")
        }
        var bytes = magic + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
        bytes += Array(header.utf8)
        switch array.elements {
        case .float32(let v):
            bytes.reserveCapacity(bytes.count + 4 * v.count)
            for x in v {
                let b = x.bitPattern.littleEndian
                bytes += [UInt8(truncatingIfNeeded: b), UInt8(truncatingIfNeeded: b >> 8),
                          UInt8(truncatingIfNeeded: b >> 16), UInt8(truncatingIfNeeded: b >> 24)]
            }
        case .int8(let v):
            bytes += v.map { UInt8(bitPattern: $0) }
        default:
            throw NumPyError.unsupportedDType(source: source, descr: array.dtype.rawValue + " (writing supports <f4 and |i1)")
        }
        return bytes
    }

    private static func loadLittleEndian<T: FixedWidthInteger>(_ data: UnsafeRawBufferPointer, _ count: Int, _: T.Type) -> [T] {
        [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count {
                buffer[i] = T(littleEndian: data.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
            }
            initialized = count
        }
    }
}

/// Where a `.npy` file's data lies (`NumPy.parseLayout`).
struct NumPyLayout {
    var header: NumPy.Header
    /// Elements (the shape's product).
    var count: Int
    /// Byte offset of the first element.
    var dataOffset: Int
}
