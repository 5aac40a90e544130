#if !hasFeature(Embedded)  // host-side: see FloatReference.swift
extension FloatReference {
    /// 2-D convolution, NHWC input and output, OHWI filter, with groups.
    ///
    /// For output element (b, oy, ox, oc), with `g = oc / (filter.outputChannels / groups)`
    /// and `cpg = filter.inputChannelsPerGroup`:
    ///
    ///     out = clamp(bias[oc] + Σ_{ky,kx,i} in[b, iy, ix, g*cpg + i] * w[oc, ky, kx, i])
    ///     iy = oy*strideH - padding.top  + ky*dilationH
    ///     ix = ox*strideW - padding.left + kx*dilationW
    ///
    /// Taps with `iy`/`ix` outside the input read zero (explicit, possibly asymmetric padding).
    /// `groups == 1` is a standard convolution, `groups == inputShape.c` depthwise with depth
    /// multiplier `filter.outputChannels / inputShape.c` (output channel `oc` reads input
    /// channel `oc / multiplier`), anything in between grouped. A kernel as large as the
    /// input with no padding is global depthwise (one output pixel).
    ///
    /// - Precondition: `filter.inputChannelsPerGroup * groups == inputShape.c`,
    ///   `filter.outputChannels` a multiple of `groups`,
    ///   `outputShape == parameters.outputShape(input: inputShape, filter: filter)`;
    ///   `bias` (when given) has `filter.outputChannels` entries; output does not alias
    ///   input, weights or bias.
    public static func conv2D(
        input: UnsafePointer<Float>, inputShape: TensorShape,
        weights: UnsafePointer<Float>, filter: FilterShape, bias: UnsafePointer<Float>?,
        output: UnsafeMutablePointer<Float>, outputShape: TensorShape,
        parameters: Conv2DParameters, clamp: FloatClamp
    ) {
        let groups = parameters.groups
        precondition(groups >= 1, "conv2D: groups must be at least 1")
        precondition(filter.inputChannelsPerGroup * groups == inputShape.c,
                     "conv2D: filter input channels per group times groups must equal input channels")
        precondition(filter.outputChannels % groups == 0, "conv2D: output channels must be a multiple of groups")
        precondition(outputShape == parameters.outputShape(input: inputShape, filter: filter),
                     "conv2D: output shape does not match input, filter and parameters")
        let outputsPerGroup = filter.outputChannels / groups
        let cpg = filter.inputChannelsPerGroup
        for b in 0..<outputShape.n {
            for oy in 0..<outputShape.h {
                for ox in 0..<outputShape.w {
                    for oc in 0..<outputShape.c {
                        let g = oc / outputsPerGroup
                        var acc: Float = bias?[oc] ?? 0
                        for ky in 0..<filter.kernelH {
                            let iy = oy * parameters.strideH - parameters.padding.top + ky * parameters.dilationH
                            if iy < 0 || iy >= inputShape.h { continue }
                            for kx in 0..<filter.kernelW {
                                let ix = ox * parameters.strideW - parameters.padding.left + kx * parameters.dilationW
                                if ix < 0 || ix >= inputShape.w { continue }
                                let inBase = inputShape.index(b, iy, ix, g * cpg)
                                let wBase = filter.index(oc, ky, kx, 0)
                                for i in 0..<cpg {
                                    acc += input[inBase + i] * weights[wBase + i]
                                }
                            }
                        }
                        output[outputShape.index(b, oy, ox, oc)] = clamp.apply(acc)
                    }
                }
            }
        }
    }
}
#endif
