import Foundation
import QuantaKernels

/// Constants of the int8 ops that are not convolutions: add, mul, global average pool,
/// lookup tables and softmax.
public enum ElementwiseQuantization {
    /// TFLite's int8 add constants (`AddQuantization`), in Double as TFLite computes them:
    ///
    ///     leftShift = 20
    ///     twiceMax = 2 * max(s1, s2)
    ///     (m1, sh1) = quantizeMultiplier(s1 / twiceMax)
    ///     (m2, sh2) = quantizeMultiplier(s2 / twiceMax)
    ///     (mOut, shOut) = quantizeMultiplier(twiceMax / (2^20 * sOut))
    ///
    /// All three real multipliers must be below one (shifts in -31...0).
    public static func add(
        _ a: QuantizationParameters, _ b: QuantizationParameters, output: QuantizationParameters, clamp: FloatClamp, node: String,
        shortMultipliers: Bool = false
    ) throws -> AddQuantization {
        let leftShift: Int32 = 20
        let twiceMax = 2 * max(Double(a.scale), Double(b.scale))
        var (m1, s1) = try belowOne(Double(a.scale) / twiceMax, node: node, what: "add input 1")
        var (m2, s2) = try belowOne(Double(b.scale) / twiceMax, node: node, what: "add input 2")
        var (mo, so) = try belowOne(twiceMax / (Double(1 << leftShift) * Double(output.scale)), node: node, what: "add output")
        if shortMultipliers {
            // docs/NUMERICS.md: the 32-bit forms of the input scaling and the output stage.
            (m1, s1) = ShortMultiplier.shortenedAddInput(multiplier: m1, shift: s1)
            (m2, s2) = ShortMultiplier.shortenedAddInput(multiplier: m2, shift: s2)
            (mo, so) = ShortMultiplier.shortened(multiplier: mo, shift: so)
        }
        let (lo, hi) = WeightQuantization.clampRange(clamp, output)
        return AddQuantization(
            input1ZeroPoint: a.zeroPoint, input2ZeroPoint: b.zeroPoint, outputZeroPoint: output.zeroPoint,
            leftShift: leftShift, input1Multiplier: m1, input1Shift: s1, input2Multiplier: m2, input2Shift: s2,
            outputMultiplier: mo, outputShift: so, clampMin: lo, clampMax: hi)
    }

    /// TFLite's int8 mul constants: `quantizeMultiplier(s1 * s2 / sOut)` (in Double).
    public static func mul(
        _ a: QuantizationParameters, _ b: QuantizationParameters, output: QuantizationParameters, clamp: FloatClamp, node: String
    ) throws -> MulQuantization {
        let real = Double(a.scale) * Double(b.scale) / Double(output.scale)
        let (m, s) = try WeightQuantization.multiplier(real, node: node, what: "mul")
        let (lo, hi) = WeightQuantization.clampRange(clamp, output)
        return MulQuantization(
            input1ZeroPoint: a.zeroPoint, input2ZeroPoint: b.zeroPoint, outputZeroPoint: output.zeroPoint,
            multiplier: m, shift: s, clampMin: lo, clampMax: hi)
    }

    /// The multiplier of `Int8Reference.globalAveragePool`: `quantizeMultiplier(inScale / outScale)`;
    /// the kernel divides the scaled sum of `(x - zpIn)` by `H*W` itself (rounded), as
    /// TFLite's int8 Mean does.
    public static func globalAveragePool(
        input: QuantizationParameters, output: QuantizationParameters, node: String
    ) throws -> (multiplier: Int32, shift: Int32) {
        try WeightQuantization.multiplier(Double(input.scale) / Double(output.scale), node: node, what: "global average pool")
    }

    /// The 256-entry table of a unary activation: entry `q + 128` is
    /// `quantize(f(dequantize(q, input)), output)` for every int8 `q` (round half away
    /// from zero, saturating). For `out = table[in + 128]`.
    public static func lookupTable(
        _ activation: UnaryActivation, input: QuantizationParameters, output: QuantizationParameters
    ) -> [Int8] {
        (-128...127).map { q in
            Quantizer.quantize(activation.apply(Quantizer.dequantize(Int8(q), input)), output)
        }
    }

    /// The exponential table of `Int8Reference.softmax`:
    /// `table[d] = round(exp(-d * inputScale) * 65536)` for `d` in 0...255 (Q16, half away
    /// from zero, in Double); `table[0] = 65536`.
    public static func softmaxTable(inputScale: Float) -> [Int32] {
        (0..<256).map { d in
            Int32((Foundation.exp(-Double(d) * Double(inputScale)) * 65536).rounded(.toNearestOrAwayFromZero))
        }
    }

    /// The fixed output quantization of int8 softmax: scale 1/256, zero point -128.
    public static let softmaxOutput = QuantizationParameters(scale: 1.0 / 256, zeroPoint: -128)

    private static func belowOne(_ real: Double, node: String, what: String) throws -> (Int32, Int32) {
        guard real < 1 else { throw QuantizationError.multiplierOutOfRange(node: node, what: what, value: real) }
        return try WeightQuantization.multiplier(real, node: node, what: what)
    }
}
