#if arch(arm64) || arch(arm)
import CQuantaKernels

// The NEON depthwise 3×3 row kernel (Sources/CQuantaKernels/dwconv-3x3-neon.c): 16
// channels × one output row, `smull`/`smlal` pairs of taps widened by `saddw`, edge
// columns through tap pointers that read the zero point outside the input.

extension DepthwiseConv {
    /// One output row (`y0`: its window's top input row, may be outside the input) of a
    /// depthwise 3×3, multiplier 1, dilation 1, stride `strideW` ≤ 2 across, for the 16
    /// channels of `input` (the image at channel `firstChannel`) into `output` (the row at
    /// channel `firstChannel`, pixels `outputStep` apart). `folded` is the bias minus
    /// `inputZeroPoint · Σ w` per channel. Same bits as `Int8Reference.conv2D`.
    /// - Precondition: weights in -127...127; 16 channels from `firstChannel` exist.
    @inline(__always) @usableFromInline
    static func neonRow3x3(
        input: UnsafePointer<Int8>, inputShape: TensorShape, inputZeroPoint: Int32, y0: Int,
        strideW: Int, padLeft: Int, outputWidth: Int, output: UnsafeMutablePointer<Int8>, outputStep: Int,
        weights: UnsafePointer<Int8>, weightStride: Int, folded: SIMD16<Int32>,
        requantization r: Requantization, firstChannel: Int
    ) {
        var bias = folded
        var q = quanta_requantization(
            multipliers: r.multipliers, shifts: r.shifts, channel_count: r.channelCount,
            zero_point: r.outputZeroPoint, clamp_min: r.clampMin, clamp_max: r.clampMax)
        withUnsafePointer(to: &bias) { b in
            withUnsafePointer(to: &q) { qp in
                var d = quanta_dwconv3x3(
                    input: input, input_h: inputShape.h, input_w: inputShape.w, channels: inputShape.c, y0: y0,
                    stride_w: strideW, pad_left: padLeft, output_w: outputWidth, output: output, output_step: outputStep,
                    weights: weights, weight_stride: weightStride,
                    folded: UnsafeRawPointer(b).assumingMemoryBound(to: Int32.self),
                    requantization: qp, first_channel: firstChannel,
                    input_zero_point: Int8(truncatingIfNeeded: inputZeroPoint))
                quanta_dwconv3x3_row16(&d)
            }
        }
    }
}
#endif
