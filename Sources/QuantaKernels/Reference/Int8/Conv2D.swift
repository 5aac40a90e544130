/// The int8 reference kernels: plain loops in the TFLite int8 scheme, bit for bit equal to
/// TFLite's `reference_integer_ops` for the same constants. Optimized kernels are tested
/// bit-exact against these.
public enum Int8Reference {}

extension Int8Reference {
    /// Int8 convolution with groups (standard, grouped, depthwise with a depth multiplier),
    /// stride, dilation and explicit asymmetric padding. TFLite's `ConvPerChannel` /
    /// `DepthwiseConvPerChannel` generalized to groups.
    ///
    /// With `G = parameters.groups`, `Ci = filter.inputChannelsPerGroup`,
    /// `Co = filter.outputChannels / G`, output channel `o` belongs to group `g = o / Co`
    /// and reads input channels `g*Ci ..< (g+1)*Ci`. Depthwise is `G == inputShape.c`,
    /// `Ci == 1`, and output channel `o = c * multiplier + m` reads input channel `c`
    /// (TFLite's depthwise channel order).
    ///
    ///     acc[o] = bias[o] + Σ_{ky,kx,i} w[o,ky,kx,i] * (in[y*sh - pt + ky*dh, x*sw - pl + kx*dw, g*Ci + i] - inputZeroPoint)
    ///     out[o] = clamp(outputZeroPoint + MBQM(acc[o], multiplier[o], shift[o]), clampMin, clampMax)
    ///
    /// Positions in the padding are skipped, i.e. they hold the input zero point and
    /// contribute nothing (as TFLite). `bias == nil` means zero bias.
    ///
    /// - Precondition: `inputShape.c == G * Ci`, `filter.outputChannels` is a multiple of
    ///   `G`, `outputShape == parameters.outputShape(input:filter:)`, strides and dilations
    ///   positive; `requantization.channelCount` is 1 or `filter.outputChannels`. The
    ///   accumulator must fit in Int32 (`|bias| + K * 255 * 127 < 2^31` with
    ///   `K = kernelH * kernelW * Ci`), otherwise the checked arithmetic traps; the model
    ///   loader validates this. `output` does not overlap `input`.
    public static func conv2D(
        input: UnsafePointer<Int8>, inputShape: TensorShape, inputZeroPoint: Int32,
        weights: UnsafePointer<Int8>, filter: FilterShape, bias: UnsafePointer<Int32>?,
        output: UnsafeMutablePointer<Int8>, outputShape: TensorShape,
        parameters: Conv2DParameters, requantization: Requantization
    ) {
        let groups = parameters.groups
        precondition(groups >= 1 && filter.outputChannels % groups == 0, "conv2D: output channels not a multiple of groups")
        precondition(inputShape.c == groups * filter.inputChannelsPerGroup, "conv2D: input channels != groups * filter input channels")
        precondition(parameters.strideH >= 1 && parameters.strideW >= 1 && parameters.dilationH >= 1 && parameters.dilationW >= 1, "conv2D: stride and dilation must be positive")
        precondition(outputShape == parameters.outputShape(input: inputShape, filter: filter), "conv2D: output shape mismatch")
        precondition(requantization.channelCount == 1 || requantization.channelCount == filter.outputChannels, "conv2D: requantization channel count")

        let inputPerGroup = filter.inputChannelsPerGroup
        let outputPerGroup = filter.outputChannels / groups
        for b in 0..<outputShape.n {
            for oy in 0..<outputShape.h {
                let originY = oy * parameters.strideH - parameters.padding.top
                for ox in 0..<outputShape.w {
                    let originX = ox * parameters.strideW - parameters.padding.left
                    for o in 0..<filter.outputChannels {
                        let firstInputChannel = (o / outputPerGroup) * inputPerGroup
                        var acc: Int32 = bias?[o] ?? 0
                        for ky in 0..<filter.kernelH {
                            let iy = originY + ky * parameters.dilationH
                            if iy < 0 || iy >= inputShape.h { continue }
                            for kx in 0..<filter.kernelW {
                                let ix = originX + kx * parameters.dilationW
                                if ix < 0 || ix >= inputShape.w { continue }
                                let inBase = inputShape.index(b, iy, ix, firstInputChannel)
                                let wBase = filter.index(o, ky, kx, 0)
                                for i in 0..<inputPerGroup {
                                    acc += Int32(weights[wBase + i]) * (Int32(input[inBase + i]) - inputZeroPoint)
                                }
                            }
                        }
                        output[outputShape.index(b, oy, ox, o)] = requantize(acc, channel: o, requantization)
                    }
                }
            }
        }
    }

    /// `clamp(outputZeroPoint + MBQM(acc, multiplier[channel], shift[channel]), clampMin, clampMax)`,
    /// the output stage shared by convolution, transposed convolution and fully connected.
    @inlinable
    public static func requantize(_ acc: Int32, channel: Int, _ r: Requantization) -> Int8 {
        let scaled = FixedPoint.multiplyByQuantizedMultiplier(acc, r.multiplier(channel), r.shift(channel))
        return clampToInt8(Int64(scaled) + Int64(r.outputZeroPoint), r.clampMin, r.clampMax)
    }

    /// `min(max(x, lo), hi)` as Int8, for `-128 <= lo <= hi <= 127`. Taking the sum in 64
    /// bits means a saturated `MBQM` result plus a zero point clamps instead of
    /// overflowing (where TFLite's int32 add would be undefined).
    @inlinable
    static func clampToInt8(_ x: Int64, _ lo: Int32, _ hi: Int32) -> Int8 {
        Int8(clamping: min(max(x, Int64(lo)), Int64(hi)))
    }
}
