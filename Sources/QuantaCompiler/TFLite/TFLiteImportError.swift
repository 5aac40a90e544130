/// Why a `.tflite` file could not be imported. Each case names the operator or tensor.
public enum TFLiteImportError: Error, Equatable, CustomStringConvertible {
    /// The FlatBuffer is malformed (byte offset inside).
    case malformed(FlatBufferError)
    /// The file identifier at bytes 4..<8 is not `TFL3`.
    case notTFLite(identifier: String)
    /// A schema version other than 3.
    case unsupportedVersion(UInt32)
    case noSubgraph
    /// A tensor shape of rank above 6, a negative dimension or too many elements.
    case invalidShape(tensor: String, shape: [Int])
    /// A count (tensors, operators, buffers) above `TFLiteModel.maxEntries`.
    case limitExceeded(what: String, value: Int, limit: Int)
    /// An operator Quanta does not import (by TFLite name), with the list it does.
    case unsupportedOperator(index: Int, name: String, supported: [String])
    /// A supported operator in a form Quanta does not run (options, types, shapes).
    case unsupportedForm(op: String, detail: String)
    /// A tensor's type or quantization that the operator or Quanta does not take.
    case unsupportedQuantization(tensor: String, detail: String)
    /// An activation tensor whose shape Quanta's NHWC runtime cannot hold.
    case unsupportedShape(tensor: String, shape: [Int], detail: String)
    /// The file is inconsistent: a buffer of the wrong size, a missing constant, a shape
    /// that disagrees with what the operator computes.
    case invalidModel(op: String, detail: String)

    public var description: String {
        switch self {
        case .malformed(let e): return "malformed .tflite file: \(e)"
        case .notTFLite(let id):
            return "not a TFLite model: file identifier '\(id.unicodeScalars.map { $0.isASCII && $0.value >= 32 ? String($0) : "?" }.joined())', expected 'TFL3'"
        case .unsupportedVersion(let v): return "TFLite schema version \(v) (only version 3 is read)"
        case .noSubgraph: return "the .tflite model has no subgraph"
        case .invalidShape(let t, let s): return "tensor '\(t)' has shape \(s): rank at most 6, dimensions in 0...\(ONNXLimits.maxDimension)"
        case .limitExceeded(let w, let v, let l): return "\(v) \(w), above the limit of \(l)"
        case .unsupportedOperator(let i, let n, let s):
            return "operator \(i): unsupported \(n); supported: \(s.joined(separator: ", "))"
        case .unsupportedForm(let o, let d): return "\(o): unsupported \(d)"
        case .unsupportedQuantization(let t, let d): return "tensor '\(t)': \(d)"
        case .unsupportedShape(let t, let s, let d): return "tensor '\(t)' of shape \(s): \(d)"
        case .invalidModel(let o, let d): return "\(o): \(d)"
        }
    }
}
