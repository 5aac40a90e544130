import QuantaKernels

/// CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: int8 weights (zero point 0, one scale
/// or one per output channel), int32 bias, TFLite's per-channel multipliers
/// `QuantizeMultiplier(double(inScale) · double(weightScale[c]) / double(outScale))`.
extension TFLiteConversion {
    mutating func convolution(_ op: TFLiteOperator, name: String) throws {
        let input = try self.input(op, 0, name: name)
        let g = try convolutionGeometry(op, name: name, input: model.tensors[input].shape, filterType: .int8)
        try weighted(op, name: name, input: input, geometry: g, weights: file.data(g.filterTensor).map { Int8(bitPattern: $0) }, dimension: 0)
    }

    mutating func depthwise(_ op: TFLiteOperator, name: String) throws {
        let input = try self.input(op, 0, name: name)
        let g = try depthwiseGeometry(op, name: name, input: model.tensors[input].shape, filterType: .int8)
        let weights = Self.depthwiseToOHWI(
            file.data(g.filterTensor).map { Int8(bitPattern: $0) }, taps: g.filter.kernelH * g.filter.kernelW, channels: g.filter.outputChannels)
        try weighted(op, name: name, input: input, geometry: g, weights: weights, dimension: 3)
    }

    private mutating func weighted(
        _ op: TFLiteOperator, name: String, input: Int, geometry g: TFLiteConvolutionGeometry, weights: [Int8], dimension: Int
    ) throws {
        let output = try self.output(op, name: name)
        try expect(op.outputs[0], g.output, op: name)
        let channels = g.filter.outputChannels
        let scales = try weightScales(file.tensors[g.filterTensor], channels: channels, dimension: dimension, op: name)
        let requantization = try self.requantization(
            input: input, output: output, weightScales: scales, channels: channels, activation: g.activation, op: name)
        append(.conv2D(parameters: g.parameters, filter: g.filter, weights: weights, bias: try bias(op, channels: channels, name: name),
                       requantization: requantization),
               inputs: [input], output: output, name: name)
    }

    mutating func transposeConvolution(_ op: TFLiteOperator, name: String) throws {
        let input = try self.input(op, 2, name: name)
        let g = try transposeConvolutionGeometry(op, name: name, input: model.tensors[input].shape, filterType: .int8)
        let output = try self.output(op, name: name)
        let channels = g.filter.outputChannels
        let scales = try weightScales(file.tensors[g.filterTensor], channels: channels, dimension: 0, op: name)
        let requantization = try self.requantization(
            input: input, output: output, weightScales: scales, channels: channels, activation: g.activation, op: name)
        append(.transposeConv2D(
            strideH: g.stride.h, strideW: g.stride.w, padding: g.padding, outputPaddingH: g.outputPadding.h, outputPaddingW: g.outputPadding.w,
            filter: g.filter, weights: file.data(g.filterTensor).map { Int8(bitPattern: $0) },
            bias: try bias(op, index: 3, channels: channels, name: name), requantization: requantization),
               inputs: [input], output: output, name: name)
    }

    mutating func fullyConnected(_ op: TFLiteOperator, name: String) throws {
        let input = try self.input(op, 0, name: name)
        let inShape = model.tensors[input].shape
        let g = try fullyConnectedGeometry(op, name: name, input: inShape, weightType: .int8)
        let output = try self.output(op, name: name)
        try expect(op.outputs[0], TensorShape(n: inShape.n, h: 1, w: 1, c: g.outputs), op: name)
        let scales = try weightScales(file.tensors[g.weights], channels: g.outputs, dimension: 0, op: name)
        var requantization = try self.requantization(
            input: input, output: output, weightScales: scales, channels: g.outputs, activation: g.activation, op: name)
        // LiteRT's reference FULLY_CONNECTED scales the accumulator in double.
        let inScale = Double(model.tensors[input].quantization.scale), outScale = Double(model.tensors[output].quantization.scale)
        requantization.doubleScales = scales.map { inScale * Double($0) / outScale }
        append(.fullyConnected(outputCount: g.outputs, inputCount: g.perItem, weights: file.data(g.weights).map { Int8(bitPattern: $0) },
                               bias: try bias(op, channels: g.outputs, name: name), requantization: requantization),
               inputs: [input], output: output, name: name)
    }

    /// The weight scales, one per channel (a per-tensor scale repeated): zero points all 0,
    /// scales positive and finite, per-channel along `dimension`.
    func weightScales(_ tensor: TFLiteTensor, channels: Int, dimension: Int, op: String) throws -> [Float] {
        guard !tensor.scales.isEmpty, tensor.zeroPoints.count == tensor.scales.count || tensor.zeroPoints.count == 1 else {
            throw TFLiteImportError.unsupportedQuantization(tensor: tensor.name, detail: "weights of \(op) are not quantized (\(tensor.scales.count) scales, \(tensor.zeroPoints.count) zero points)")
        }
        guard tensor.zeroPoints.allSatisfy({ $0 == 0 }) else {
            throw TFLiteImportError.unsupportedQuantization(tensor: tensor.name, detail: "asymmetric weights (zero point ≠ 0); int8 weights are symmetric")
        }
        guard tensor.scales.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw TFLiteImportError.unsupportedQuantization(tensor: tensor.name, detail: "a weight scale that is not positive and finite")
        }
        if tensor.scales.count == 1 { return [Float](repeating: tensor.scales[0], count: channels) }
        guard tensor.scales.count == channels, tensor.quantizedDimension == dimension else {
            throw TFLiteImportError.unsupportedQuantization(
                tensor: tensor.name, detail: "\(tensor.scales.count) scales along dimension \(tensor.quantizedDimension); expected 1 or \(channels) along dimension \(dimension)")
        }
        return tensor.scales
    }

    /// The int32 bias (input `index`: 2, or 3 for TRANSPOSE_CONV), zeros when omitted.
    func bias(_ op: TFLiteOperator, index: Int = 2, channels: Int, name: String) throws -> [Int32] {
        guard op.inputs.count > index, let t = op.inputs[index] else { return [Int32](repeating: 0, count: channels) }
        let (tensor, bytes) = try constant(t, type: .int32, op: name, what: "bias")
        guard tensor.shape.reduce(1, *) == channels else {
            throw TFLiteImportError.invalidModel(op: name, detail: "bias of shape \(tensor.shape) for \(channels) output channels")
        }
        return stride(from: bytes.startIndex, to: bytes.endIndex, by: 4).map { p in
            Int32(bitPattern: UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24)
        }
    }

    /// TFLite's `PopulateConvolutionQuantizationParams`: per channel
    /// `QuantizeMultiplier(double(inScale) · double(wScale[c]) / double(outScale))`, and the
    /// fused activation's clamp.
    func requantization(
        input: Int, output: Int, weightScales: [Float], channels: Int, activation: Int8, op: String
    ) throws -> RequantizationConstants {
        let inScale = Double(model.tensors[input].quantization.scale)
        let outQ = model.tensors[output].quantization
        var multipliers: [Int32] = [], shifts: [Int32] = []
        for c in 0..<channels {
            let (m, s) = try WeightQuantization.multiplier(inScale * Double(weightScales[c]) / Double(outQ.scale), node: op, what: "channel \(c)")
            multipliers.append(m)
            shifts.append(s)
        }
        let (lo, hi) = try activationRange(activation, output: outQ, op: op)
        return RequantizationConstants(multipliers: multipliers, shifts: shifts, clampMin: lo, clampMax: hi)
    }
}
