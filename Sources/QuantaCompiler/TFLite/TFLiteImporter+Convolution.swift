import QuantaKernels

/// CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: int8 weights (zero point 0, one scale
/// or one per output channel), int32 bias, TFLite's per-channel multipliers
/// `QuantizeMultiplier(double(inScale) · double(weightScale[c]) / double(outScale))`.
extension TFLiteConversion {
    /// Options field ids (schema.fbs).
    enum ConvField { static let padding = 0, strideW = 1, strideH = 2, activation = 3, dilationW = 4, dilationH = 5 }
    enum DepthwiseField { static let padding = 0, strideW = 1, strideH = 2, multiplier = 3, activation = 4, dilationW = 5, dilationH = 6 }
    enum FullyConnectedField { static let activation = 0, weightsFormat = 1, keepNumDims = 2 }

    mutating func convolution(_ op: TFLiteOperator, name: String) throws {
        let options = try self.options(op, type: 1, name: name)
        let input = try self.input(op, 0, name: name)
        let inShape = model.tensors[input].shape
        let (filterTensor, filterBytes) = try constant(op.inputs.count > 1 ? op.inputs[1] : nil, type: .int8, op: name, what: "filter")
        let fs = filterTensor.shape
        guard fs.count == 4, fs[3] >= 1, inShape.c % fs[3] == 0 else {
            throw TFLiteImportError.invalidModel(op: name, detail: "filter shape \(fs) for \(inShape.c) input channels (expected [O, KH, KW, I] with I dividing the channels)")
        }
        let groups = inShape.c / fs[3]
        guard fs[0] % groups == 0 else {
            throw TFLiteImportError.invalidModel(op: name, detail: "\(fs[0]) output channels in \(groups) groups")
        }
        let filter = FilterShape(outputChannels: fs[0], kernelH: fs[1], kernelW: fs[2], inputChannelsPerGroup: fs[3])
        let stride = (h: Int(try options?.i32(ConvField.strideH) ?? 1), w: Int(try options?.i32(ConvField.strideW) ?? 1))
        let dilation = (h: Int(try options?.i32(ConvField.dilationH, default: 1) ?? 1), w: Int(try options?.i32(ConvField.dilationW, default: 1) ?? 1))
        let padCode = try options?.u8(ConvField.padding) ?? 0
        let ph = try padding(padCode, input: inShape.h, kernel: filter.kernelH, stride: stride.h, dilation: dilation.h, op: name)
        let pw = try padding(padCode, input: inShape.w, kernel: filter.kernelW, stride: stride.w, dilation: dilation.w, op: name)
        let parameters = Conv2DParameters(
            strideH: stride.h, strideW: stride.w, dilationH: dilation.h, dilationW: dilation.w,
            padding: Padding(top: ph.before, left: pw.before, bottom: ph.after, right: pw.after), groups: groups)
        let output = try self.output(op, name: name)
        try expect(op.outputs[0], TensorShape(n: inShape.n, h: ph.size, w: pw.size, c: filter.outputChannels), op: name)
        try checkTerms(filter.kernelH * filter.kernelW * filter.inputChannelsPerGroup, op: name)
        let scales = try weightScales(filterTensor, channels: filter.outputChannels, dimension: 0, op: name)
        let weights = filterBytes.map { Int8(bitPattern: $0) }
        let bias = try self.bias(op, channels: filter.outputChannels, name: name)
        let requantization = try self.requantization(
            input: input, output: output, weightScales: scales, channels: filter.outputChannels,
            activation: try options?.i8(ConvField.activation) ?? 0, op: name)
        append(.conv2D(parameters: parameters, filter: filter, weights: weights, bias: bias, requantization: requantization),
               inputs: [input], output: output, name: name)
    }

    mutating func depthwise(_ op: TFLiteOperator, name: String) throws {
        let options = try self.options(op, type: 2, name: name)
        let input = try self.input(op, 0, name: name)
        let inShape = model.tensors[input].shape
        let (filterTensor, filterBytes) = try constant(op.inputs.count > 1 ? op.inputs[1] : nil, type: .int8, op: name, what: "filter")
        let fs = filterTensor.shape
        guard fs.count == 4, fs[0] == 1, fs[3] % inShape.c == 0 else {
            throw TFLiteImportError.invalidModel(op: name, detail: "filter shape \(fs) for \(inShape.c) input channels (expected [1, KH, KW, C·M])")
        }
        let multiplier = fs[3] / inShape.c
        if let declared = try options?.i32(DepthwiseField.multiplier), declared != 0, Int(declared) != multiplier {
            throw TFLiteImportError.invalidModel(op: name, detail: "depth multiplier \(declared), the filter has \(fs[3]) channels for \(inShape.c) inputs")
        }
        let channels = fs[3], kh = fs[1], kw = fs[2]
        let filter = FilterShape(outputChannels: channels, kernelH: kh, kernelW: kw, inputChannelsPerGroup: 1)
        let stride = (h: Int(try options?.i32(DepthwiseField.strideH) ?? 1), w: Int(try options?.i32(DepthwiseField.strideW) ?? 1))
        let dilation = (h: Int(try options?.i32(DepthwiseField.dilationH, default: 1) ?? 1), w: Int(try options?.i32(DepthwiseField.dilationW, default: 1) ?? 1))
        let padCode = try options?.u8(DepthwiseField.padding) ?? 0
        let ph = try padding(padCode, input: inShape.h, kernel: kh, stride: stride.h, dilation: dilation.h, op: name)
        let pw = try padding(padCode, input: inShape.w, kernel: kw, stride: stride.w, dilation: dilation.w, op: name)
        let parameters = Conv2DParameters(
            strideH: stride.h, strideW: stride.w, dilationH: dilation.h, dilationW: dilation.w,
            padding: Padding(top: ph.before, left: pw.before, bottom: ph.after, right: pw.after), groups: inShape.c)
        let output = try self.output(op, name: name)
        try expect(op.outputs[0], TensorShape(n: inShape.n, h: ph.size, w: pw.size, c: channels), op: name)
        try checkTerms(kh * kw, op: name)
        let scales = try weightScales(filterTensor, channels: channels, dimension: 3, op: name)
        // [1, KH, KW, O] → OHWI with I = 1.
        var weights = [Int8](repeating: 0, count: channels * kh * kw)
        for o in 0..<channels {
            for k in 0..<(kh * kw) {
                weights[o * kh * kw + k] = Int8(bitPattern: filterBytes[filterBytes.startIndex + k * channels + o])
            }
        }
        let bias = try self.bias(op, channels: channels, name: name)
        let requantization = try self.requantization(
            input: input, output: output, weightScales: scales, channels: channels,
            activation: try options?.i8(DepthwiseField.activation) ?? 0, op: name)
        append(.conv2D(parameters: parameters, filter: filter, weights: weights, bias: bias, requantization: requantization),
               inputs: [input], output: output, name: name)
    }

    mutating func fullyConnected(_ op: TFLiteOperator, name: String) throws {
        let options = try self.options(op, type: 8, name: name)
        guard try options?.u8(FullyConnectedField.weightsFormat) ?? 0 == 0 else {
            throw TFLiteImportError.unsupportedForm(op: name, detail: "shuffled weights format")
        }
        let input = try self.input(op, 0, name: name)
        let inShape = model.tensors[input].shape
        let (filterTensor, filterBytes) = try constant(op.inputs.count > 1 ? op.inputs[1] : nil, type: .int8, op: name, what: "weights")
        let fs = filterTensor.shape
        let perItem = inShape.h * inShape.w * inShape.c
        guard fs.count == 2, fs[1] == perItem else {
            throw TFLiteImportError.invalidModel(op: name, detail: "weights \(fs) for an input of \(perItem) values per batch item (expected [O, \(perItem)])")
        }
        let outputs = fs[0]
        let output = try self.output(op, name: name)
        try expect(op.outputs[0], TensorShape(n: inShape.n, h: 1, w: 1, c: outputs), op: name)
        try checkTerms(perItem, op: name)
        let scales = try weightScales(filterTensor, channels: outputs, dimension: 0, op: name)
        let bias = try self.bias(op, channels: outputs, name: name)
        var requantization = try self.requantization(
            input: input, output: output, weightScales: scales, channels: outputs,
            activation: try options?.i8(FullyConnectedField.activation) ?? 0, op: name)
        // LiteRT's reference FULLY_CONNECTED scales the accumulator in double.
        let inScale = Double(model.tensors[input].quantization.scale), outScale = Double(model.tensors[output].quantization.scale)
        requantization.doubleScales = scales.map { inScale * Double($0) / outScale }
        append(.fullyConnected(outputCount: outputs, inputCount: perItem, weights: filterBytes.map { Int8(bitPattern: $0) },
                               bias: bias, requantization: requantization),
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

    /// The int32 bias (input 2), zeros when omitted.
    func bias(_ op: TFLiteOperator, channels: Int, name: String) throws -> [Int32] {
        guard op.inputs.count > 2, let t = op.inputs[2] else { return [Int32](repeating: 0, count: channels) }
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
        return RequantizationConstants(multipliers: multipliers, shifts: shifts, clampMin: lo, clampMax: max(lo, hi))
    }

    /// The products one accumulator sums must fit the runtime's int32 bound.
    func checkTerms(_ terms: Int, op: String) throws {
        guard terms <= QuantizePipeline.maxAccumulatorTerms else {
            throw TFLiteImportError.unsupportedForm(
                op: op, detail: "\(terms) products per output, above the int32 accumulator's bound of \(QuantizePipeline.maxAccumulatorTerms)")
        }
    }
}
