#if !hasFeature(Embedded)  // host-side: see FloatReference.swift
extension FloatReference {
    /// Transposed 2-D convolution (the gradient of `conv2D` with respect to its input),
    /// groups == 1, NHWC, filter OHWI with O = output channels and I = input channels.
    ///
    /// Every input pixel scatters into the output:
    ///
    ///     out[b, oy, ox, oc] += in[b, iy, ix, ic] * w[oc, ky, kx, ic]
    ///     oy = iy*strideH - padding.top  + ky*dilationH
    ///     ox = ix*strideW - padding.left + kx*dilationW
    ///
    /// contributions landing outside the output are dropped; then bias is added and the
    /// clamp applied. Equivalent to inserting `stride - 1` zeros between input pixels and
    /// running a stride-1 convolution with the spatially flipped kernel. `outputShape.h`
    /// may exceed `transposedOutputSize` with zero output padding (ONNX `output_padding`):
    /// the extra rows/columns receive whatever taps reach them, else only the bias.
    ///
    /// - Precondition: `filter.inputChannelsPerGroup == inputShape.c`,
    ///   `filter.outputChannels == outputShape.c`, `outputShape.n == inputShape.n`;
    ///   output does not alias input, weights or bias.
    public static func transposeConv2D(
        input: UnsafePointer<Float>, inputShape: TensorShape,
        weights: UnsafePointer<Float>, filter: FilterShape, bias: UnsafePointer<Float>?,
        output: UnsafeMutablePointer<Float>, outputShape: TensorShape,
        strideH: Int, strideW: Int, dilationH: Int, dilationW: Int, padding: Padding,
        clamp: FloatClamp
    ) {
        precondition(filter.inputChannelsPerGroup == inputShape.c, "transposeConv2D: filter input channels must equal input channels")
        precondition(filter.outputChannels == outputShape.c, "transposeConv2D: filter output channels must equal output channels")
        precondition(outputShape.n == inputShape.n, "transposeConv2D: batch sizes differ")
        for i in 0..<outputShape.elementCount { output[i] = 0 }
        for b in 0..<inputShape.n {
            for iy in 0..<inputShape.h {
                for ix in 0..<inputShape.w {
                    for ky in 0..<filter.kernelH {
                        let oy = iy * strideH - padding.top + ky * dilationH
                        if oy < 0 || oy >= outputShape.h { continue }
                        for kx in 0..<filter.kernelW {
                            let ox = ix * strideW - padding.left + kx * dilationW
                            if ox < 0 || ox >= outputShape.w { continue }
                            for oc in 0..<outputShape.c {
                                var acc: Float = 0
                                let inBase = inputShape.index(b, iy, ix, 0)
                                let wBase = filter.index(oc, ky, kx, 0)
                                for ic in 0..<inputShape.c {
                                    acc += input[inBase + ic] * weights[wBase + ic]
                                }
                                output[outputShape.index(b, oy, ox, oc)] += acc
                            }
                        }
                    }
                }
            }
        }
        for i in 0..<outputShape.elementCount {
            let oc = i % outputShape.c
            output[i] = clamp.apply(output[i] + (bias?[oc] ?? 0))
        }
    }
}
#endif
