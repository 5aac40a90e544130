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
    public static func quantize(_ weights: [Float], channels: Int, perTensor: Bool) -> QuantizedWeights {
        precondition(channels > 0 && weights.count % channels == 0, "weights do not split into \(channels) channels")
        let perChannel = weights.count / channels
        var maxima = [Float](repeating: 0, count: channels)
        for c in 0..<channels {
            for i in c * perChannel..<(c + 1) * perChannel { maxima[c] = max(maxima[c], abs(weights[i])) }
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
        return QuantizedWeights(values: values, scales: scales)
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
    /// weightScales[c] / output.scale)` (in Double), and the fused clamp on the quantized
    /// output (`clampRange`).
    public static func requantization(
        inputScale: Float, weightScales: [Float], output: QuantizationParameters, clamp: FloatClamp, node: String
    ) throws -> RequantizationConstants {
        var multipliers: [Int32] = [], shifts: [Int32] = []
        multipliers.reserveCapacity(weightScales.count)
        shifts.reserveCapacity(weightScales.count)
        for s in weightScales {
            let real = Double(inputScale) * Double(s) / Double(output.scale)
            let (m, e) = try multiplier(real, node: node, what: "output")
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
