#if !hasFeature(Embedded)  // host-side: see FloatReference.swift
extension FloatReference {
    /// Softmax over the last axis of a `rows × channels` matrix, numerically stable:
    /// `out[r][c] = exp(x[r][c] - m) / Σ_k exp(x[r][k] - m)` with `m = max_k x[r][k]`, so no
    /// exponent exceeds 0 and the sum is at least 1. Each row sums to 1 up to rounding.
    /// - Precondition: `channels > 0`. The output may alias the input (in place).
    public static func softmax(
        input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, rows: Int, channels: Int
    ) {
        precondition(channels > 0, "softmax: no channels")
        for r in 0..<rows {
            let base = r * channels
            var m = input[base]
            for c in 1..<channels { m = max(m, input[base + c]) }
            var sum: Float = 0
            for c in 0..<channels {
                let e = FloatMath.exp(input[base + c] - m)
                output[base + c] = e
                sum += e
            }
            for c in 0..<channels { output[base + c] /= sum }
        }
    }

    /// Log-softmax over the last axis: `out[r][c] = x[r][c] - m - log Σ_k exp(x[r][k] - m)`.
    /// - Precondition: `channels > 0`. The output may alias the input.
    public static func logSoftmax(
        input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, rows: Int, channels: Int
    ) {
        precondition(channels > 0, "logSoftmax: no channels")
        for r in 0..<rows {
            let base = r * channels
            var m = input[base]
            for c in 1..<channels { m = max(m, input[base + c]) }
            var sum: Float = 0
            for c in 0..<channels { sum += FloatMath.exp(input[base + c] - m) }
            let logSum = FloatMath.log(sum)
            for c in 0..<channels { output[base + c] = input[base + c] - m - logSum }
        }
    }
}
#endif
