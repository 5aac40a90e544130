// The subset of onnx.proto that Quanta reads, decoded from the protobuf wire format.
// Field numbers follow onnx/onnx.proto; unknown fields are skipped.

/// `ModelProto`: the top-level ONNX file.
public struct ONNXModelProto {
    public var irVersion: Int64 = 0
    public var opsetImports: [ONNXOperatorSetID] = []
    public var producerName: String = ""
    public var graph: ONNXGraphProto?

    public init() {}

    /// Decodes a whole `.onnx` file.
    public init(bytes: [UInt8]) throws {
        var reader = ProtobufReader(bytes: bytes)
        try self.init(reader: &reader)
    }

    init(reader: inout ProtobufReader) throws {
        while let key = try reader.nextField() {
            switch key.number {
            case 1: irVersion = try reader.readInt64(key)
            case 2: producerName = try reader.readString(key)
            case 7:
                var sub = try reader.readMessage(key)
                graph = try ONNXGraphProto(reader: &sub)
            case 8:
                var sub = try reader.readMessage(key)
                opsetImports.append(try ONNXOperatorSetID(reader: &sub))
            default: try reader.skip(key)
            }
        }
    }

    /// The opset version of the default ("" or "ai.onnx") domain; 1 when absent.
    public var defaultOpsetVersion: Int {
        for o in opsetImports where o.domain == "" || o.domain == "ai.onnx" { return Int(o.version) }
        return 1
    }
}

/// `OperatorSetIdProto`.
public struct ONNXOperatorSetID {
    public var domain: String = ""
    public var version: Int64 = 0

    init(reader: inout ProtobufReader) throws {
        while let key = try reader.nextField() {
            switch key.number {
            case 1: domain = try reader.readString(key)
            case 2: version = try reader.readInt64(key)
            default: try reader.skip(key)
            }
        }
    }
}

/// `GraphProto`.
public struct ONNXGraphProto {
    public var name: String = ""
    public var nodes: [ONNXNodeProto] = []
    public var initializers: [ONNXTensorProto] = []
    public var inputs: [ONNXValueInfoProto] = []
    public var outputs: [ONNXValueInfoProto] = []
    public var valueInfo: [ONNXValueInfoProto] = []

    init(reader: inout ProtobufReader) throws {
        while let key = try reader.nextField() {
            switch key.number {
            case 1:
                var sub = try reader.readMessage(key)
                nodes.append(try ONNXNodeProto(reader: &sub))
            case 2: name = try reader.readString(key)
            case 5:
                var sub = try reader.readMessage(key)
                initializers.append(try ONNXTensorProto(reader: &sub))
            case 11, 12, 13:
                var sub = try reader.readMessage(key)
                let info = try ONNXValueInfoProto(reader: &sub)
                if key.number == 11 { inputs.append(info) } else if key.number == 12 { outputs.append(info) } else { valueInfo.append(info) }
            default: try reader.skip(key)
            }
        }
    }
}

/// `NodeProto`: one operator application.
public struct ONNXNodeProto {
    public var inputs: [String] = []
    public var outputs: [String] = []
    public var name: String = ""
    public var opType: String = ""
    public var domain: String = ""
    public var attributes: [ONNXAttributeProto] = []

    public init(opType: String, inputs: [String], outputs: [String], name: String = "", attributes: [ONNXAttributeProto] = []) {
        self.opType = opType
        self.inputs = inputs
        self.outputs = outputs
        self.name = name
        self.attributes = attributes
    }

    init(reader: inout ProtobufReader) throws {
        while let key = try reader.nextField() {
            switch key.number {
            case 1: inputs.append(try reader.readString(key))
            case 2: outputs.append(try reader.readString(key))
            case 3: name = try reader.readString(key)
            case 4: opType = try reader.readString(key)
            case 5:
                var sub = try reader.readMessage(key)
                attributes.append(try ONNXAttributeProto(reader: &sub))
            case 7: domain = try reader.readString(key)
            default: try reader.skip(key)
            }
        }
    }

    public func attribute(_ name: String) -> ONNXAttributeProto? {
        attributes.first { $0.name == name }
    }
}

/// `AttributeProto`. Only the value fields Quanta uses are kept.
public struct ONNXAttributeProto {
    /// `AttributeProto.AttributeType`.
    public enum AttributeType: Int {
        case undefined = 0, float = 1, int = 2, string = 3, tensor = 4, graph = 5
        case floats = 6, ints = 7, strings = 8, tensors = 9, graphs = 10
        case sparseTensor = 11, sparseTensors = 12, typeProto = 13, typeProtos = 14
    }

    public var name: String = ""
    public var type: AttributeType = .undefined
    public var f: Float = 0
    public var i: Int64 = 0
    public var s: [UInt8] = []
    public var t: ONNXTensorProto?
    public var floats: [Float] = []
    public var ints: [Int64] = []
    public var strings: [[UInt8]] = []

    public init(name: String) { self.name = name }

    init(reader: inout ProtobufReader) throws {
        while let key = try reader.nextField() {
            switch key.number {
            case 1: name = try reader.readString(key)
            case 2: f = try reader.readFloat(key)
            case 3: i = try reader.readInt64(key)
            case 4: s = Array(try reader.readBytes(key))
            case 5:
                var sub = try reader.readMessage(key)
                t = try ONNXTensorProto(reader: &sub)
            case 7: try reader.appendFloats(key, to: &floats)
            case 8: try reader.appendInt64s(key, to: &ints)
            case 9: strings.append(Array(try reader.readBytes(key)))
            case 20: type = AttributeType(rawValue: Int(try reader.readInt32(key))) ?? .undefined
            default: try reader.skip(key)
            }
        }
    }

    /// `s` as a UTF-8 string (invalid sequences repaired).
    public var string: String { String(decoding: s, as: UTF8.self) }
}

/// `TensorProto`: a constant tensor (initializer, Constant value, attribute tensor).
public struct ONNXTensorProto {
    /// `TensorProto.DataType` values Quanta reads.
    public enum DataType: Int32 {
        case float = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7
        case string = 8, bool = 9, float16 = 10, double = 11, uint32 = 12, uint64 = 13
        case bfloat16 = 16
    }

    public var name: String = ""
    public var dims: [Int64] = []
    public var dataType: Int32 = 0
    public var floatData: [Float] = []
    public var int32Data: [Int64] = []
    public var int64Data: [Int64] = []
    public var doubleData: [Double] = []
    public var rawData: ArraySlice<UInt8>?
    /// `data_location == EXTERNAL` or any `external_data` entry.
    public var usesExternalData = false

    public init(name: String, dims: [Int64], floats: [Float]) {
        self.name = name
        self.dims = dims
        self.dataType = DataType.float.rawValue
        self.floatData = floats
    }

    init(reader: inout ProtobufReader) throws {
        while let key = try reader.nextField() {
            switch key.number {
            case 1: try reader.appendInt64s(key, to: &dims)
            case 2: dataType = try reader.readInt32(key)
            case 4: try reader.appendFloats(key, to: &floatData)
            case 5: try reader.appendInt64s(key, to: &int32Data)
            case 7: try reader.appendInt64s(key, to: &int64Data)
            case 8: name = try reader.readString(key)
            case 9: rawData = try reader.readBytes(key)
            case 10: try reader.appendDoubles(key, to: &doubleData)
            case 13:
                usesExternalData = true
                try reader.skip(key)
            case 14: if try reader.readVarint(key) == 1 { usesExternalData = true }
            default: try reader.skip(key)
            }
        }
    }

    /// Number of elements: the product of `dims` (1 for a scalar); -1 when the dims are
    /// not valid (`ONNXLimits.elementCount` is nil: a negative or too large dimension).
    public var elementCount: Int { ONNXLimits.elementCount(dims) ?? -1 }

    /// `elementCount`, or `.invalidTensorDims` when the dims are out of `ONNXLimits`.
    func validatedElementCount() throws -> Int {
        guard let count = ONNXLimits.elementCount(dims) else { throw ONNXImportError.invalidTensorDims(tensor: name, dims: dims) }
        return count
    }

    /// The elements as Float, in the tensor's row-major order. Integer types convert
    /// exactly where representable; float16 and double round to nearest.
    public func floatValues() throws -> [Float] {
        if usesExternalData { throw ONNXImportError.externalData(tensor: name) }
        guard let type = DataType(rawValue: dataType) else {
            throw ONNXImportError.unsupportedDataType(tensor: name, dataType: dataType)
        }
        _ = try validatedElementCount()
        let values: [Float]
        if let raw = rawData {
            values = try decodeRaw(raw, type)
        } else {
            switch type {
            case .float: values = floatData
            case .double: values = doubleData.map { Float($0) }
            case .int64: values = int64Data.map { Float($0) }
            case .int32, .int8, .uint8, .int16, .uint16, .bool: values = int32Data.map { Float($0) }
            case .float16: values = int32Data.map { Float(Float16(bitPattern: UInt16(truncatingIfNeeded: $0))) }
            default: throw ONNXImportError.unsupportedDataType(tensor: name, dataType: dataType)
            }
        }
        guard values.count == elementCount else {
            throw ONNXImportError.tensorSizeMismatch(tensor: name, expected: elementCount, found: values.count)
        }
        return values
    }

    /// The elements as Int64 (shapes, axes, pads). Float types are truncated toward zero
    /// and saturate at the Int64 range (NaN becomes 0).
    public func int64Values() throws -> [Int64] {
        if usesExternalData { throw ONNXImportError.externalData(tensor: name) }
        guard let type = DataType(rawValue: dataType) else {
            throw ONNXImportError.unsupportedDataType(tensor: name, dataType: dataType)
        }
        _ = try validatedElementCount()
        if rawData == nil {
            switch type {
            case .int64:
                guard int64Data.count == elementCount else {
                    throw ONNXImportError.tensorSizeMismatch(tensor: name, expected: elementCount, found: int64Data.count)
                }
                return int64Data
            case .int32, .int8, .uint8, .int16, .uint16, .bool:
                guard int32Data.count == elementCount else {
                    throw ONNXImportError.tensorSizeMismatch(tensor: name, expected: elementCount, found: int32Data.count)
                }
                return int32Data
            default: break
            }
        } else if type == .int64, let raw = rawData {
            guard raw.count == elementCount * 8 else {
                throw ONNXImportError.tensorSizeMismatch(tensor: name, expected: elementCount, found: raw.count / 8)
            }
            let base = raw.startIndex
            return (0..<elementCount).map { k in
                var v: UInt64 = 0
                for b in 0..<8 { v |= UInt64(raw[base + k * 8 + b]) << (8 * UInt64(b)) }
                return Int64(bitPattern: v)
            }
        }
        return try floatValues().map { ONNXLimits.saturatingInt64($0) }
    }

    private func decodeRaw(_ raw: ArraySlice<UInt8>, _ type: DataType) throws -> [Float] {
        let size: Int
        switch type {
        case .float, .int32, .uint32: size = 4
        case .double, .int64, .uint64: size = 8
        case .float16, .int16, .uint16, .bfloat16: size = 2
        case .int8, .uint8, .bool: size = 1
        case .string: throw ONNXImportError.unsupportedDataType(tensor: name, dataType: dataType)
        }
        guard raw.count == elementCount * size else {
            throw ONNXImportError.tensorSizeMismatch(tensor: name, expected: elementCount, found: raw.count / size)
        }
        let base = raw.startIndex
        func u(_ k: Int) -> UInt64 {
            var v: UInt64 = 0
            for b in 0..<size { v |= UInt64(raw[base + k * size + b]) << (8 * UInt64(b)) }
            return v
        }
        var out = [Float](repeating: 0, count: elementCount)
        switch type {
        case .float:
            raw.withUnsafeBytes { p in
                for k in 0..<elementCount { out[k] = Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: k * 4, as: UInt32.self))) }
            }
        case .double: for k in 0..<elementCount { out[k] = Float(Double(bitPattern: u(k))) }
        case .int64: for k in 0..<elementCount { out[k] = Float(Int64(bitPattern: u(k))) }
        case .uint64: for k in 0..<elementCount { out[k] = Float(u(k)) }
        case .int32: for k in 0..<elementCount { out[k] = Float(Int32(truncatingIfNeeded: u(k))) }
        case .uint32: for k in 0..<elementCount { out[k] = Float(UInt32(truncatingIfNeeded: u(k))) }
        case .int16: for k in 0..<elementCount { out[k] = Float(Int16(truncatingIfNeeded: u(k))) }
        case .uint16: for k in 0..<elementCount { out[k] = Float(UInt16(truncatingIfNeeded: u(k))) }
        case .float16: for k in 0..<elementCount { out[k] = Float(Float16(bitPattern: UInt16(truncatingIfNeeded: u(k)))) }
        case .bfloat16: for k in 0..<elementCount { out[k] = Float(bitPattern: UInt32(truncatingIfNeeded: u(k)) << 16) }
        case .int8: for k in 0..<elementCount { out[k] = Float(Int8(truncatingIfNeeded: u(k))) }
        case .uint8, .bool: for k in 0..<elementCount { out[k] = Float(UInt8(truncatingIfNeeded: u(k))) }
        case .string: break
        }
        return out
    }
}

/// One dimension of a `TensorShapeProto`: a value, a symbolic name, or unknown.
public enum ONNXDimension: Equatable {
    case value(Int64)
    case param(String)
    case unknown
}

/// `ValueInfoProto` with its `TypeProto.Tensor` (element type and shape).
public struct ONNXValueInfoProto {
    public var name: String = ""
    public var elementType: Int32 = 0
    /// nil when the type has no shape (rank unknown).
    public var shape: [ONNXDimension]?

    init(reader: inout ProtobufReader) throws {
        while let key = try reader.nextField() {
            switch key.number {
            case 1: name = try reader.readString(key)
            case 2:
                var type = try reader.readMessage(key)
                while let tk = try type.nextField() {
                    if tk.number == 1 {  // tensor_type
                        var tensor = try type.readMessage(tk)
                        try readTensorType(&tensor)
                    } else {
                        try type.skip(tk)
                    }
                }
            default: try reader.skip(key)
            }
        }
    }

    private mutating func readTensorType(_ reader: inout ProtobufReader) throws {
        while let key = try reader.nextField() {
            switch key.number {
            case 1: elementType = try reader.readInt32(key)
            case 2:
                var shapeReader = try reader.readMessage(key)
                var dims: [ONNXDimension] = []
                while let sk = try shapeReader.nextField() {
                    guard sk.number == 1 else { try shapeReader.skip(sk); continue }
                    var dimReader = try shapeReader.readMessage(sk)
                    var dim = ONNXDimension.unknown
                    while let dk = try dimReader.nextField() {
                        switch dk.number {
                        case 1: dim = .value(try dimReader.readInt64(dk))
                        case 2: dim = .param(try dimReader.readString(dk))
                        default: try dimReader.skip(dk)
                        }
                    }
                    dims.append(dim)
                }
                shape = dims
            default: try reader.skip(key)
            }
        }
    }
}
