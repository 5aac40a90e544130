extension Int8Reference {
    /// Int8 transposed convolution (groups 1), gather formulation: every output element
    /// sums the inputs that the scatter formulation (TFLite's `TransposeConv`) would add
    /// into it, so the int32 sums and therefore the outputs are identical, with no scratch
    /// buffer.
    ///
    /// Filter OHWI with `O = outputShape.c` and `I = inputShape.c`. Input `(iy, ix)` and
    /// tap `(ky, kx)` land on output `(iy*sh - pt + ky*dh, ix*sw - pl + kx*dw)`, so
    ///
    ///     acc[oy,ox,o] = bias[o] + Σ w[o,ky,kx,i] * (in[iy,ix,i] - inputZeroPoint)
    ///                    over ky, kx, i with iy = (oy + pt - ky*dh) / sh, ix = (ox + pl - kx*dw) / sw
    ///                    exact divisions, inside the input
    ///     out = clamp(outputZeroPoint + MBQM(acc, multiplier[o], shift[o]), clampMin, clampMax)
    ///
    /// `padding.bottom`/`padding.right` only shape the output; the output may be larger
    /// than `transposedOutputSize` by an output padding in `0 ..< max(stride, dilation)`
    /// (ONNX `output_padding`), those rows/columns get only what lands on them.
    ///
    /// - Precondition: `inputShape.c == filter.inputChannelsPerGroup`,
    ///   `outputShape.c == filter.outputChannels`, equal batch, positive strides/dilations,
    ///   output size as above; accumulators fit in Int32 (see `conv2D`). No overlap.
    public static func transposeConv2D(
        input: UnsafePointer<Int8>, inputShape: TensorShape, inputZeroPoint: Int32,
        weights: UnsafePointer<Int8>, filter: FilterShape, bias: UnsafePointer<Int32>?,
        output: UnsafeMutablePointer<Int8>, outputShape: TensorShape,
        strideH: Int, strideW: Int, dilationH: Int, dilationW: Int, padding: Padding,
        requantization: Requantization
    ) {
        precondition(strideH >= 1 && strideW >= 1 && dilationH >= 1 && dilationW >= 1, "transposeConv2D: stride and dilation must be positive")
        precondition(inputShape.c == filter.inputChannelsPerGroup && outputShape.c == filter.outputChannels && inputShape.n == outputShape.n, "transposeConv2D: channel or batch mismatch")
        let baseH = Conv2DParameters.transposedOutputSize(
            input: inputShape.h, kernel: filter.kernelH, stride: strideH, dilation: dilationH,
            padBefore: padding.top, padAfter: padding.bottom)
        let baseW = Conv2DParameters.transposedOutputSize(
            input: inputShape.w, kernel: filter.kernelW, stride: strideW, dilation: dilationW,
            padBefore: padding.left, padAfter: padding.right)
        precondition(outputShape.h >= baseH && outputShape.h - baseH < max(strideH, dilationH), "transposeConv2D: output height mismatch")
        precondition(outputShape.w >= baseW && outputShape.w - baseW < max(strideW, dilationW), "transposeConv2D: output width mismatch")
        precondition(requantization.channelCount == 1 || requantization.channelCount == filter.outputChannels, "transposeConv2D: requantization channel count")

        let channels = inputShape.c
        for b in 0..<outputShape.n {
            for oy in 0..<outputShape.h {
                for ox in 0..<outputShape.w {
                    for o in 0..<outputShape.c {
                        var acc: Int32 = bias?[o] ?? 0
                        for ky in 0..<filter.kernelH {
                            let ty = oy + padding.top - ky * dilationH
                            if ty < 0 || ty % strideH != 0 { continue }
                            let iy = ty / strideH
                            if iy >= inputShape.h { continue }
                            for kx in 0..<filter.kernelW {
                                let tx = ox + padding.left - kx * dilationW
                                if tx < 0 || tx % strideW != 0 { continue }
                                let ix = tx / strideW
                                if ix >= inputShape.w { continue }
                                let inBase = inputShape.index(b, iy, ix, 0)
                                let wBase = filter.index(o, ky, kx, 0)
                                for i in 0..<channels {
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
}
