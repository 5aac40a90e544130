/// Conversion between float and int8 in the affine scheme `real = scale * (q - zeroPoint)`,
/// as TFLite's `AffineQuantize` / `Dequantize` and `ChooseQuantizationParams` do it.
public enum Quantizer {
    /// `clamp(round(x / scale) + zeroPoint, -128, 127)`, with `round` to nearest, ties away
    /// from zero (TFLite's `TfLiteRound`), and the division in `Float` as in TFLite.
    ///
    /// Saturates: values beyond the int8 range (infinities included) give -128 or 127.
    /// NaN gives the zero point (clamped to int8).
    ///
    /// - Precondition: `q.scale > 0`.
    @inlinable
    public static func quantize(_ x: Float, _ q: QuantizationParameters) -> Int8 {
        let scaled = (x / q.scale).rounded(.toNearestOrAwayFromZero)
        if scaled.isNaN { return Int8(clamping: q.zeroPoint) }
        // `scaled` is integral; clamping before the conversion keeps it exact and in range.
        // For |scaled| < 2^24 adding the zero point is exact; beyond that the value
        // saturates either way.
        let shifted = scaled + Float(q.zeroPoint)
        if shifted <= -128 { return -128 }
        if shifted >= 127 { return 127 }
        return Int8(shifted)
    }

    /// `scale * (q - zeroPoint)`, computed as one correctly rounded `Float` product (the
    /// same value TFLite's double product gives after its cast to float, since
    /// `q - zeroPoint` has at most 9 significant bits).
    @inlinable
    public static func dequantize(_ q: Int8, _ p: QuantizationParameters) -> Float {
        p.scale * Float(Int32(q) - p.zeroPoint)
    }

    /// Asymmetric int8 parameters for the float range `min...max` (TFLite's
    /// `ChooseQuantizationParams` with qmin = -128, qmax = 127):
    ///
    ///     lo = min(min, 0);  hi = max(max, 0)                  // the range always holds 0
    ///     scale = (hi - lo) / 255                              // in Double, stored as Float
    ///     zp = the candidate -128 - lo/scale or 127 - hi/scale with the smaller error,
    ///          rounded half away from zero and clamped to -128...127
    ///
    /// so 0 is exactly representable (it is the integer `zeroPoint`). For an all-zero range
    /// (`lo == hi == 0`) the result is scale 1, zero point 0 (TFLite would give scale 0,
    /// which no kernel can use; ONNX Runtime's quantizer also uses 1).
    ///
    /// - Precondition: `min` and `max` are finite and `min <= max`.
    public static func chooseParameters(min: Float, max: Float) -> QuantizationParameters {
        precondition(min.isFinite && max.isFinite && min <= max, "chooseParameters: invalid range")
        let lo = Double(Swift.min(min, 0))
        let hi = Double(Swift.max(max, 0))
        if lo == hi { return QuantizationParameters(scale: 1, zeroPoint: 0) }
        let qmin = -128.0
        let qmax = 127.0
        var scale = (hi - lo) / (qmax - qmin)
        // A range so narrow that its scale underflows Float still needs a positive scale.
        if Float(scale) == 0 { scale = Double(Float.leastNonzeroMagnitude) }
        let zeroPointFromMin = qmin - lo / scale
        let zeroPointFromMax = qmax - hi / scale
        let errorFromMin = abs(qmin) + abs(lo / scale)
        let errorFromMax = abs(qmax) + abs(hi / scale)
        let zeroPointReal = errorFromMin < errorFromMax ? zeroPointFromMin : zeroPointFromMax
        let zeroPoint: Int32
        if zeroPointReal < qmin {
            zeroPoint = -128
        } else if zeroPointReal > qmax {
            zeroPoint = 127
        } else {
            zeroPoint = Int32(zeroPointReal.rounded(.toNearestOrAwayFromZero))
        }
        return QuantizationParameters(scale: Float(scale), zeroPoint: zeroPoint)
    }
}
