/// A `.npy` file (or byte buffer) that cannot be read or written. `source` is the file
/// path, or a label the caller gave for bytes in memory.
public enum NumPyError: Error, Equatable, CustomStringConvertible {
    /// The first six bytes are not `\x93NUMPY`.
    case badMagic(source: String)
    /// Format versions 1.0, 2.0 and 3.0 are supported.
    case unsupportedVersion(source: String, major: Int, minor: Int)
    /// The header dictionary is not the literal numpy writes (`detail` says what is wrong).
    case malformedHeader(source: String, detail: String)
    /// A multi-byte dtype stored big-endian (`>f4`, …).
    case bigEndian(source: String, descr: String)
    /// `fortran_order: True`; only C (row-major) order is read.
    case fortranOrder(source: String)
    /// A dtype other than `<f4`, `<f8`, `|i1`, `|u1`, `<i4`, `<i8`.
    case unsupportedDType(source: String, descr: String)
    /// The file ends before the header or the data does.
    case truncated(source: String, expectedBytes: Int, actualBytes: Int)
    /// Bytes left over after the data the header describes.
    case trailingBytes(source: String, expectedBytes: Int, actualBytes: Int)
    /// The element count does not match the shape (writing), or the shape is not the one
    /// required (reading samples for a graph input).
    case shapeMismatch(source: String, expected: [Int], actual: [Int])
    /// A folder given as a batch contains no `.npy` file.
    case emptyFolder(path: String)

    public var description: String {
        switch self {
        case .badMagic(let s):
            return "\(s): not a .npy file (missing the \\x93NUMPY magic)"
        case .unsupportedVersion(let s, let major, let minor):
            return "\(s): .npy format version \(major).\(minor) is not supported (1.0, 2.0, 3.0 are)"
        case .malformedHeader(let s, let detail):
            return "\(s): malformed .npy header: \(detail)"
        case .bigEndian(let s, let d):
            return "\(s): big-endian dtype '\(d)' is not supported; save with a little-endian dtype (e.g. array.astype('<f4'))"
        case .fortranOrder(let s):
            return "\(s): Fortran-order arrays are not supported; save with numpy.ascontiguousarray(array)"
        case .unsupportedDType(let s, let d):
            return "\(s): dtype '\(d)' is not supported (float32, float64, int8, uint8, int32, int64 are)"
        case .truncated(let s, let e, let a):
            return "\(s): truncated: expected \(e) bytes, the file has \(a)"
        case .trailingBytes(let s, let e, let a):
            return "\(s): \(a - e) unexpected bytes after the data (expected \(e) bytes in total, found \(a))"
        case .shapeMismatch(let s, let e, let a):
            return "\(s): shape mismatch: expected \(NumPyError.format(e)), got \(NumPyError.format(a))"
        case .emptyFolder(let p):
            return "\(p): the folder contains no .npy files"
        }
    }

    static func format(_ shape: [Int]) -> String {
        "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
    }
}
