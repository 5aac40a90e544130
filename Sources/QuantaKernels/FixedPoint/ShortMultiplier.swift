/// TFLite's output stage in 32-bit arithmetic, for multipliers with few significant bits.
///
/// When a channel's Q31 multiplier `M` and shift `s` satisfy `applies` — `-21 ≤ s ≤ 0` and
/// `M` divisible by `2^(9 + e)` with `e = -s` — the requantized output
///
///     clamp(zp + multiplyByQuantizedMultiplier(x, M, s), lo, hi)     (lo, hi, zp in int8)
///
/// equals `clamp(zp + rounded(x, M, s), lo, hi)` for **every** Int32 `x`, where
///
///     m = M >> (9 + e)                   (at most 22 - e significant bits)
///     X = 510 · 2^e
///     x' = clamp(x, -X, X)
///     rounded = (x' · m + (x < 0 ? rNeg : rPos)) >> 22        (arithmetic, all in Int32)
///     rPos = 2^(21 - e) + (e ≥ 1 ? 2^21 : 0),  rNeg = 2^22 - rPos
///
/// Why: SRDHM rounds half up, `floor((x·M + 2^30) / 2^31)`; RDBPOT rounds half away from
/// zero. For `e ≥ 1` the two roundings of a non-negative argument merge into one,
/// `floor((p + 2^30 + 2^(30+e)) / 2^(31+e))` (`floor((floor(a/b) + c)/d) = floor((a + cb)/(bd))`
/// for integer c), and the negative side is its mirror image with the half-up tie of
/// SRDHM (`-1` in the numerator), which `rNeg` folds in; dividing `M`'s `2^(9+e)` out of
/// numerator and denominator leaves the shift by 22. The clamp changes nothing after the
/// output clamp: the function is monotone and `m ≥ 2^(21-e)` gives `|rounded(±X)| ≥ 255`,
/// beyond any `zp`; and `|x'·m| ≤ 510·2^22 - 510` plus `rPos` or `rNeg` (< 2^22) stays
/// inside Int32. (Checked at the ties, the clamp bounds and on random inputs in
/// `ShortMultiplierTests`.)
///
/// That is 6 vector instructions per 8 lanes on AVX2 (`vpminsd`, `vpmaxsd`, `vpmulld`,
/// `vblendvps`, `vpaddd`, `vpsrad`) against 12 for the 64-bit SRDHM + RDBPOT; the quantizer
/// rounds multipliers to this form (`shortened`) where it costs at most `2^-minimumBits`
/// of relative precision. The kernels test `applies` per call; files with full Q31
/// multipliers run the 64-bit stage and give the same bits either way.
public enum ShortMultiplier {
    /// The right shift of the 32-bit form.
    public static let resultShift: Int32 = 22
    /// Fewest significant multiplier bits `shortened` accepts (`e ≤ 22 - minimumBits`):
    /// a relative change of the multiplier of at most `2^-minimumBits` (0.1 %, under 0.13 of
    /// an output step at |q| = 127).
    public static let minimumBits: Int32 = 10

    /// Whether `(multiplier, shift)` has the 32-bit form: `-21 ≤ shift ≤ 0`, multiplier ≥ 0
    /// and divisible by `2^(9 - shift)`.
    @inlinable
    public static func applies(multiplier: Int32, shift: Int32) -> Bool {
        guard shift <= 0 && shift >= -21 && multiplier >= 0 else { return false }
        return multiplier & ((Int32(1) << (9 - shift)) &- 1) == 0
    }

    /// The 32-bit form's value (see the type): equal to `multiplyByQuantizedMultiplier(x,
    /// multiplier, shift)` wherever that is within ±255, and beyond ±255 on the same side.
    /// - Precondition: `applies(multiplier:shift:)`.
    @inlinable
    public static func rounded(_ x: Int32, multiplier: Int32, shift: Int32) -> Int32 {
        precondition(applies(multiplier: multiplier, shift: shift), "ShortMultiplier: multiplier without the 32-bit form")
        let e = -shift
        let m = multiplier >> (9 + e)
        let bound = Int32(510) << e
        let clamped = Swift.min(Swift.max(x, -bound), bound)
        let (positive, negative) = roundingTerms(exponent: e)
        return (clamped &* m &+ (x < 0 ? negative : positive)) >> resultShift
    }

    /// `(rPos, rNeg)` for right shift `exponent` (0...21).
    @inlinable
    public static func roundingTerms(exponent e: Int32) -> (positive: Int32, negative: Int32) {
        let positive = (Int32(1) << (21 - e)) &+ (e >= 1 ? Int32(1) << 21 : 0)
        return (positive, (Int32(1) << 22) &- positive)
    }

    /// The quantizer's rounding of a Q31 multiplier to the 32-bit form: `M` rounded (half
    /// away from zero) to a multiple of `2^(9 + e)`, i.e. to `22 - e` significant bits, when
    /// `0 ≤ e ≤ 22 - minimumBits`; a multiplier that rounds up to `2^31` becomes `2^30` with
    /// `e - 1`. Anything else (a left shift, a small multiplier with too few bits left, zero)
    /// comes back unchanged.
    @inlinable
    public static func shortened(multiplier: Int32, shift: Int32, minimumBits bits: Int32 = minimumBits) -> (multiplier: Int32, shift: Int32) {
        let e = -shift
        guard multiplier > 0, e >= 0, e <= 22 - bits else { return (multiplier, shift) }
        let unit = Int64(1) << Int64(9 + e)
        var m = (Int64(multiplier) + unit / 2) / unit * unit
        var s = shift
        if m == Int64(1) << 31 {
            m = Int64(1) << 30
            s += 1
        }
        guard applies(multiplier: Int32(m), shift: s) else { return (multiplier, shift) }
        return (Int32(m), s)
    }
}
