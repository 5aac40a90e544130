/// The single entry point of the optimized int8 convolutions: the interpreter calls `run`
/// with the variant stored in the model; the compiler calls `packWeights` once per layer.
public enum OptimizedConv2D {
    /// Runs `variant` (chosen by `KernelVariant.choose` for these shapes and zero point).
    ///
    /// Arguments as `Int8Reference.conv2D`, plus `packedWeights` (`packWeights` for this
    /// variant, shapes, bias and input zero point; nil for `.reference`) and `scratch`
    /// (`variant.scratchBytes(...)` bytes, any alignment; nil when that is 0). The GEMM and
    /// depthwise variants take weights and bias from `packedWeights` only.
    ///
    /// Output equals `Int8Reference.conv2D(...)` bit for bit.
    public static func run(
        variant: KernelVariant,
        input: UnsafePointer<Int8>, inputShape: TensorShape, inputZeroPoint: Int32,
        weights: UnsafePointer<Int8>, filter: FilterShape, bias: UnsafePointer<Int32>?,
        output: UnsafeMutablePointer<Int8>, outputShape: TensorShape,
        parameters: Conv2DParameters, requantization: Requantization,
        packedWeights: UnsafeRawPointer?, scratch: UnsafeMutableRawPointer?
    ) {
        switch variant {
        case .reference, .doubleScaled, .floatTable, .logFloatTable:
            Int8Reference.conv2D(
                input: input, inputShape: inputShape, inputZeroPoint: inputZeroPoint, weights: weights,
                filter: filter, bias: bias, output: output, outputShape: outputShape,
                parameters: parameters, requantization: requantization)
        case .pointwise, .grouped:
            guard let packed = packedWeights, let scratch else { preconditionFailure("OptimizedConv2D: GEMM variant without packed weights or scratch") }
            GroupedConv.run(
                input: input, inputShape: inputShape, inputZeroPoint: inputZeroPoint, packed: packed,
                filter: filter, output: output, outputShape: outputShape, parameters: parameters,
                requantization: requantization, scratch: scratch)
        case .directGEMM:
            guard let packed = packedWeights else { preconditionFailure("OptimizedConv2D: GEMM variant without packed weights") }
            GroupedConv.runDirect(
                input: input, inputShape: inputShape, inputZeroPoint: inputZeroPoint, packed: packed,
                filter: filter, output: output, outputShape: outputShape, parameters: parameters,
                requantization: requantization)
        case .pointwiseU8:
            guard let packed = packedWeights, let scratch else { preconditionFailure("OptimizedConv2D: GEMM variant without packed weights or scratch") }
            PointwiseU8GEMM.run(
                input: input, inputShape: inputShape, inputZeroPoint: inputZeroPoint, packed: packed,
                filter: filter, output: output, outputShape: outputShape, parameters: parameters,
                requantization: requantization, scratch: scratch)
        case .im2col:
            guard let packed = packedWeights, let scratch else { preconditionFailure("OptimizedConv2D: im2col without packed weights or scratch") }
            Im2col.run(
                input: input, inputShape: inputShape, inputZeroPoint: inputZeroPoint, packed: packed,
                filter: filter, output: output, outputShape: outputShape, parameters: parameters,
                requantization: requantization, scratch: scratch)
        case .im2colDirect:
            guard let packed = packedWeights else { preconditionFailure("OptimizedConv2D: im2col without packed weights") }
            Im2col.runDirect(
                input: input, inputShape: inputShape, inputZeroPoint: inputZeroPoint, packed: packed,
                filter: filter, output: output, outputShape: outputShape, parameters: parameters,
                requantization: requantization)
        case .depthwise:
            guard let packed = packedWeights else { preconditionFailure("OptimizedConv2D: depthwise without packed weights") }
            DepthwiseConv.run(
                input: input, inputShape: inputShape, inputZeroPoint: inputZeroPoint, packed: packed,
                filter: filter, output: output, outputShape: outputShape, parameters: parameters,
                requantization: requantization)
        case .elementwise:
            preconditionFailure("OptimizedConv2D: .elementwise is not a convolution variant")
        case .depthwise3x3:
            guard let packed = packedWeights else { preconditionFailure("OptimizedConv2D: depthwise without packed weights") }
            DepthwiseConv.run3x3(
                input: input, inputShape: inputShape, inputZeroPoint: inputZeroPoint, packed: packed,
                filter: filter, output: output, outputShape: outputShape, parameters: parameters,
                requantization: requantization)
        }
    }

    /// Writes `variant`'s packed weights (`packedWeightsByteCount` bytes) to `destination`.
    /// The GEMM variants fold `bias - inputZeroPoint * Σ weights` per output channel into
    /// the block; the depthwise variants copy the bias. `bias == nil` is zero bias.
    @_optimize(size)  // load-time / quantization-time code: flash over speed
    public static func packWeights(
        variant: KernelVariant, weights: UnsafePointer<Int8>, filter: FilterShape, bias: UnsafePointer<Int32>?,
        inputShape: TensorShape, inputZeroPoint: Int32, parameters: Conv2DParameters,
        into destination: UnsafeMutableRawPointer
    ) {
        switch variant {
        case .reference, .elementwise, .doubleScaled, .floatTable, .logFloatTable: return
        case .pointwise, .grouped, .im2col, .directGEMM, .im2colDirect:
            Im2col.pack(weights: weights, filter: filter, groups: parameters.groups, bias: bias,
                        inputZeroPoint: inputZeroPoint, into: destination)
        case .pointwiseU8:
            PointwiseU8GEMM.pack(weights: weights, weightRowStride: filter.inputChannelsPerGroup, depth: filter.inputChannelsPerGroup,
                                 columns: filter.outputChannels, bias: bias, inputZeroPoint: inputZeroPoint, into: destination)
        case .depthwise, .depthwise3x3:
            DepthwiseConv.pack(weights: weights, filter: filter, channels: inputShape.c, bias: bias, into: destination)
        }
    }

    /// `packWeights` into a new array (quantization time; allocates).
    @_optimize(size)  // load-time / quantization-time code: flash over speed
    public static func packWeights(
        variant: KernelVariant, weights: [Int8], filter: FilterShape, bias: [Int32]?,
        inputShape: TensorShape, inputZeroPoint: Int32, parameters: Conv2DParameters
    ) -> [Int8] {
        precondition(weights.count == filter.elementCount, "packWeights: weight count")
        precondition(bias == nil || bias!.count == filter.outputChannels, "packWeights: bias count")
        let count = variant.packedWeightsByteCount(inputShape: inputShape, filter: filter, parameters: parameters)
        var result = [Int8](repeating: 0, count: count)
        if count == 0 { return result }
        result.withUnsafeMutableBytes { dst in
            weights.withUnsafeBufferPointer { w in
                if let bias {
                    bias.withUnsafeBufferPointer { b in
                        packWeights(variant: variant, weights: w.baseAddress!, filter: filter, bias: b.baseAddress,
                                    inputShape: inputShape, inputZeroPoint: inputZeroPoint, parameters: parameters,
                                    into: dst.baseAddress!)
                    }
                } else {
                    packWeights(variant: variant, weights: w.baseAddress!, filter: filter, bias: nil,
                                inputShape: inputShape, inputZeroPoint: inputZeroPoint, parameters: parameters,
                                into: dst.baseAddress!)
                }
            }
        }
        return result
    }
}
