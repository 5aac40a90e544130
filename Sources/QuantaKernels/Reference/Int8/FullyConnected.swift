#if arch(arm64) || arch(arm)
import CQuantaKernels
#endif

extension Int8Reference {
    /// Int8 fully connected layer (TFLite's `reference_integer_ops::FullyConnected`, with
    /// per-output requantization allowed). Weights `[outputCount][inputCount]`, symmetric
    /// (zero point 0).
    ///
    ///     acc[b,o] = bias[o] + Σ_i w[o,i] * (in[b,i] - inputZeroPoint)
    ///     out[b,o] = clamp(outputZeroPoint + MBQM(acc, multiplier[o], shift[o]), clampMin, clampMax)
    ///
    /// - Precondition: input holds `batches * inputCount`, output `batches * outputCount`
    ///   elements; `requantization.channelCount` is 1 or `outputCount`; accumulators fit in
    ///   Int32 (`|bias| + inputCount * 255 * 127 < 2^31`). No overlap.
    @_optimize(size)  // the writer runs fully connected layers on the GEMM; this is the fallback
    public static func fullyConnected(
        input: UnsafePointer<Int8>, inputZeroPoint: Int32, weights: UnsafePointer<Int8>,
        bias: UnsafePointer<Int32>?, output: UnsafeMutablePointer<Int8>,
        batches: Int, inputCount: Int, outputCount: Int, requantization: Requantization
    ) {
        precondition(batches >= 0 && inputCount >= 0 && outputCount >= 0, "fullyConnected: negative size")
        precondition(requantization.channelCount == 1 || requantization.channelCount == outputCount, "fullyConnected: requantization channel count")
        for b in 0..<batches {
            let row = input + b * inputCount
            for o in 0..<outputCount {
                let acc = (bias?[o] ?? 0) &+ dot(weights + o * inputCount, row, inputCount, inputZeroPoint)
                output[b * outputCount + o] = requantize(acc, channel: o, requantization)
            }
        }
    }
}

extension Int8Reference {
    /// Int8 fully connected layer requantized in double, as LiteRT's reference
    /// `FullyConnectedPerChannel` / `FullyConnected` with scales do:
    ///
    ///     acc[b,o] = bias[o] + Σ_i w[o,i] * (in[b,i] - inputZeroPoint)
    ///     out[b,o] = clamp(outputZeroPoint + round(Double(acc) * scale[o]), clampMin, clampMax)
    ///
    /// with `round` half away from zero (`roundHalfAwayFromZero`). `scales` points at
    /// `outputCount` little-endian IEEE doubles (any alignment).
    ///
    /// - Precondition: as `fullyConnected`; the scales are finite.
    @_optimize(size)
    public static func fullyConnectedScaled(
        input: UnsafePointer<Int8>, inputZeroPoint: Int32, weights: UnsafePointer<Int8>,
        bias: UnsafePointer<Int32>?, scales: UnsafeRawPointer, outputZeroPoint: Int32, clampMin: Int32, clampMax: Int32,
        output: UnsafeMutablePointer<Int8>, batches: Int, inputCount: Int, outputCount: Int
    ) {
        for b in 0..<batches {
            let row = input + b * inputCount
            for o in 0..<outputCount {
                let acc = (bias?[o] ?? 0) &+ dot(weights + o * inputCount, row, inputCount, inputZeroPoint)
                let scale = Double(bitPattern: UInt64(littleEndian: scales.loadUnaligned(fromByteOffset: 8 * o, as: UInt64.self)))
                let v = Int64(roundHalfAwayFromZero(Double(acc) * scale)) + Int64(outputZeroPoint)
                output[b * outputCount + o] = Int8(truncatingIfNeeded: max(Int64(clampMin), min(Int64(clampMax), v)))
            }
        }
    }

    /// `Σ_i w[i] · (x[i] − zeroPoint)` over `count` values: one fully connected output
    /// before bias (the validated accumulator bound keeps it in Int32, so the lane order of
    /// the sum does not matter). Shared by both fully connected kernels: on ARM the NEON
    /// loop `quanta_dot_s8` (16 values per step), elsewhere 8 products per step in explicit
    /// SIMD lanes (compact code).
    @inline(never)
    @_optimize(size)
    @usableFromInline
    static func dot(_ w: UnsafePointer<Int8>, _ x: UnsafePointer<Int8>, _ count: Int, _ zeroPoint: Int32) -> Int32 {
        #if arch(arm64) || arch(arm)
        return quanta_dot_s8(w, x, count, zeroPoint)
        #else
        var lanes = SIMD8<Int32>(repeating: 0)
        let zero = SIMD8<Int32>(repeating: zeroPoint)
        var i = 0
        while i + 8 <= count {
            let a = SIMD8<Int32>(truncatingIfNeeded: UnsafeRawPointer(w + i).loadUnaligned(as: SIMD8<Int8>.self))
            let b = SIMD8<Int32>(truncatingIfNeeded: UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Int8>.self))
            lanes &+= a &* (b &- zero)
            i += 8
        }
        var acc = lanes.wrappedSum()
        while i < count {
            acc &+= Int32(w[i]) &* (Int32(x[i]) &- zeroPoint)
            i += 1
        }
        return acc
        #endif
    }

    /// `x` rounded to the nearest integer, halves away from zero (C's `round`), saturated
    /// to Int32 (NaN gives Int32.min). Exact for every double, without libm: the integer
    /// part by truncation and the fraction `x − trunc(x)`, both exact.
    @inlinable
    public static func roundHalfAwayFromZero(_ x: Double) -> Int32 {
        guard x > -2147483648.5 else { return Int32.min }
        guard x < 2147483647.5 else { return Int32.max }
        let t = Int64(x)
        let fraction = x - Double(t)
        if fraction >= 0.5 { return Int32(t + 1) }
        if fraction <= -0.5 { return Int32(t - 1) }
        return Int32(t)
    }
}
