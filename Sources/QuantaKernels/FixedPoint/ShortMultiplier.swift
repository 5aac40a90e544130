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

    /// `rounded` in sign-magnitude form, equal to it for every Int32 `x`:
    ///
    ///     a = min(|x|, X)                    (|x| as unsigned: Int32.min gives X)
    ///     roundedMagnitude = sign(x) · ((a · m + rPos - [x < 0]) >> 22)
    ///
    /// For `x < 0`, `floor((-a·m + 2^22 - rPos) / 2^22) = 1 - ceil((a·m + rPos) / 2^22)
    /// = -floor((a·m + rPos - 1) / 2^22)` (`ceil(u/d) = floor((u-1)/d) + 1` for integer u);
    /// `x = 0` gives 0 as `rPos < 2^22`. One rounding term and one bound per lane instead
    /// of two of each (`AVX2ShortRounding`: `vpabsd`, `vpminud`, `vpmulld`, two adds,
    /// `vpsrad`, `vpsignd`).
    /// - Precondition: `applies(multiplier:shift:)`.
    @inlinable
    public static func roundedMagnitude(_ x: Int32, multiplier: Int32, shift: Int32) -> Int32 {
        precondition(applies(multiplier: multiplier, shift: shift), "ShortMultiplier: multiplier without the 32-bit form")
        let e = -shift
        let m = multiplier >> (9 + e)
        let bound = UInt32(510) << UInt32(e)
        let magnitude = Int32(bitPattern: Swift.min(x.magnitude, bound))
        let (positive, _) = roundingTerms(exponent: e)
        let y = (magnitude &* m &+ positive &- (x < 0 ? 1 : 0)) >> resultShift
        return x < 0 ? -y : y
    }

    /// `(rPos, rNeg)` for right shift `exponent` (0...21).
    @inlinable
    public static func roundingTerms(exponent e: Int32) -> (positive: Int32, negative: Int32) {
        mergedRoundingTerms(exponent: e, resultShift: resultShift)
    }

    /// The terms that merge SRDHM's and RDBPOT's roundings (right shift `e`) into one
    /// arithmetic shift by `resultShift` of a product scaled so that one output step is
    /// `2^resultShift`: `rPos = 2^(resultShift-1-e) + [e ≥ 1]·2^(resultShift-1)` for
    /// non-negative products, `rNeg = 2^resultShift - rPos` (SRDHM's half-up tie folded in).
    @inlinable
    static func mergedRoundingTerms(exponent e: Int32, resultShift: Int32) -> (positive: Int32, negative: Int32) {
        let positive = (Int32(1) << (resultShift - 1 - e)) &+ (e >= 1 ? Int32(1) << (resultShift - 1) : 0)
        return (positive, (Int32(1) << resultShift) &- positive)
    }

    /// `multiplier` rounded half away from zero to a multiple of `2^zeroBits`; a result of
    /// `2^31` becomes `2^30` with `shift + 1`. Nil when the result does not fit `form`.
    @inlinable
    static func roundedToMultiple(multiplier: Int32, shift: Int32, zeroBits: Int32, form: (Int32, Int32) -> Bool) -> (multiplier: Int32, shift: Int32)? {
        let unit = Int64(1) << Int64(zeroBits)
        var m = (Int64(multiplier) + unit / 2) / unit * unit
        var s = shift
        if m == Int64(1) << 31 {
            m = Int64(1) << 30
            s += 1
        }
        return form(Int32(m), s) ? (Int32(m), s) : nil
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
        return roundedToMultiple(multiplier: multiplier, shift: shift, zeroBits: 9 + e) { applies(multiplier: $0, shift: $1) }
            ?? (multiplier, shift)
    }

    // MARK: Add's input stage

    /// TFLite's int8 add scales each input as `MBQMSmallerThanOne((q - zp) << 20, M, s)`
    /// (`AddQuantization`). With `M` divisible by `2^9` that is, **exactly** for every
    /// `|d| = |q - zp| ≤ 255`, a 32-bit multiply-add-shift:
    ///
    ///     v = d · (M >> 9)                         (|v| < 255 · 2^22 < 2^30)
    ///     y = (v + (v < 0 ? 2^(1+e) - 2 : 2 + 2^(1+e))) >> (2 + e)      (e = 0: both terms 2)
    ///
    /// (`x·M = v·2^29`, so SRDHM is `floor((v + 2)/4)`, rounded half up, and the two roundings
    /// merge as in the output stage above.) 4 AVX2 instructions per 8 lanes against 12.
    public static let addLeftShift: Int32 = 20
    /// Trailing zero bits an add input multiplier needs (`29 - addLeftShift`).
    public static let addInputZeroBits: Int32 = 9

    /// Whether `(multiplier, shift)` scales an add input in 32 bits: left shift 20,
    /// `-28 ≤ shift ≤ 0`, multiplier ≥ 0 and divisible by `2^9`.
    @inlinable
    public static func appliesToAddInput(multiplier: Int32, shift: Int32, leftShift: Int32) -> Bool {
        leftShift == addLeftShift && shift <= 0 && shift >= -28 && multiplier >= 0
            && multiplier & ((Int32(1) << addInputZeroBits) &- 1) == 0
    }

    /// `MBQMSmallerThanOne(d << 20, multiplier, shift)` for `|d| ≤ 255`, in 32 bits.
    /// - Precondition: `appliesToAddInput(multiplier:shift:leftShift: 20)`, `|d| ≤ 255`.
    @inlinable
    public static func addInputRounded(_ d: Int32, multiplier: Int32, shift: Int32) -> Int32 {
        precondition(appliesToAddInput(multiplier: multiplier, shift: shift, leftShift: addLeftShift) && d >= -255 && d <= 255,
                     "ShortMultiplier: add input outside the 32-bit form")
        let e = -shift
        let v = d &* (multiplier >> addInputZeroBits)
        let (positive, negative) = addInputTerms(exponent: e)
        return (v &+ (v < 0 ? negative : positive)) >> (2 + e)
    }

    /// The rounding terms of `addInputRounded` for right shift `e` (0...28).
    @inlinable
    public static func addInputTerms(exponent e: Int32) -> (positive: Int32, negative: Int32) {
        mergedRoundingTerms(exponent: e, resultShift: 2 + e)
    }

    /// The quantizer's rounding of an add input multiplier to a multiple of `2^9` (22
    /// significant bits, a change below 2^-22; half away from zero); `2^31` becomes `2^30`
    /// with `e - 1`. Anything outside `appliesToAddInput` comes back unchanged.
    @inlinable
    public static func shortenedAddInput(multiplier: Int32, shift: Int32) -> (multiplier: Int32, shift: Int32) {
        guard multiplier > 0 else { return (multiplier, shift) }
        return roundedToMultiple(multiplier: multiplier, shift: shift, zeroBits: addInputZeroBits) {
            appliesToAddInput(multiplier: $0, shift: $1, leftShift: addLeftShift)
        } ?? (multiplier, shift)
    }
}
