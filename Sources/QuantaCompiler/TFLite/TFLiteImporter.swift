import QuantaKernels

/// `.tflite` (already int8) → `QuantizedModel`, keeping the file's scales and zero points
/// and deriving every multiplier from them exactly as TFLite's kernels do in their
/// `Prepare` (double arithmetic, `QuantizeMultiplier`), so that the int8 runtime gives
/// the bytes of TFLite's reference kernels (docs/TFLITE.md).
///
/// The subset read: one subgraph; int8 activations with per-tensor quantization; int8
/// weights (per-tensor or per-channel, zero point 0) and int32 biases; activations of
/// rank 1 to 6 (`nhwc`); the operators of `TFLiteImporter.supported`. A float
/// graph input that only a QUANTIZE reads, and a float graph output that a DEQUANTIZE
/// writes, become the int8 tensor next to them (the runtime quantizes and dequantizes
/// with the same formulas). Anything else is a `TFLiteImportError` naming it.
public enum TFLiteImporter {
    /// The TFLite operators Quanta imports.
    public static let supported = [
        "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEQUANTIZE",
        "EXPAND_DIMS", "FULLY_CONNECTED", "HARD_SWISH", "LEAKY_RELU", "LOGISTIC", "MAX_POOL_2D", "MEAN",
        "MUL", "PAD", "PADV2", "QUANTIZE", "RELU", "RELU6", "RELU_0_TO_1", "RELU_N1_TO_1", "RESHAPE",
        "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR", "SOFTMAX", "SPLIT", "SPLIT_V", "STRIDED_SLICE", "SUB", "TRANSPOSE_CONV",
        "SQUEEZE", "TANH", "TRANSPOSE",
    ]

    /// Imports the `.tflite` bytes. `extraOutputs`: names of intermediate tensors to make
    /// graph outputs too, after the model's own (to compare layer by layer).
    public static func importModel(bytes: [UInt8], extraOutputs: [String] = []) throws -> QuantizedModel {
        var conversion = try TFLiteConversion(file: try TFLiteModel(bytes: bytes))
        try conversion.run(extraOutputs: extraOutputs)
        return conversion.model
    }

    /// Imports the `.tflite` file at `path`.
    public static func importModel(path: String, extraOutputs: [String] = []) throws -> QuantizedModel {
        do {
            return try importModel(bytes: try FileIO.read(path), extraOutputs: extraOutputs)
        } catch let error as TFLiteImportError {
            throw SourcedError(source: path, underlying: error)
        } catch let error as QuantizationError {
            throw SourcedError(source: path, underlying: error)
        }
    }
}

/// The state of one import: the file, the model built so far and where each TFLite
/// tensor went.
struct TFLiteConversion: TFLiteFileAccess {
    let file: TFLiteModel
    var model = QuantizedModel()
    /// TFLite tensor → `model.tensors` index, for the activations met so far.
    var mapped: [Int: Int] = [:]
    /// Float graph inputs read by a QUANTIZE, float outputs written by a DEQUANTIZE: the
    /// int8 tensor on the other side of that op.
    var aliases: [Int: Int] = [:]

    init(file: TFLiteModel) throws {
        self.file = file
    }

    mutating func run(extraOutputs: [String] = []) throws {
        if file.subgraphCount > 1 {
            throw TFLiteImportError.unsupportedForm(op: "model", detail: "\(file.subgraphCount) subgraphs (control flow); only one is run")
        }
        findBoundaryConversions()
        for t in file.inputs {
            model.inputs.append(try activation(aliases[t] ?? t, op: "graph input"))
        }
        for (index, op) in file.operators.enumerated() {
            try convert(op, index: index)
        }
        for t in file.outputs {
            guard let q = mapped[aliases[t] ?? t] else {
                throw TFLiteImportError.invalidModel(op: "graph output '\(file.tensors[t].name)'", detail: "no operator writes it")
            }
            model.outputs.append(q)
        }
        for name in extraOutputs {
            guard let t = file.tensors.firstIndex(where: { $0.name == name }), let q = mapped[t] else {
                throw TFLiteImportError.invalidModel(op: "--output-tensors", detail: "no int8 activation named '\(name)'")
            }
            model.outputs.append(q)
        }
        foldPadsIntoConvolutions()
    }

    /// A PAD with the zero point, read only by a convolution, becomes that convolution's
    /// padding: a padded position contributes `(zp − zp)·w = 0` either way, as TFLite's
    /// convolution skips positions outside the input. The same bytes, one tensor fewer
    /// (onnx2tf writes an explicit PAD before each stride-2 convolution; kept, the padded
    /// copy would sit beside its source at the arena's peak and block the fused blocks).
    mutating func foldPadsIntoConvolutions() {
        var readers = [Int](repeating: 0, count: model.tensors.count)
        for op in model.ops { for i in op.inputs { readers[i] += 1 } }
        for o in model.outputs { readers[o] += 1 }
        var removed = Set<Int>()
        for (p, pad) in model.ops.enumerated() {
            guard case .pad(let extra, let value) = pad.kind, readers[pad.outputs[0]] == 1,
                  Int32(value) == model.tensors[pad.inputs[0]].quantization.zeroPoint,
                  let c = model.ops.firstIndex(where: { $0.inputs == [pad.outputs[0]] }),
                  case .conv2D(var parameters, let filter, let weights, let bias, let requantization) = model.ops[c].kind
            else { continue }
            let q = parameters.padding
            parameters.padding = Padding(
                top: q.top + extra.top, left: q.left + extra.left, bottom: q.bottom + extra.bottom, right: q.right + extra.right)
            model.ops[c].kind = .conv2D(parameters: parameters, filter: filter, weights: weights, bias: bias, requantization: requantization)
            model.ops[c].inputs = pad.inputs
            removed.insert(p)
        }
        guard !removed.isEmpty else { return }
        model.ops = model.ops.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        // The pads' outputs are read by nothing now.
        model = MemoryPasses.compact(model)
    }

    /// Float inputs whose only readers are QUANTIZE ops, float outputs written by DEQUANTIZE.
    mutating func findBoundaryConversions() {
        for (index, op) in file.operators.enumerated() where op.inputs.count == 1 && op.outputs.count == 1 {
            guard let input = op.inputs[0] else { continue }
            let output = op.outputs[0]
            let code = file.code(op)
            if code == TFLiteOperatorCode.quantize, file.tensors[input].type == .float32, file.inputs.contains(input),
               !file.operators.enumerated().contains(where: { $0.offset != index && $0.element.inputs.contains(input) }) {
                aliases[input] = output
            }
            if code == TFLiteOperatorCode.dequantize, file.tensors[output].type == .float32, file.outputs.contains(output) {
                aliases[output] = input
            }
        }
    }

    // MARK: Tensors

    /// The model tensor of activation `t`, added on first use: int8 with one scale and zero
    /// point, rank 2 or 4.
    mutating func activation(_ t: Int, op: String) throws -> Int {
        if let q = mapped[t] { return q }
        let tensor = file.tensors[t]
        guard tensor.type == .int8 else {
            throw TFLiteImportError.unsupportedQuantization(tensor: tensor.name, detail: "\(tensor.type.name) activation (\(op)); Quanta runs int8 activations")
        }
        let quantization = try perTensor(t)
        let bytes = file.data(t)
        // A constant operand of rank 0 or 1 (a scalar or per-channel vector) broadcasts as
        // 1×1×1×C.
        let shape = !bytes.isEmpty && tensor.shape.count <= 1
            ? TensorShape(n: 1, h: 1, w: 1, c: max(1, tensor.shape.first ?? 1)) : try nhwc(t)
        var data: [Int8]?
        if !bytes.isEmpty {
            guard bytes.count == shape.elementCount else {
                throw TFLiteImportError.invalidModel(op: op, detail: "constant '\(tensor.name)' has \(bytes.count) bytes for \(shape.elementCount) elements")
            }
            data = bytes.map { Int8(bitPattern: $0) }
        }
        model.tensors.append(QuantizedTensor(
            name: tensor.name, shape: shape, quantization: quantization,
            sourceLayout: tensor.shape.count == 2 ? .nc : .nhwc, data: data))
        mapped[t] = model.tensors.count - 1
        return model.tensors.count - 1
    }

    /// The one scale and zero point of tensor `t` (scale positive and finite, zero point in
    /// -128...127).
    func perTensor(_ t: Int) throws -> QuantizationParameters {
        let tensor = file.tensors[t]
        guard tensor.scales.count == 1, tensor.zeroPoints.count == 1 else {
            throw TFLiteImportError.unsupportedQuantization(
                tensor: tensor.name,
                detail: tensor.scales.isEmpty ? "not quantized (no scale)" : "\(tensor.scales.count) scales; activations take one (per-tensor)")
        }
        let scale = tensor.scales[0], zeroPoint = tensor.zeroPoints[0]
        guard scale.isFinite, scale > 0, (-128...127).contains(zeroPoint) else {
            throw TFLiteImportError.unsupportedQuantization(tensor: tensor.name, detail: "scale \(scale), zero point \(zeroPoint) (scale must be positive and finite, zero point in -128...127)")
        }
        return QuantizationParameters(scale: scale, zeroPoint: Int32(zeroPoint))
    }

    // MARK: Helpers shared by the op families

    /// TFLite's `CalculateActivationRangeQuantized` for a fused activation code: the clamp
    /// `zp + round(f / scale)` (float division, half away from zero, saturated) of its
    /// bounds, which is `WeightQuantization.clampRange` (low ≤ high).
    func activationRange(_ code: Int8, output: QuantizationParameters, op: String) throws -> (Int32, Int32) {
        WeightQuantization.clampRange(try fusedActivation(code, op: op), output)
    }

    mutating func append(_ kind: QuantizedOpKind, inputs: [Int], output: Int, name: String) {
        model.ops.append(QuantizedOp(name: name, kind: kind, inputs: inputs, outputs: [output]))
    }

    // MARK: Dispatch

    mutating func convert(_ op: TFLiteOperator, index: Int) throws {
        let name = opName(op, index)
        let code = try builtinCode(op, index: index)
        // Boundary conversions made aliases.
        if code == TFLiteOperatorCode.quantize, let i = op.inputs.first ?? nil, aliases[i] != nil { return }
        if code == TFLiteOperatorCode.dequantize, let o = op.outputs.first, aliases[o] != nil { return }
        if Self.moveCodes.contains(code) {
            return try move(op, code: code, name: name)
        }
        guard op.outputs.count == 1 else {
            throw TFLiteImportError.unsupportedForm(op: name, detail: "\(op.outputs.count) outputs")
        }
        switch code {
        case TFLiteOperatorCode.conv2D: try convolution(op, name: name)
        case TFLiteOperatorCode.depthwiseConv2D: try depthwise(op, name: name)
        case TFLiteOperatorCode.fullyConnected: try fullyConnected(op, name: name)
        case TFLiteOperatorCode.transposeConv: try transposeConvolution(op, name: name)
        case TFLiteOperatorCode.add, TFLiteOperatorCode.mul, TFLiteOperatorCode.sub: try binary(op, code: code, name: name)
        case TFLiteOperatorCode.averagePool2D, TFLiteOperatorCode.maxPool2D: try pool(op, code: code, name: name)
        case TFLiteOperatorCode.mean: try mean(op, name: name)
        case TFLiteOperatorCode.pad, TFLiteOperatorCode.padV2: try pad(op, code: code, name: name)
        case TFLiteOperatorCode.reshape, TFLiteOperatorCode.squeeze, TFLiteOperatorCode.expandDims: try reshape(op, name: name)
        case TFLiteOperatorCode.softmax: try softmax(op, name: name)
        case TFLiteOperatorCode.resizeBilinear, TFLiteOperatorCode.resizeNearest: try resize(op, code: code, name: name)
        case TFLiteOperatorCode.hardSwish, TFLiteOperatorCode.relu, TFLiteOperatorCode.relu6,
             TFLiteOperatorCode.reluN1To1, TFLiteOperatorCode.relu0To1, TFLiteOperatorCode.leakyRelu,
             TFLiteOperatorCode.quantize, TFLiteOperatorCode.logistic, TFLiteOperatorCode.tanh:
            try unary(op, code: code, name: name)
        default:
            throw TFLiteImportError.unsupportedOperator(index: index, name: TFLiteOperatorCode.name(code), supported: TFLiteImporter.supported)
        }
    }

    /// The output of `op`, added to the model.
    mutating func output(_ op: TFLiteOperator, name: String) throws -> Int {
        try newOutput(op.outputs[0], name: name)
    }

    mutating func materialize(_ t: Int, op: String) throws -> Int { try activation(t, op: op) }
}
