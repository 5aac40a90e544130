extension Int8Reference {
    /// Int8 average pooling (TFLite's `reference_integer_ops::AveragePool`); input and
    /// output share scale and zero point. Padded positions are excluded from the sum and
    /// the count:
    ///
    ///     sum = Σ in over the window ∩ input;  count = |window ∩ input|
    ///     avg = sum > 0 ? (sum + count/2) / count : (sum - count/2) / count   // truncating division
    ///     out = clamp(avg, clampMin, clampMax)
    ///
    /// i.e. the mean of the raw int8 values rounded half away from zero.
    ///
    /// - Precondition: `outputShape == parameters.outputShape(input: inputShape)`, every
    ///   window overlaps the input (padding smaller than the kernel), strides positive,
    ///   `-128 <= clampMin <= clampMax <= 127`. No overlap between input and output.
    public static func averagePool(
        input: UnsafePointer<Int8>, inputShape: TensorShape, output: UnsafeMutablePointer<Int8>,
        outputShape: TensorShape, parameters: PoolParameters, clampMin: Int32, clampMax: Int32
    ) {
        precondition(parameters.strideH >= 1 && parameters.strideW >= 1, "averagePool: stride must be positive")
        precondition(outputShape == parameters.outputShape(input: inputShape), "averagePool: output shape mismatch")
        for b in 0..<outputShape.n {
            for oy in 0..<outputShape.h {
                let window = PoolWindow(origin: oy * parameters.strideH - parameters.padding.top, kernel: parameters.kernelH, size: inputShape.h)
                for ox in 0..<outputShape.w {
                    let windowX = PoolWindow(origin: ox * parameters.strideW - parameters.padding.left, kernel: parameters.kernelW, size: inputShape.w)
                    let count = Int32((window.end - window.start) * (windowX.end - windowX.start))
                    precondition(count > 0, "averagePool: a window lies entirely in the padding")
                    for c in 0..<outputShape.c {
                        var sum: Int32 = 0
                        for iy in window.start..<window.end {
                            for ix in windowX.start..<windowX.end {
                                sum += Int32(input[inputShape.index(b, iy, ix, c)])
                            }
                        }
                        let average = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count
                        output[outputShape.index(b, oy, ox, c)] = clampToInt8(Int64(average), clampMin, clampMax)
                    }
                }
            }
        }
    }

    /// Int8 max pooling (TFLite's `reference_integer_ops::MaxPool`): the maximum over the
    /// window ∩ input (padding never wins), clamped to `clampMin...clampMax`. Input and
    /// output share quantization.
    ///
    /// - Precondition: as `averagePool`.
    public static func maxPool(
        input: UnsafePointer<Int8>, inputShape: TensorShape, output: UnsafeMutablePointer<Int8>,
        outputShape: TensorShape, parameters: PoolParameters, clampMin: Int32, clampMax: Int32
    ) {
        precondition(parameters.strideH >= 1 && parameters.strideW >= 1, "maxPool: stride must be positive")
        precondition(outputShape == parameters.outputShape(input: inputShape), "maxPool: output shape mismatch")
        for b in 0..<outputShape.n {
            for oy in 0..<outputShape.h {
                let window = PoolWindow(origin: oy * parameters.strideH - parameters.padding.top, kernel: parameters.kernelH, size: inputShape.h)
                for ox in 0..<outputShape.w {
                    let windowX = PoolWindow(origin: ox * parameters.strideW - parameters.padding.left, kernel: parameters.kernelW, size: inputShape.w)
                    precondition(window.end > window.start && windowX.end > windowX.start, "maxPool: a window lies entirely in the padding")
                    for c in 0..<outputShape.c {
                        var maximum = Int8.min
                        for iy in window.start..<window.end {
                            for ix in windowX.start..<windowX.end {
                                maximum = max(maximum, input[inputShape.index(b, iy, ix, c)])
                            }
                        }
                        output[outputShape.index(b, oy, ox, c)] = clampToInt8(Int64(maximum), clampMin, clampMax)
                    }
                }
            }
        }
    }

    /// Int8 global average pooling, TFLite's int8 `Mean` over H and W
    /// (`reference_integer_ops::Mean`). `multiplier`/`shift` are
    /// `quantizeMultiplier(inputScale / outputScale)` — the division by the count is a
    /// separate rounded integer division, as in TFLite:
    ///
    ///     acc = MBQM(Σ_{y,x} (in[b,y,x,c] - inputZeroPoint), multiplier, shift)
    ///     avg = acc > 0 ? (acc + count/2) / count : (acc - count/2) / count   // count = H*W
    ///     out[b,0,0,c] = clamp(avg + outputZeroPoint, -128, 127)
    ///
    /// - Precondition: `inputShape.h * inputShape.w > 0`; output holds `n * c` elements
    ///   (shape `n×1×1×c`); `H*W*255 < 2^31`. No overlap.
    public static func globalAveragePool(
        input: UnsafePointer<Int8>, inputShape: TensorShape, inputZeroPoint: Int32,
        output: UnsafeMutablePointer<Int8>, outputZeroPoint: Int32, multiplier: Int32, shift: Int32
    ) {
        let count = Int32(inputShape.h * inputShape.w)
        precondition(count > 0, "globalAveragePool: empty input")
        for b in 0..<inputShape.n {
            for c in 0..<inputShape.c {
                var sum: Int32 = 0
                for y in 0..<inputShape.h {
                    for x in 0..<inputShape.w {
                        sum += Int32(input[inputShape.index(b, y, x, c)]) - inputZeroPoint
                    }
                }
                output[b * inputShape.c + c] = globalAverage(
                    sum: sum, count: count, outputZeroPoint: outputZeroPoint, multiplier: multiplier, shift: shift)
            }
        }
    }

    /// The output of `globalAveragePool` for one channel whose `Σ (in - inputZeroPoint)`
    /// over `count` pixels is `sum`: the rescale, the rounded division and the clamp.
    @inlinable
    public static func globalAverage(sum: Int32, count: Int32, outputZeroPoint: Int32, multiplier: Int32, shift: Int32) -> Int8 {
        let scaled = FixedPoint.multiplyByQuantizedMultiplier(sum, multiplier, shift)
        // In 64 bits: a saturated `scaled` plus count/2 cannot overflow.
        let wide = Int64(scaled)
        let wideCount = Int64(count)
        let average = wide > 0 ? (wide + wideCount / 2) / wideCount : (wide - wideCount / 2) / wideCount
        return clampToInt8(average + Int64(outputZeroPoint), -128, 127)
    }
}

/// The part of a pooling window `origin ..< origin + kernel` that lies inside `0 ..< size`.
@usableFromInline
struct PoolWindow {
    @usableFromInline let start: Int
    @usableFromInline let end: Int

    @inlinable
    init(origin: Int, kernel: Int, size: Int) {
        start = max(origin, 0)
        end = max(min(origin + kernel, size), start)
    }
}
