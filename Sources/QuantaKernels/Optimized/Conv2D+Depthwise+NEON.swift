#if arch(arm64) || arch(arm)
import CQuantaKernels

// The NEON depthwise kernels (Sources/CQuantaKernels/dwconv-3x3-neon.c and, for other
// kernel sizes, dwconv-neon.c): 16 channels × one output row at a time, `smull`/`smlal`
// pairs of taps widened by `saddw`, edge columns through tap pointers that read the zero
// point outside the input.

extension DepthwiseConv {
    /// `run3x3` on the NEON kernel: the same bits as `Int8Reference.conv2D`.
    /// - Precondition: as `run3x3`; depth multiplier 1, at least 16 channels, weights in
    ///   -127...127 (the writer keeps the reference kernel otherwise).
    @usableFromInline
    static func runNEON3x3(
        input: UnsafePointer<Int8>, inputShape: TensorShape, inputZeroPoint: Int32, packed: UnsafeRawPointer,
        output: UnsafeMutablePointer<Int8>, outputShape: TensorShape, parameters: Conv2DParameters,
        requantization r: Requantization
    ) {
        precondition(outputShape.c == inputShape.c && inputShape.c >= 16, "DepthwiseConv.runNEON3x3: multiplier 1, 16 channels or more")
        withNEONOperands(input: input, inputShape: inputShape, inputZeroPoint: inputZeroPoint, packed: packed, output: output,
                         outputShape: outputShape, parameters: parameters, requantization: r) { d in
            var d = d
            quanta_dwconv3x3_run(&d)
        }
    }

    /// The NEON kernels' operands (`quanta_dwconv3x3`, also the base of `quanta_dwconv`) for
    /// the duration of `body`.
    @inline(__always)
    static func withNEONOperands(
        input: UnsafePointer<Int8>, inputShape: TensorShape, inputZeroPoint: Int32, packed: UnsafeRawPointer,
        output: UnsafeMutablePointer<Int8>, outputShape: TensorShape, parameters: Conv2DParameters,
        requantization r: Requantization, _ body: (quanta_dwconv3x3) -> Void
    ) {
        let cPad = paddedChannels(inputShape.c)
        var q = quanta_requantization(
            multipliers: r.multipliers, shifts: r.shifts, channel_count: r.channelCount,
            zero_point: r.outputZeroPoint, clamp_min: r.clampMin, clamp_max: r.clampMax)
        withUnsafePointer(to: &q) { qp in
            body(quanta_dwconv3x3(
                input: input, batches: inputShape.n, input_h: inputShape.h, input_w: inputShape.w, channels: inputShape.c,
                output: output, output_h: outputShape.h, output_w: outputShape.w, output_step: outputShape.c,
                stride_h: parameters.strideH, stride_w: parameters.strideW,
                pad_top: parameters.padding.top, pad_left: parameters.padding.left,
                weights: (packed + 4 * cPad).assumingMemoryBound(to: Int8.self), weight_stride: cPad,
                bias: packed.assumingMemoryBound(to: Int32.self), requantization: qp,
                input_zero_point: Int8(truncatingIfNeeded: inputZeroPoint)))
        }
    }

    /// Whether `runNEON` takes the layer: depth multiplier 1, at least 16 channels, at most
    /// 64 taps.
    @usableFromInline
    static func neonApplies(inputShape: TensorShape, filter: FilterShape) -> Bool {
        filter.outputChannels == inputShape.c && inputShape.c >= 16 && filter.kernelH * filter.kernelW <= 64
    }

    /// `run` on the NEON kernel of any kernel size (dwconv-neon.c): the same bits as
    /// `Int8Reference.conv2D`.
    /// - Precondition: as `run`; `neonApplies`; weights in -127...127 (the writer keeps the
    ///   reference kernel otherwise).
    @usableFromInline
    static func runNEON(
        input: UnsafePointer<Int8>, inputShape: TensorShape, inputZeroPoint: Int32, packed: UnsafeRawPointer, filter: FilterShape,
        output: UnsafeMutablePointer<Int8>, outputShape: TensorShape, parameters: Conv2DParameters,
        requantization r: Requantization
    ) {
        precondition(neonApplies(inputShape: inputShape, filter: filter), "DepthwiseConv.runNEON: multiplier 1, 16 channels or more, 64 taps at most")
        withNEONOperands(input: input, inputShape: inputShape, inputZeroPoint: inputZeroPoint, packed: packed, output: output,
                         outputShape: outputShape, parameters: parameters, requantization: r) { base in
            var d = quanta_dwconv(base: base, kernel_h: filter.kernelH, kernel_w: filter.kernelW, dilation_h: parameters.dilationH,
                                  dilation_w: parameters.dilationW)
            quanta_dwconv_run(&d)
        }
    }
}
#endif
