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
                let w = weights + o * inputCount
                var acc: Int32 = bias?[o] ?? 0
                for i in 0..<inputCount {
                    acc += Int32(w[i]) * (Int32(row[i]) - inputZeroPoint)
                }
                output[b * outputCount + o] = requantize(acc, channel: o, requantization)
            }
        }
    }
}
