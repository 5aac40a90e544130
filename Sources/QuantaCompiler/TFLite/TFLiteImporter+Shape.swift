import QuantaKernels

/// Pooling, MEAN, PAD, resizes and the operators that move no bytes in NHWC (RESHAPE,
/// SQUEEZE, EXPAND_DIMS); the data movements (`TFLiteMove`) as int8 ops.
extension TFLiteConversion {
    mutating func pool(_ op: TFLiteOperator, code: Int32, name: String) throws {
        let input = try self.input(op, 0, name: name)
        let g = try poolGeometry(op, name: name, input: model.tensors[input].shape)
        let output = try self.output(op, name: name)
        try expect(op.outputs[0], g.output, op: name)
        try sameQuantization(input, output, op: name)
        let (lo, hi) = try activationRange(g.activation, output: model.tensors[output].quantization, op: name)
        append(code == TFLiteOperatorCode.maxPool2D
                ? .maxPool(g.parameters, clampMin: lo, clampMax: hi)
                : .averagePool(g.parameters, clampMin: lo, clampMax: hi),
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
        try checkMean(op, name: name)
        let s = model.tensors[input].shape
        let output = try self.output(op, name: name)
        try expect(op.outputs[0], TensorShape(n: s.n, h: 1, w: 1, c: s.c), op: name)
        let n = s.h * s.w
        guard n <= QuantizePipeline.maxAccumulatorTerms else {
            throw TFLiteImportError.unsupportedForm(op: name, detail: "a mean of \(n) values, above the int32 accumulator's bound")
        }
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
        let padding = try padGeometry(op, name: name)
        let output = try self.output(op, name: name)
        let s = model.tensors[input].shape
        try expect(op.outputs[0], TensorShape(n: s.n, h: s.h + padding.top + padding.bottom, w: s.w + padding.left + padding.right, c: s.c), op: name)
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

    /// RESIZE_NEAREST_NEIGHBOR by integer factors (without align corners: the source index
    /// `floor(x / f)` either way of half-pixel centers) as a copy; RESIZE_BILINEAR with
    /// `ResizeBilinearInteger`'s tables (`bilinearTable`). Input and output share quantization.
    mutating func resize(_ op: TFLiteOperator, code: Int32, name: String) throws {
        let input = try self.input(op, 0, name: name)
        let s = model.tensors[input].shape
        let bilinear = code == TFLiteOperatorCode.resizeBilinear
        let g = try resizeGeometry(op, name: name, input: s, bilinear: bilinear)
        let output = try self.output(op, name: name)
        try sameQuantization(input, output, op: name)
        if bilinear {
            append(.resizeBilinear(
                rows: Self.bilinearTable(input: s.h, output: g.output.h, alignCorners: g.alignCorners, halfPixelCenters: g.halfPixelCenters),
                columns: Self.bilinearTable(input: s.w, output: g.output.w, alignCorners: g.alignCorners, halfPixelCenters: g.halfPixelCenters)),
                   inputs: [input], output: output, name: name)
        } else {
            append(.upsampleNearest(factorH: g.output.h / s.h, factorW: g.output.w / s.w), inputs: [input], output: output, name: name)
        }
    }

    /// Input and output must share scale and zero point (ops that move bytes unchanged).
    func sameQuantization(_ a: Int, _ b: Int, op: String) throws {
        guard model.tensors[a].quantization == model.tensors[b].quantization else {
            throw TFLiteImportError.unsupportedForm(
                op: op, detail: "'\(model.tensors[a].name)' and '\(model.tensors[b].name)' have different quantization (\(model.tensors[a].quantization.scale), \(model.tensors[a].quantization.zeroPoint) vs \(model.tensors[b].quantization.scale), \(model.tensors[b].quantization.zeroPoint)); this op keeps the bytes")
        }
    }

    mutating func addTensor(like t: Int, shape: TensorShape, name: String) -> Int {
        model.tensors.append(QuantizedTensor(name: name, shape: shape, quantization: model.tensors[t].quantization))
        return model.tensors.count - 1
    }

    mutating func emit(_ move: TFLiteMove, inputs: [Int], output: Int, name: String) throws {
        for i in inputs { try sameQuantization(i, output, op: name) }
        let kind: QuantizedOpKind
        switch move {
        case .reshape: kind = .reshape
        case .concat: kind = .concat
        case .sliceChannels(let start, let count): kind = .sliceChannels(start: start, count: count)
        case .stridedCopy(let view): kind = .stridedCopy(view)
        }
        model.ops.append(QuantizedOp(name: name, kind: kind, inputs: inputs, outputs: [output]))
    }
}
