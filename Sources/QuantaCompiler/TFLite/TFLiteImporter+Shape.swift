import QuantaKernels

/// Pooling, MEAN, PAD, CONCATENATION and the operators that move no bytes in NHWC
/// (RESHAPE, SQUEEZE, EXPAND_DIMS, and a TRANSPOSE that only moves dimensions of size 1).
extension TFLiteConversion {
    enum PoolField { static let padding = 0, strideW = 1, strideH = 2, filterW = 3, filterH = 4, activation = 5 }

    mutating func pool(_ op: TFLiteOperator, code: Int32, name: String) throws {
        let options = try self.options(op, type: 5, name: name)
        guard let options else { throw TFLiteImportError.invalidModel(op: name, detail: "no Pool2DOptions") }
        let input = try self.input(op, 0, name: name)
        let s = model.tensors[input].shape
        let kh = Int(try options.i32(PoolField.filterH)), kw = Int(try options.i32(PoolField.filterW))
        guard kh >= 1, kw >= 1, kh * kw <= ONNXLimits.maxPoolWindow else {
            throw TFLiteImportError.invalidModel(op: name, detail: "pool window \(kh)×\(kw)")
        }
        let sh = Int(try options.i32(PoolField.strideH)), sw = Int(try options.i32(PoolField.strideW))
        let code8 = try options.u8(PoolField.padding)
        let ph = try padding(code8, input: s.h, kernel: kh, stride: sh, dilation: 1, op: name)
        let pw = try padding(code8, input: s.w, kernel: kw, stride: sw, dilation: 1, op: name)
        let output = try self.output(op, name: name)
        try expect(op.outputs[0], TensorShape(n: s.n, h: ph.size, w: pw.size, c: s.c), op: name)
        try sameQuantization(input, output, op: name)
        let (lo, hi) = try activationRange(try options.i8(PoolField.activation), output: model.tensors[output].quantization, op: name)
        let parameters = PoolParameters(
            kernelH: kh, kernelW: kw, strideH: sh, strideW: sw,
            padding: Padding(top: ph.before, left: pw.before, bottom: ph.after, right: pw.after))
        append(code == TFLiteOperatorCode.maxPool2D
                ? .maxPool(parameters, clampMin: lo, clampMax: max(lo, hi))
                : .averagePool(parameters, clampMin: lo, clampMax: max(lo, hi)),
               inputs: [input], output: output, name: name)
    }

    /// MEAN over H and W of a rank-4 tensor (axes {1, 2}), as LiteRT's int8 reference
    /// (`reference_ops::QuantizedMeanOrSum`): `M, e = QuantizeMultiplier(double(inScale) /
    /// double(outScale))`, the division by `n = H·W` folded into the multiplier
    /// (`k = min(floor(log2 n), 32, 31 + e)`, `M' = (M << k) / n`, `e' = e − k`), then
    /// `zpOut + MultiplyByQuantizedMultiplier(Σx − zpIn·n, M', e')`. That is exactly a
    /// depthwise convolution with an H×W window of weights 1, bias 0 and `M', e'` for every
    /// channel, which is how it is written (no kernel of its own).
    mutating func mean(_ op: TFLiteOperator, name: String) throws {
        let input = try self.input(op, 0, name: name)
        guard file.tensors[op.inputs[0]!].shape.count == 4 else {
            throw TFLiteImportError.unsupportedForm(op: name, detail: "MEAN of a rank-\(file.tensors[op.inputs[0]!].shape.count) tensor (only rank 4 over H and W)")
        }
        let axes = Set(try integers(op.inputs.count > 1 ? op.inputs[1] : nil, op: name, what: "axes").map { $0 < 0 ? $0 + 4 : $0 })
        guard axes == [1, 2] else {
            throw TFLiteImportError.unsupportedForm(op: name, detail: "MEAN over axes \(axes.sorted()) (only over H and W: [1, 2])")
        }
        let s = model.tensors[input].shape
        let output = try self.output(op, name: name)
        try expect(op.outputs[0], TensorShape(n: s.n, h: 1, w: 1, c: s.c), op: name)
        let n = s.h * s.w
        try checkTerms(n, op: name)
        let (m, e) = try WeightQuantization.multiplier(
            Double(model.tensors[input].quantization.scale) / Double(model.tensors[output].quantization.scale), node: name, what: "mean")
        let k = min(Int.bitWidth - 1 - n.leadingZeroBitCount, 32, 31 + Int(e))
        guard k >= 0 else { throw TFLiteImportError.unsupportedForm(op: name, detail: "mean multiplier exponent \(e)") }
        let folded = Int32(truncatingIfNeeded: (Int64(m) << Int64(k)) / Int64(n))
        let filter = FilterShape(outputChannels: s.c, kernelH: s.h, kernelW: s.w, inputChannelsPerGroup: 1)
        let requantization = RequantizationConstants(
            multipliers: [Int32](repeating: folded, count: s.c), shifts: [Int32](repeating: e - Int32(k), count: s.c))
        append(.conv2D(parameters: Conv2DParameters(groups: s.c), filter: filter, weights: [Int8](repeating: 1, count: s.c * n),
                       bias: [Int32](repeating: 0, count: s.c), requantization: requantization),
               inputs: [input], output: output, name: name)
    }

    /// PAD (with the output's zero point) and PADV2 (with its constant value) of H and W.
    mutating func pad(_ op: TFLiteOperator, code: Int32, name: String) throws {
        let input = try self.input(op, 0, name: name)
        let rank = file.tensors[op.inputs[0]!].shape.count
        let pads = try integers(op.inputs.count > 1 ? op.inputs[1] : nil, op: name, what: "paddings")
        guard rank == 4, pads.count == 8, pads[0] == 0, pads[1] == 0, pads[6] == 0, pads[7] == 0,
              pads[2...5].allSatisfy({ $0 >= 0 && $0 <= ONNXLimits.maxDimension }) else {
            throw TFLiteImportError.unsupportedForm(op: name, detail: "paddings \(pads) of a rank-\(rank) tensor (only H and W of rank 4, non-negative)")
        }
        let output = try self.output(op, name: name)
        let s = model.tensors[input].shape
        let padding = Padding(top: pads[2], left: pads[4], bottom: pads[3], right: pads[5])
        try expect(op.outputs[0], TensorShape(n: s.n, h: s.h + pads[2] + pads[3], w: s.w + pads[4] + pads[5], c: s.c), op: name)
        try sameQuantization(input, output, op: name)
        var value = Int8(model.tensors[output].quantization.zeroPoint)
        if code == TFLiteOperatorCode.padV2, op.inputs.count > 2, let v = op.inputs[2] {
            let (_, bytes) = try constant(v, type: .int8, op: name, what: "constant value")
            guard bytes.count == 1 else { throw TFLiteImportError.invalidModel(op: name, detail: "constant value of \(bytes.count) elements") }
            value = Int8(bitPattern: bytes[bytes.startIndex])
        }
        append(.pad(padding, value: value), inputs: [input], output: output, name: name)
    }

    /// RESHAPE, SQUEEZE, EXPAND_DIMS: the same bytes (TFLite and Quanta both hold NHWC
    /// row-major), with the declared output shape.
    mutating func reshape(_ op: TFLiteOperator, name: String) throws {
        let input = try self.input(op, 0, name: name)
        let output = try self.output(op, name: name)
        guard model.tensors[input].shape.elementCount == model.tensors[output].shape.elementCount else {
            throw TFLiteImportError.invalidModel(op: name, detail: "\(model.tensors[input].shape.elementCount) elements become \(model.tensors[output].shape.elementCount)")
        }
        try sameQuantization(input, output, op: name)
        append(.reshape, inputs: [input], output: output, name: name)
    }

    /// A TRANSPOSE whose permutation keeps the dimensions larger than 1 in order moves no
    /// byte: it becomes a reshape. Other permutations need general tensors (not yet).
    mutating func transpose(_ op: TFLiteOperator, name: String) throws {
        let inputTensor = file.tensors[op.inputs[0] ?? 0]
        let perm = try integers(op.inputs.count > 1 ? op.inputs[1] : nil, op: name, what: "permutation")
        guard perm.sorted() == Array(0..<inputTensor.shape.count) else {
            throw TFLiteImportError.invalidModel(op: name, detail: "permutation \(perm) of a rank-\(inputTensor.shape.count) tensor")
        }
        let moved = perm.filter { inputTensor.shape[$0] > 1 }
        guard moved == moved.sorted() else {
            throw TFLiteImportError.unsupportedForm(op: name, detail: "TRANSPOSE \(perm) of \(inputTensor.shape): it moves data, and Quanta's runtime has no general transpose yet")
        }
        try reshape(op, name: name)
    }

    /// CONCATENATION along the last axis of inputs that share the output's quantization.
    mutating func concatenation(_ op: TFLiteOperator, name: String) throws {
        let options = try self.options(op, type: 10, name: name)
        let rank = file.tensors[op.outputs[0]].shape.count
        var axis = Int(try options?.i32(0) ?? 0)
        if axis < 0 { axis += rank }
        guard axis == rank - 1 else {
            throw TFLiteImportError.unsupportedForm(op: name, detail: "concatenation along axis \(axis) of rank \(rank) (only the channels, the last axis)")
        }
        guard try options?.i8(1) ?? 0 == 0 else {
            throw TFLiteImportError.unsupportedForm(op: name, detail: "a fused activation on a concatenation")
        }
        var inputs: [Int] = []
        for k in op.inputs.indices { inputs.append(try input(op, k, name: name)) }
        let output = try self.output(op, name: name)
        for i in inputs { try sameQuantization(i, output, op: name) }
        append(.concat, inputs: inputs, output: output, name: name)
    }

    /// Input and output must share scale and zero point (ops that move bytes unchanged).
    func sameQuantization(_ a: Int, _ b: Int, op: String) throws {
        guard model.tensors[a].quantization == model.tensors[b].quantization else {
            throw TFLiteImportError.unsupportedForm(
                op: op, detail: "'\(model.tensors[a].name)' and '\(model.tensors[b].name)' have different quantization (\(model.tensors[a].quantization.scale), \(model.tensors[a].quantization.zeroPoint) vs \(model.tensors[b].quantization.scale), \(model.tensors[b].quantization.zeroPoint)); this op keeps the bytes")
        }
    }
}
