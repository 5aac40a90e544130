/// Why an ONNX model could not be imported. Each case names the node, tensor or input
/// concerned.
public enum ONNXImportError: Error, Equatable, CustomStringConvertible {
    /// The file is not valid protobuf (byte offset inside).
    case malformedProtobuf(ProtobufError)
    /// The file could not be read.
    /// The model has no graph.
    case missingGraph
    /// A tensor stores its data in an external file (`data_location = EXTERNAL`).
    case externalData(tensor: String)
    /// A tensor's element type is not one Quanta reads (float32, float16, double, int64,
    /// int32, int8, uint8, ...).
    case unsupportedDataType(tensor: String, dataType: Int32)
    /// A tensor's dims are negative, larger than `ONNXLimits.maxDimension`, or multiply to
    /// more than `ONNXLimits.maxElementCount` elements.
    case invalidTensorDims(tensor: String, dims: [Int64])
    /// A tensor's data does not hold `dims`' element count.
    case tensorSizeMismatch(tensor: String, expected: Int, found: Int)
    /// A node whose op type Quanta does not import.
    case unsupportedOp(node: String, opType: String, supported: [String])
    /// A supported op with an attribute value or input form Quanta does not import.
    case unsupportedAttribute(node: String, opType: String, detail: String)
    /// A supported op used in a layout Quanta cannot express in NHWC (e.g. a transpose
    /// in the middle of a conv net that is not a channel shuffle).
    case unsupportedPattern(node: String, opType: String, detail: String)
    /// A graph input's dimension is symbolic or unknown and no shape was given for it;
    /// `node` is the first node that reads the input (the one that needs its shape).
    case unresolvedDynamicDimension(input: String, axis: Int, dimension: String, node: String)
    /// A graph input with a rank other than 2 or 4.
    case unsupportedInputRank(input: String, shape: [Int])
    /// A node reads a value no earlier node, initializer or input defines.
    case missingValue(node: String, name: String)
    /// A node input that must be constant (weights, shapes, pads) is computed at run time.
    case expectedConstant(node: String, input: String)
    /// Inconsistent shapes at a node.
    case shapeMismatch(node: String, detail: String)
    /// A graph output is a constant or otherwise not an activation tensor.
    case unsupportedOutput(name: String, detail: String)
    /// An attribute or constant operand outside the range the ONNX specification allows
    /// for this op (ONNX Runtime refuses the model too).
    case invalidAttribute(node: String, opType: String, detail: String)
    /// A size checked before any work is done (docs/ROBUSTNESS.md, `ONNXLimits`) is above
    /// its limit: `what` at `node`, with the value found and the limit.
    case limitExceeded(node: String, what: String, value: Int, limit: Int)
    /// The graph breaks a rule of the ONNX specification that ONNX Runtime checks when it
    /// loads a model: unique value names, one definition per initializer, the opset range,
    /// positive input dimensions.
    case invalidGraph(detail: String)

    public var description: String {
        switch self {
        case .malformedProtobuf(let e): return "malformed ONNX file: \(e)"
        case .missingGraph: return "the ONNX model has no graph"
        case .externalData(let t):
            return "tensor '\(t)' uses external data; save the model with its weights inside the .onnx file"
        case .unsupportedDataType(let t, let d): return "tensor '\(t)' has unsupported data type \(d)"
        case .invalidTensorDims(let t, let d):
            return "tensor '\(t)' has dims \(d): each must be in 0...\(ONNXLimits.maxDimension), "
                + "with at most \(ONNXLimits.maxElementCount) elements"
        case .tensorSizeMismatch(let t, let e, let f): return "tensor '\(t)' should have \(e) elements, has \(f)"
        case .unsupportedOp(let n, let o, let s):
            return "node '\(n)': unsupported op '\(o)'; supported ops: \(s.joined(separator: ", "))"
        case .unsupportedAttribute(let n, let o, let d): return "node '\(n)' (\(o)): unsupported \(d)"
        case .unsupportedPattern(let n, let o, let d): return "node '\(n)' (\(o)): \(d)"
        case .unresolvedDynamicDimension(let i, let a, let d, let n):
            return "input '\(i)': dimension \(a) is dynamic ('\(d)') and node '\(n)' needs it; "
                + "give the shape with --input-shape \(i)=1x3xHxW or calibration data of that shape"
        case .unsupportedInputRank(let i, let s): return "input '\(i)' has shape \(s); only rank 2 [N,C] and rank 4 [N,C,H,W] are supported"
        case .missingValue(let n, let v): return "node '\(n)': input '\(v)' is not defined"
        case .expectedConstant(let n, let i): return "node '\(n)': input '\(i)' must be a constant (initializer)"
        case .shapeMismatch(let n, let d): return "node '\(n)': \(d)"
        case .unsupportedOutput(let n, let d): return "graph output '\(n)': \(d)"
        case .invalidAttribute(let n, let o, let d): return "node '\(n)' (\(o)): invalid \(d)"
        case .limitExceeded(let n, let w, let v, let l):
            return "node '\(n)': \(w) is \(v), above the limit of \(l) (docs/ROBUSTNESS.md)"
        case .invalidGraph(let d): return "invalid ONNX graph: \(d)"
        }
    }
}
