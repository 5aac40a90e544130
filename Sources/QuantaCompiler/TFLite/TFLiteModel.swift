/// The part of a `.tflite` file (TFLite's `schema.fbs`, file identifier `TFL3`) that
/// Quanta imports: the first subgraph's tensors and operators, the operator codes and
/// the buffers, decoded with `FlatBufferReader` and checked for consistency (every tensor,
/// buffer and opcode index in range, shapes within `ONNXLimits`, buffer sizes matching
/// shapes where they are read).
public struct TFLiteModel {
    public var version: UInt32
    public var description: String
    /// Builtin operator code of each operator code entry (`max(deprecated_builtin_code,
    /// builtin_code)`, as TFLite reads it), or nil for custom operators (`customCodes`).
    public var operatorCodes: [Int32?]
    public var customCodes: [String?]
    public var tensors: [TFLiteTensor]
    public var operators: [TFLiteOperator]
    public var inputs: [Int]
    public var outputs: [Int]
    public var subgraphCount: Int
    /// The byte ranges of the buffers' data in the file (empty for buffers without data).
    public var buffers: [Range<Int>]
    public let bytes: [UInt8]

    /// Field ids of schema.fbs (TFLite's `schema_py_generated`).
    enum Field {
        enum Model { static let version = 0, operatorCodes = 1, subgraphs = 2, description = 3, buffers = 4 }
        enum OperatorCode { static let deprecatedBuiltinCode = 0, customCode = 1, builtinCode = 3 }
        enum SubGraph { static let tensors = 0, inputs = 1, outputs = 2, operators = 3 }
        enum Tensor { static let shape = 0, type = 1, buffer = 2, name = 3, quantization = 4, isVariable = 5, sparsity = 6 }
        enum Quantization { static let scale = 2, zeroPoint = 3, detailsType = 4, quantizedDimension = 6 }
        enum Operator { static let opcodeIndex = 0, inputs = 1, outputs = 2, optionsType = 3, options = 4, customOptions = 5 }
        enum Buffer { static let data = 0, offset = 1, size = 2 }
    }

    /// Most tensors, operators and buffers one model may declare: far above any edge model
    /// (MobileNetV2 has ~180 tensors), low enough that a small crafted file cannot make the
    /// importer build millions of entries.
    public static let maxEntries = 1 << 16

    /// Decodes `bytes`. Throws `TFLiteImportError.malformed` for anything the FlatBuffers
    /// layout or the schema does not allow.
    public init(bytes: [UInt8]) throws(TFLiteImportError) {
        self.bytes = bytes
        do {
            let reader = try FlatBufferReader(bytes)
            guard reader.fileIdentifier == "TFL3" else {
                throw TFLiteImportError.notTFLite(identifier: reader.fileIdentifier)
            }
            let model = try reader.root()
            version = try model.u32(Field.Model.version)
            guard version == 3 else { throw TFLiteImportError.unsupportedVersion(version) }
            description = try model.string(Field.Model.description) ?? ""

            let codes = try model.tables(Field.Model.operatorCodes)
            try Self.checkCount(codes.count, "operator codes")
            operatorCodes = []
            customCodes = []
            for code in codes {
                let deprecated = Int32(try code.i8(Field.OperatorCode.deprecatedBuiltinCode))
                let builtin = try code.i32(Field.OperatorCode.builtinCode)
                let value = max(deprecated, builtin)
                operatorCodes.append(value == TFLiteOperatorCode.custom ? nil : value)
                customCodes.append(try code.string(Field.OperatorCode.customCode))
            }

            let buffers = try model.tables(Field.Model.buffers)
            try Self.checkCount(buffers.count, "buffers")
            self.buffers = []
            for (i, buffer) in buffers.enumerated() {
                if let data = try buffer.vector(Field.Buffer.data, elementSize: 1) {
                    self.buffers.append(data.byteRange)
                } else {
                    // Buffers of models over 2 GB sit after the FlatBuffer: offset from the
                    // file's start, size in bytes (offset 0 or 1 means none).
                    let offset = try buffer.u64(Field.Buffer.offset), size = try buffer.u64(Field.Buffer.size)
                    if offset > 1 {
                        guard offset <= UInt64(bytes.count), size <= UInt64(bytes.count) - offset else {
                            throw TFLiteImportError.malformed(FlatBufferError(
                                offset: buffer.position, detail: "buffer \(i): \(size) bytes at offset \(offset) run past the end of the file"))
                        }
                        self.buffers.append(Int(offset)..<Int(offset + size))
                    } else {
                        self.buffers.append(0..<0)
                    }
                }
            }

            let subgraphs = try model.tables(Field.Model.subgraphs)
            subgraphCount = subgraphs.count
            guard let graph = subgraphs.first else { throw TFLiteImportError.noSubgraph }

            let tensorTables = try graph.tables(Field.SubGraph.tensors)
            try Self.checkCount(tensorTables.count, "tensors")
            tensors = []
            for (i, t) in tensorTables.enumerated() {
                tensors.append(try TFLiteTensor(table: t, index: i, bufferCount: buffers.count))
            }
            inputs = try Self.indices(graph.int32s(Field.SubGraph.inputs) ?? [], count: tensors.count, what: "subgraph input", at: graph.position)
            outputs = try Self.indices(graph.int32s(Field.SubGraph.outputs) ?? [], count: tensors.count, what: "subgraph output", at: graph.position)

            let operatorTables = try graph.tables(Field.SubGraph.operators)
            try Self.checkCount(operatorTables.count, "operators")
            operators = []
            for op in operatorTables {
                let code = Int(try op.u32(Field.Operator.opcodeIndex))
                guard code < codes.count else {
                    throw TFLiteImportError.malformed(FlatBufferError(
                        offset: op.position, detail: "operator code index \(code) of \(codes.count) operator codes"))
                }
                // -1 marks an omitted optional input (e.g. no bias).
                let inputs = try (op.int32s(Field.Operator.inputs) ?? []).map { (i) throws(TFLiteImportError) -> Int? in
                    if i == -1 { return nil }
                    return try Self.indices([i], count: tensorTables.count, what: "operator input", at: op.position)[0]
                }
                let outputs = try Self.indices(op.int32s(Field.Operator.outputs) ?? [], count: tensorTables.count, what: "operator output", at: op.position)
                let optionsType = try op.u8(Field.Operator.optionsType)
                let options = try op.table(Field.Operator.options)
                operators.append(TFLiteOperator(
                    codeIndex: code, inputs: inputs, outputs: outputs, optionsType: optionsType, options: options))
            }
        } catch let error as FlatBufferError {
            throw .malformed(error)
        } catch let error as TFLiteImportError {
            throw error
        } catch {
            throw .malformed(FlatBufferError(offset: 0, detail: "\(error)"))
        }
    }

    static func checkCount(_ count: Int, _ what: String) throws(TFLiteImportError) {
        guard count <= maxEntries else { throw .limitExceeded(what: what, value: count, limit: maxEntries) }
    }

    static func indices(_ values: [Int32], count: Int, what: String, at position: Int) throws(TFLiteImportError) -> [Int] {
        try values.map { (v) throws(TFLiteImportError) -> Int in
            guard v >= 0, Int(v) < count else {
                throw .malformed(FlatBufferError(offset: position, detail: "\(what) \(v) is not one of the \(count) tensors"))
            }
            return Int(v)
        }
    }

    /// The data bytes of tensor `t`'s buffer (empty when it has none).
    public func data(_ t: Int) -> ArraySlice<UInt8> {
        bytes[buffers[tensors[t].buffer]]
    }

    /// The builtin code of operator `op`, or nil for a custom operator.
    public func code(_ op: TFLiteOperator) -> Int32? { operatorCodes[op.codeIndex] }
}

/// One tensor of the subgraph.
public struct TFLiteTensor {
    public var name: String
    public var shape: [Int]
    public var type: TFLiteTensorType
    public var buffer: Int
    public var scales: [Float]
    public var zeroPoints: [Int64]
    public var quantizedDimension: Int
    public var isVariable: Bool
    public var isSparse: Bool

    init(table t: FlatTable, index: Int, bufferCount: Int) throws(TFLiteImportError) {
        do {
            name = try t.string(TFLiteModel.Field.Tensor.name) ?? "tensor \(index)"
            let dims = try t.int32s(TFLiteModel.Field.Tensor.shape) ?? []
            guard dims.count <= 6, ONNXLimits.elementCount(dims) != nil else {
                throw TFLiteImportError.invalidShape(tensor: name, shape: dims.map(Int.init))
            }
            shape = dims.map(Int.init)
            let rawType = try t.i8(TFLiteModel.Field.Tensor.type)
            type = TFLiteTensorType(rawValue: rawType) ?? .other(rawType)
            buffer = Int(try t.u32(TFLiteModel.Field.Tensor.buffer))
            guard buffer < bufferCount else {
                throw TFLiteImportError.malformed(FlatBufferError(
                    offset: t.position, detail: "tensor '\(name)': buffer \(buffer) of \(bufferCount) buffers"))
            }
            isVariable = try t.bool(TFLiteModel.Field.Tensor.isVariable)
            isSparse = try t.table(TFLiteModel.Field.Tensor.sparsity) != nil
            if let q = try t.table(TFLiteModel.Field.Tensor.quantization) {
                scales = try q.floats(TFLiteModel.Field.Quantization.scale) ?? []
                zeroPoints = try q.int64s(TFLiteModel.Field.Quantization.zeroPoint) ?? []
                quantizedDimension = Int(try q.i32(TFLiteModel.Field.Quantization.quantizedDimension))
                guard try q.u8(TFLiteModel.Field.Quantization.detailsType) == 0 else {
                    throw TFLiteImportError.unsupportedQuantization(tensor: name, detail: "custom quantization details")
                }
            } else {
                scales = []
                zeroPoints = []
                quantizedDimension = 0
            }
        } catch let error as FlatBufferError {
            throw .malformed(error)
        } catch let error as TFLiteImportError {
            throw error
        } catch {
            throw .malformed(FlatBufferError(offset: t.position, detail: "\(error)"))
        }
    }
}

/// TFLite's `TensorType` values Quanta reads.
public enum TFLiteTensorType: Hashable {
    case float32, int32, uint8, int64, int16, int8
    case other(Int8)

    init?(rawValue: Int8) {
        switch rawValue {
        case 0: self = .float32
        case 2: self = .int32
        case 3: self = .uint8
        case 4: self = .int64
        case 7: self = .int16
        case 9: self = .int8
        default: return nil
        }
    }

    public var name: String {
        switch self {
        case .float32: return "float32"
        case .int32: return "int32"
        case .uint8: return "uint8"
        case .int64: return "int64"
        case .int16: return "int16"
        case .int8: return "int8"
        case .other(let v):
            let names: [Int8: String] = [1: "float16", 5: "string", 6: "bool", 8: "complex64", 10: "float64", 17: "int4"]
            return names[v] ?? "type \(v)"
        }
    }
}

/// One operator: its code, tensors (nil for an omitted optional input) and options table.
public struct TFLiteOperator {
    public var codeIndex: Int
    public var inputs: [Int?]
    public var outputs: [Int]
    public var optionsType: UInt8
    public var options: FlatTable?
}

/// The builtin operator codes of TFLite's schema that Quanta imports.
public enum TFLiteOperatorCode {
    public static let add: Int32 = 0
    public static let averagePool2D: Int32 = 1
    public static let concatenation: Int32 = 2
    public static let conv2D: Int32 = 3
    public static let depthwiseConv2D: Int32 = 4
    public static let dequantize: Int32 = 6
    public static let fullyConnected: Int32 = 9
    public static let logistic: Int32 = 14
    public static let maxPool2D: Int32 = 17
    public static let mul: Int32 = 18
    public static let relu: Int32 = 19
    public static let reluN1To1: Int32 = 20
    public static let relu6: Int32 = 21
    public static let reshape: Int32 = 22
    public static let resizeBilinear: Int32 = 23
    public static let softmax: Int32 = 25
    public static let tanh: Int32 = 28
    public static let custom: Int32 = 32
    public static let pad: Int32 = 34
    public static let transpose: Int32 = 39
    public static let mean: Int32 = 40
    public static let sub: Int32 = 41
    public static let squeeze: Int32 = 43
    public static let stridedSlice: Int32 = 45
    public static let split: Int32 = 49
    public static let padV2: Int32 = 60
    public static let transposeConv: Int32 = 67
    public static let expandDims: Int32 = 70
    public static let resizeNearest: Int32 = 97
    public static let leakyRelu: Int32 = 98
    public static let splitV: Int32 = 102
    public static let quantize: Int32 = 114
    public static let hardSwish: Int32 = 117
    public static let relu0To1: Int32 = 152

    /// Names of every builtin code (for messages), from schema.fbs.
    public static func name(_ code: Int32) -> String {
        names[code] ?? "builtin operator \(code)"
    }

    static let names: [Int32: String] = [
        0: "ADD", 1: "AVERAGE_POOL_2D", 2: "CONCATENATION", 3: "CONV_2D", 4: "DEPTHWISE_CONV_2D",
        5: "DEPTH_TO_SPACE", 6: "DEQUANTIZE", 9: "FULLY_CONNECTED", 14: "LOGISTIC", 17: "MAX_POOL_2D",
        18: "MUL", 19: "RELU", 20: "RELU_N1_TO_1", 21: "RELU6", 22: "RESHAPE", 23: "RESIZE_BILINEAR",
        25: "SOFTMAX", 26: "SPACE_TO_DEPTH", 28: "TANH", 32: "CUSTOM", 34: "PAD", 36: "GATHER",
        39: "TRANSPOSE", 40: "MEAN", 41: "SUB", 42: "DIV", 43: "SQUEEZE", 45: "STRIDED_SLICE",
        49: "SPLIT", 50: "LOG_SOFTMAX", 53: "CAST", 54: "PRELU", 55: "MAXIMUM", 57: "MINIMUM",
        60: "PADV2", 65: "SLICE", 67: "TRANSPOSE_CONV", 70: "EXPAND_DIMS", 74: "SUM", 82: "REDUCE_MAX",
        83: "PACK", 88: "UNPACK", 97: "RESIZE_NEAREST_NEIGHBOR", 98: "LEAKY_RELU", 100: "MIRROR_PAD",
        102: "SPLIT_V", 114: "QUANTIZE", 117: "HARD_SWISH", 126: "BATCH_MATMUL", 152: "RELU_0_TO_1",
    ]
}
