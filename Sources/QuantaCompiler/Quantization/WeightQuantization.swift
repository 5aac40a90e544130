import QuantaKernels

/// Int8 weights with one scale per output channel (zero point 0).
public struct QuantizedWeights: Equatable {
    /// Same layout as the float weights; every value in -127...127.
    public var values: [Int8]
    /// `scales[c]` for output channel `c`: `max |w_c| / 127` (1 for an all-zero channel).
    public var scales: [Float]
}

/// Quantization of the constants of convolutions and fully connected layers: weights,
/// bias and the requantization of the int32 accumulator, in the TFLite int8 scheme.
public enum WeightQuantization {
    /// Symmetric int8 quantization of `weights`, laid out as `channels` equal contiguous
    /// blocks (OHWI filters, `[output][input]` fully connected weights):
    ///
    ///     scale[c] = max_{i in c} |w_i| / 127      (per tensor: the max over all channels)
    ///     q_i = clamp(round(w_i / scale[c]), -127, 127)    // Quantizer.quantize: half away from zero
    ///
    /// so `|q_i * scale[c] - w_i| <= scale[c] / 2` (up to Float rounding of the division).
    /// An all-zero channel (or tensor) gets scale 1.
    ///
    /// With `pairBound`, each pair `(w[2i], w[2i+1])` of a channel's block (adjacent input
    /// channels of a 1×1 filter) is kept to `|q0| + |q1| ≤ 128`, the bound of the uint8 ×
    /// int8 GEMM (`PointwiseU8GEMM`): the scale is `max(max |w| / 127, max_pairs (|w0| +
    /// |w1|) / 128)`, and a pair that rounding leaves at 129 has the weight rounded farther
    /// from its value moved one step toward zero (`boundPairs`; that weight's error is then
    /// below `scale[c]`).
    public static func quantize(_ weights: [Float], channels: Int, perTensor: Bool, pairBound: Bool = false) -> QuantizedWeights {
        precondition(channels > 0 && weights.count % channels == 0, "weights do not split into \(channels) channels")
        let perChannel = weights.count / channels
        var maxima = [Float](repeating: 0, count: channels)
        for c in 0..<channels {
            for i in c * perChannel..<(c + 1) * perChannel { maxima[c] = max(maxima[c], abs(weights[i])) }
            if pairBound {
                // A pair's sum at 128 levels is as wide as a single weight's maximum at 127.
                var i = c * perChannel
                while i + 1 < (c + 1) * perChannel {
                    maxima[c] = max(maxima[c], (abs(weights[i]) + abs(weights[i + 1])) * 127 / 128)
                    i += 2
                }
            }
        }
        if perTensor {
            let m = maxima.max() ?? 0
            maxima = [Float](repeating: m, count: channels)
        }
        let scales = maxima.map { $0 > 0 ? $0 / 127 : 1 }
        var values = [Int8](repeating: 0, count: weights.count)
        for c in 0..<channels {
            let q = QuantizationParameters(scale: scales[c], zeroPoint: 0)
            for i in c * perChannel..<(c + 1) * perChannel {
                values[i] = max(Quantizer.quantize(weights[i], q), -127)
            }
        }
        var result = QuantizedWeights(values: values, scales: scales)
        if pairBound { boundPairs(&result, weights, channels: channels) }
        return result
    }

    /// Moves one weight of every pair with `|q0| + |q1| > 128` one step toward zero: the one
    /// whose rounding moved it farther from `w / scale` (the first on a tie), until the pair
    /// fits. Pairs as in `quantize(_:channels:perTensor:pairBound:)`.
    static func boundPairs(_ w: inout QuantizedWeights, _ weights: [Float], channels: Int) {
        let perChannel = weights.count / channels
        for c in 0..<channels {
            var i = c * perChannel
            while i + 1 < (c + 1) * perChannel {
                while !PointwiseU8GEMM.pairFits(w.values[i], w.values[i + 1]) {
                    func excess(_ j: Int) -> Float { Float(w.values[j].magnitude) - abs(weights[j] / w.scales[c]) }
                    let j = excess(i + 1) > excess(i) ? i + 1 : i
                    w.values[j] -= w.values[j].signum()
                }
                i += 2
            }
        }
    }

    /// Largest |int32 bias| the runtime accepts for an accumulator of `terms` int8 products:
    /// `Int32.max - terms * 255 * 128` (the load-time bound `terms·255·128 + max|bias| ≤
    /// Int32.max`, so that the kernels' accumulation cannot overflow). Negative when even a
    /// zero bias does not fit.
    public static func biasLimit(accumulatorTerms terms: Int) -> Double {
        Double(Int32.max) - Double(terms) * 255 * 128
    }

    /// Weights and bias together, as TFLite's quantizer does (`AdjustWeightsForBiasScale`):
    /// the weights as `quantize(_:channels:perTensor:pairBound:)`, then every channel whose bias would
    /// exceed `biasLimit(accumulatorTerms:)` at scale `inputScale * scale[c]` gets the wider
    /// weight scale `|bias[c]| / (inputScale * limit)` (rounded up to the next Float until the
    /// bias fits), and its weights are re-quantized with it — so `|q_i * scale[c] - w_i| <=
    /// scale[c] / 2` still holds, with fewer than 127 levels used. Per tensor, the one scale
    /// is widened for every channel. Happens for channels whose weights are nearly dead
    /// (1e-7) but whose bias is not; the extra weight error is at most `scale[c] / 2` per
    /// weight, relative to a bias that then needs all of int32.
    ///
    /// `QuantizationError.biasOverflow` only when no scale works: the limit is not positive
    /// (`terms` too large), or `inputScale` or a bias value makes the scale non-finite.
    public static func quantize(
        weights: [Float], bias: [Float], channels: Int, perTensor: Bool, inputScale: Float,
        accumulatorTerms: Int, node: String, pairBound: Bool = false
    ) throws -> (weights: QuantizedWeights, bias: [Int32]) {
        var w = quantize(weights, channels: channels, perTensor: perTensor, pairBound: pairBound)
        guard !bias.isEmpty else { return (w, []) }
        precondition(bias.count == channels, "one bias per output channel")
        let limit = biasLimit(accumulatorTerms: accumulatorTerms)
        func needed(_ c: Int) -> Float? {
            let units = abs(Double(bias[c])) / (Double(inputScale) * Double(w.scales[c]))
            guard units.isFinite else { return nil }
            return units.rounded(.toNearestOrAwayFromZero) <= limit ? w.scales[c] : Float(abs(Double(bias[c])) / (Double(inputScale) * limit))
        }
        var widened = [Float](w.scales)
        for c in 0..<channels {
            guard limit >= 1, var s = needed(c), s.isFinite, s > 0 else {
                let value = Double(bias[c]) / (Double(inputScale) * Double(w.scales[c]))
                throw QuantizationError.biasOverflow(node: node, channel: c, value: value)
            }
            // Float rounding of the division may leave the bias a step over the limit.
            while (abs(Double(bias[c])) / (Double(inputScale) * Double(s))).rounded(.toNearestOrAwayFromZero) > limit {
                s = s.nextUp
            }
            widened[c] = s
        }
        if perTensor, let m = widened.max() { widened = [Float](repeating: m, count: channels) }
        let perChannel = weights.count / channels
        for c in 0..<channels where widened[c] != w.scales[c] {
            w.scales[c] = widened[c]
            let q = QuantizationParameters(scale: widened[c], zeroPoint: 0)
            for i in c * perChannel..<(c + 1) * perChannel { w.values[i] = max(Quantizer.quantize(weights[i], q), -127) }
        }
        if pairBound { boundPairs(&w, weights, channels: channels) }
        return (w, try quantizeBias(bias, inputScale: inputScale, weightScales: w.scales, node: node))
    }

    /// `bias[c] / (inputScale * weightScales[c])` rounded half away from zero (in Double),
    /// the int32 bias at scale `inputScale * weightScales[c]`, zero point 0. A value beyond
    /// Int32 is `QuantizationError.biasOverflow` rather than a silent saturation.
    public static func quantizeBias(_ bias: [Float], inputScale: Float, weightScales: [Float], node: String) throws -> [Int32] {
        precondition(bias.count == weightScales.count, "one bias per output channel")
        var result = [Int32](repeating: 0, count: bias.count)
        for c in 0..<bias.count {
            let value = (Double(bias[c]) / (Double(inputScale) * Double(weightScales[c]))).rounded(.toNearestOrAwayFromZero)
            guard value.isFinite, value >= Double(Int32.min), value <= Double(Int32.max) else {
                throw QuantizationError.biasOverflow(node: node, channel: c, value: value)
            }
            result[c] = Int32(value)
        }
        return result
    }

    /// The accumulator's requantization: per channel `quantizeMultiplier(inputScale *
    /// weightScales[c] / output.scale)` (in Double), with `shortMultipliers` then
    /// `ShortMultiplier.shortened`, and the fused clamp on the quantized output (`clampRange`).
    public static func requantization(
        inputScale: Float, weightScales: [Float], output: QuantizationParameters, clamp: FloatClamp, node: String,
        shortMultipliers: Bool = false
    ) throws -> RequantizationConstants {
        var multipliers: [Int32] = [], shifts: [Int32] = []
        multipliers.reserveCapacity(weightScales.count)
        shifts.reserveCapacity(weightScales.count)
        for s in weightScales {
            let real = Double(inputScale) * Double(s) / Double(output.scale)
            var (m, e) = try multiplier(real, node: node, what: "output")
            if shortMultipliers { (m, e) = ShortMultiplier.shortened(multiplier: m, shift: e) }
            multipliers.append(m)
            shifts.append(e)
        }
        let (lo, hi) = clampRange(clamp, output)
        return RequantizationConstants(multipliers: multipliers, shifts: shifts, clampMin: lo, clampMax: hi)
    }

    /// A fused float clamp as quantized bounds: `quantize(clamp.min)...quantize(clamp.max)`
    /// with the output parameters (saturating, so an unbounded side gives -128 or 127).
    /// ReLU gives `zeroPoint...127`, ReLU6 `zeroPoint...quantize(6)`.
    public static func clampRange(_ clamp: FloatClamp, _ output: QuantizationParameters) -> (min: Int32, max: Int32) {
        let lo = Int32(Quantizer.quantize(clamp.min, output))
        let hi = Int32(Quantizer.quantize(clamp.max, output))
        return (lo, max(lo, hi))
    }

    /// `FixedPoint.quantizeMultiplier(real)`, checked to be usable by
    /// `multiplyByQuantizedMultiplier` (shift in -31...31, real finite and non-negative).
    public static func multiplier(_ real: Double, node: String, what: String) throws -> (multiplier: Int32, shift: Int32) {
        guard real.isFinite, real >= 0 else { throw QuantizationError.multiplierOutOfRange(node: node, what: what, value: real) }
        let (m, e) = FixedPoint.quantizeMultiplier(real)
        guard e >= -31 && e <= 31 else { throw QuantizationError.multiplierOutOfRange(node: node, what: what, value: real) }
        return (m, e)
    }
}
