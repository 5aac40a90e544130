extension DepthwiseConv {
    /// Depthwise 3×3, stride 1 or 2 (each axis), dilation 1, any padding and depth
    /// multiplier: the loop nest of `run` with the kernel size and strides constant, so the
    /// nine taps are unrolled and the window offsets folded.
    ///
    /// Reference: `Int8Reference.conv2D` with `groups == inputShape.c`; same results bit
    /// for bit. Packed weights as `DepthwiseConv.pack`.
    ///
    /// - Precondition: `filter` is 3×3, strides in 1...2, dilations 1; otherwise as `run`.
    public static func run3x3(
        input: UnsafePointer<Int8>, inputShape: TensorShape, inputZeroPoint: Int32,
        packed: UnsafeRawPointer, filter: FilterShape,
        output: UnsafeMutablePointer<Int8>, outputShape: TensorShape,
        parameters: Conv2DParameters, requantization: Requantization
    ) {
        checkShapes(inputShape: inputShape, inputZeroPoint: inputZeroPoint, filter: filter, outputShape: outputShape, parameters: parameters, requantization: requantization)
        precondition(filter.kernelH == 3 && filter.kernelW == 3 && parameters.dilationH == 1 && parameters.dilationW == 1
            && (1...2).contains(parameters.strideH) && (1...2).contains(parameters.strideW), "DepthwiseConv.run3x3: not 3×3 stride 1/2")
        #if arch(x86_64) && QUANTA_AVX2
        if parameters.strideH == parameters.strideW && filter.outputChannels == inputShape.c && inputShape.c >= 16
            && DepthwiseAVX2.run(
                input: input, inputShape: inputShape, inputZeroPoint: inputZeroPoint, packed: packed,
                output: output, outputShape: outputShape, requantization: requantization,
                stride: parameters.strideH, padTop: parameters.padding.top, padLeft: parameters.padding.left) {
            return
        }
        #endif
        #if arch(arm64) || arch(arm)
        if filter.outputChannels == inputShape.c && inputShape.c >= 16 {
            runNEON3x3(input: input, inputShape: inputShape, inputZeroPoint: inputZeroPoint, packed: packed,
                       output: output, outputShape: outputShape, parameters: parameters, requantization: requantization)
            return
        }
        // The rest (fewer than 16 channels, a depth multiplier): the general kernel, not a
        // second inlined copy of its loop nest (15 KB of armv7 runtime code).
        run(input: input, inputShape: inputShape, inputZeroPoint: inputZeroPoint, packed: packed, filter: filter,
            output: output, outputShape: outputShape, parameters: parameters, requantization: requantization)
        #else
        if parameters.strideH == 1 && parameters.strideW == 1 {
            rows(input: input, inputShape: inputShape, inputZeroPoint: inputZeroPoint, packed: packed,
                 output: output, outputShape: outputShape, requantization: requantization,
                 kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1,
                 padTop: parameters.padding.top, padLeft: parameters.padding.left)
        } else if parameters.strideH == 2 && parameters.strideW == 2 {
            rows(input: input, inputShape: inputShape, inputZeroPoint: inputZeroPoint, packed: packed,
                 output: output, outputShape: outputShape, requantization: requantization,
                 kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, dilationH: 1, dilationW: 1,
                 padTop: parameters.padding.top, padLeft: parameters.padding.left)
        } else {
            rows(input: input, inputShape: inputShape, inputZeroPoint: inputZeroPoint, packed: packed,
                 output: output, outputShape: outputShape, requantization: requantization,
                 kernelH: 3, kernelW: 3, strideH: parameters.strideH, strideW: parameters.strideW,
                 dilationH: 1, dilationW: 1,
                 padTop: parameters.padding.top, padLeft: parameters.padding.left)
        }
        #endif
    }
}
