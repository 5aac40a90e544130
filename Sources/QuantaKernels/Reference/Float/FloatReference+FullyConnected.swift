#if !hasFeature(Embedded)  // host-side: see FloatReference.swift
extension FloatReference {
    /// Fully connected layer: `out[b][o] = clamp(bias[o] + Σ_i in[b][i] * w[o][i])`.
    ///
    /// `input` is `batches × inputCount`, `weights` `outputCount × inputCount` (row per
    /// output), `output` `batches × outputCount`.
    /// - Precondition: output does not alias input, weights or bias.
    public static func fullyConnected(
        input: UnsafePointer<Float>, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        output: UnsafeMutablePointer<Float>, batches: Int, inputCount: Int, outputCount: Int,
        clamp: FloatClamp
    ) {
        for b in 0..<batches {
            for o in 0..<outputCount {
                var acc: Float = bias?[o] ?? 0
                for i in 0..<inputCount {
                    acc += input[b * inputCount + i] * weights[o * inputCount + i]
                }
                output[b * outputCount + o] = clamp.apply(acc)
            }
        }
    }
}
#endif
