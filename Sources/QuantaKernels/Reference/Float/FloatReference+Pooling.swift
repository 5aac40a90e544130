#if !hasFeature(Embedded)  // host-side: see FloatReference.swift
extension FloatReference {
    /// Average pooling, NHWC. Each output is the mean of the window's taps that fall
    /// inside the input; padded positions are excluded from both sum and count
    /// (ONNX `count_include_pad = 0`, TFLite). Then the clamp is applied.
    ///
    ///     iy = oy*strideH - padding.top + ky,  ix = ox*strideW - padding.left + kx
    ///
    /// - Precondition: `outputShape == parameters.outputShape(input: inputShape)`, and every
    ///   window overlaps the input (padding smaller than the kernel). Output does not alias input.
    public static func averagePool(
        input: UnsafePointer<Float>, inputShape: TensorShape,
        output: UnsafeMutablePointer<Float>, outputShape: TensorShape,
        parameters: PoolParameters, clamp: FloatClamp
    ) {
        precondition(outputShape == parameters.outputShape(input: inputShape),
                     "averagePool: output shape does not match input and parameters")
        for b in 0..<outputShape.n {
            for oy in 0..<outputShape.h {
                for ox in 0..<outputShape.w {
                    for ch in 0..<outputShape.c {
                        var sum: Float = 0
                        var count = 0
                        for ky in 0..<parameters.kernelH {
                            let iy = oy * parameters.strideH - parameters.padding.top + ky
                            if iy < 0 || iy >= inputShape.h { continue }
                            for kx in 0..<parameters.kernelW {
                                let ix = ox * parameters.strideW - parameters.padding.left + kx
                                if ix < 0 || ix >= inputShape.w { continue }
                                sum += input[inputShape.index(b, iy, ix, ch)]
                                count += 1
                            }
                        }
                        precondition(count > 0, "averagePool: a window lies entirely in the padding")
                        output[outputShape.index(b, oy, ox, ch)] = clamp.apply(sum / Float(count))
                    }
                }
            }
        }
    }

    /// Max pooling, NHWC: each output is the maximum of the window's taps inside the
    /// input (padding never wins), then the clamp is applied.
    ///
    /// - Precondition: as `averagePool`.
    public static func maxPool(
        input: UnsafePointer<Float>, inputShape: TensorShape,
        output: UnsafeMutablePointer<Float>, outputShape: TensorShape,
        parameters: PoolParameters, clamp: FloatClamp
    ) {
        precondition(outputShape == parameters.outputShape(input: inputShape),
                     "maxPool: output shape does not match input and parameters")
        for b in 0..<outputShape.n {
            for oy in 0..<outputShape.h {
                for ox in 0..<outputShape.w {
                    for ch in 0..<outputShape.c {
                        var best = -Float.infinity
                        var count = 0
                        for ky in 0..<parameters.kernelH {
                            let iy = oy * parameters.strideH - parameters.padding.top + ky
                            if iy < 0 || iy >= inputShape.h { continue }
                            for kx in 0..<parameters.kernelW {
                                let ix = ox * parameters.strideW - parameters.padding.left + kx
                                if ix < 0 || ix >= inputShape.w { continue }
                                best = max(best, input[inputShape.index(b, iy, ix, ch)])
                                count += 1
                            }
                        }
                        precondition(count > 0, "maxPool: a window lies entirely in the padding")
                        output[outputShape.index(b, oy, ox, ch)] = clamp.apply(best)
                    }
                }
            }
        }
    }

    /// Global average pooling: `out[b, 0, 0, c] = mean over (y, x) of in[b, y, x, c]`.
    /// The output is `inputShape.n × 1 × 1 × inputShape.c`.
    /// - Precondition: `inputShape.h * inputShape.w > 0`; output does not alias input.
    public static func globalAveragePool(
        input: UnsafePointer<Float>, inputShape: TensorShape, output: UnsafeMutablePointer<Float>
    ) {
        let pixels = inputShape.h * inputShape.w
        precondition(pixels > 0, "globalAveragePool: empty input")
        for b in 0..<inputShape.n {
            for ch in 0..<inputShape.c {
                var sum: Float = 0
                for p in 0..<pixels {
                    sum += input[(b * pixels + p) * inputShape.c + ch]
                }
                output[b * inputShape.c + ch] = sum / Float(pixels)
            }
        }
    }
}
#endif
