/// The integer arithmetic of the TFLite int8 scheme (gemmlowp's fixed-point primitives and
/// TFLite's `MultiplyByQuantizedMultiplier` family), bit for bit.
///
/// A real multiplier `m` is stored as a Q31 integer `M` in `[2^30, 2^31)` (or 0) and a shift
/// `s` with `m ≈ M * 2^(s - 31)`. Every function here is pure, allocation free and gives the
/// same bits on every architecture. See docs/NUMERICS.md for the rounding rules.
public enum FixedPoint {
    /// gemmlowp's `SaturatingRoundingDoublingHighMul`: the high 32 bits of `2 * a * b`,
    /// rounded to nearest.
    ///
    ///     nudge = a*b >= 0 ? 2^30 : 1 - 2^30
    ///     result = truncatingDivision(a*b + nudge, 2^31)      // in 64 bits, rounds toward zero
    ///
    /// which rounds the exact `a*b / 2^31` to nearest with ties toward +∞ (not away
    /// from zero: `SRDHM(-1, 2^30) == 0` for -0.5, `SRDHM(1, 2^30) == 1` for 0.5,
    /// `SRDHM(-3, 2^30) == -1` for -1.5). The one overflow, `Int32.min * Int32.min`
    /// (exactly 2^31), saturates to `Int32.max`.
    @inlinable
    public static func saturatingRoundingDoublingHighMul(_ a: Int32, _ b: Int32) -> Int32 {
        if a == Int32.min && b == Int32.min { return Int32.max }
        let product = Int64(a) * Int64(b)
        let nudge: Int64 = product >= 0 ? (1 << 30) : (1 - (1 << 30))
        // |product + nudge| < 2^62 + 2^30, so the quotient fits in Int32 (the only case that
        // would not, 2^62, is the saturating one above).
        return Int32((product + nudge) / (1 << 31))
    }

    /// gemmlowp's `RoundingDivideByPOT`: `x / 2^exponent` rounded to nearest, ties away from
    /// zero (`RDBPOT(5, 1) == 3`, `RDBPOT(-3, 1) == -2`, `RDBPOT(-5, 2) == -1`).
    ///
    ///     mask = 2^exponent - 1;  remainder = x & mask
    ///     threshold = (mask >> 1) + (x < 0 ? 1 : 0)
    ///     result = (x >> exponent) + (remainder > threshold ? 1 : 0)    // arithmetic shift
    ///
    /// - Precondition: `0 <= exponent <= 31`.
    @inlinable
    public static func roundingDivideByPOT(_ x: Int32, _ exponent: Int32) -> Int32 {
        precondition(exponent >= 0 && exponent <= 31, "roundingDivideByPOT: exponent outside 0...31")
        // The mask is computed in 64 bits as gemmlowp does (`1ll << exponent`), so that
        // exponent 31 gives 0x7FFF_FFFF.
        let mask = Int32(truncatingIfNeeded: (Int64(1) << Int64(exponent)) - 1)
        let remainder = x & mask
        let threshold = (mask >> 1) + (x < 0 ? 1 : 0)
        // x >> 31 is 0 or -1, so adding 1 cannot overflow.
        return (x >> exponent) + (remainder > threshold ? 1 : 0)
    }

    /// TFLite's `MultiplyByQuantizedMultiplier` (the reference, double-rounding form):
    ///
    ///     left = max(shift, 0);  right = max(-shift, 0)
    ///     result = RDBPOT(SRDHM(x * 2^left, multiplier), right)
    ///
    /// i.e. `x * multiplier * 2^(shift - 31)` with two roundings, both to nearest.
    ///
    /// The left shift wraps around on overflow (`&<<`). In TFLite that overflow is
    /// undefined behaviour that compiles to a wrapping shift on every target; Quanta's
    /// quantizer only produces `shift > 0` for multipliers above 1, where callers keep
    /// `|x| * 2^shift < 2^31`.
    ///
    /// - Precondition: `-31 <= shift <= 31`.
    @inlinable
    public static func multiplyByQuantizedMultiplier(_ x: Int32, _ multiplier: Int32, _ shift: Int32) -> Int32 {
        precondition(shift >= -31 && shift <= 31, "multiplyByQuantizedMultiplier: shift outside -31...31")
        let leftShift = shift > 0 ? shift : 0
        let rightShift = shift > 0 ? 0 : -shift
        return roundingDivideByPOT(
            saturatingRoundingDoublingHighMul(x &<< leftShift, multiplier), rightShift)
    }

    /// TFLite's `MultiplyByQuantizedMultiplierSmallerThanOneExp`, used by int8 add:
    ///
    ///     result = RDBPOT(SRDHM(x, multiplier), -shift)
    ///
    /// - Precondition: `-31 <= shift <= 0` (the multiplier is below one).
    @inlinable
    public static func multiplyByQuantizedMultiplierSmallerThanOneExp(
        _ x: Int32, _ multiplier: Int32, _ shift: Int32
    ) -> Int32 {
        precondition(shift <= 0 && shift >= -31, "multiplyByQuantizedMultiplierSmallerThanOneExp: shift outside -31...0")
        return roundingDivideByPOT(saturatingRoundingDoublingHighMul(x, multiplier), -shift)
    }

    /// TFLite's `QuantizeMultiplier`: splits `real` into a Q31 multiplier and a shift with
    /// `real ≈ multiplier * 2^(shift - 31)`.
    ///
    ///     (q, e) = frexp(real)                 // real = q * 2^e, 0.5 <= |q| < 1
    ///     multiplier = round(q * 2^31)         // half away from zero
    ///     if multiplier == 2^31 { multiplier = 2^30; e += 1 }
    ///     if e < -31 { multiplier = 0; e = 0 } // |real| < 2^-32 flushes to zero
    ///     shift = e
    ///
    /// Examples: 1.0 → (2^30, 1); 0.5 → (2^30, 0); 0 → (0, 0); 3.0 → (3·2^29, 2).
    /// Multipliers above one give a positive shift (a left shift in
    /// `multiplyByQuantizedMultiplier`), below one zero or a negative shift.
    ///
    /// - Precondition: `real` is finite.
    public static func quantizeMultiplier(_ real: Double) -> (multiplier: Int32, shift: Int32) {
        precondition(real.isFinite, "quantizeMultiplier: multiplier is not finite")
        if real == 0 { return (0, 0) }
        // frexp without libm: `significand` is in [1, 2) (also for subnormals), so
        // q = ±significand / 2 in [0.5, 1) and e = exponent + 1.
        let magnitude = real.significand / 2
        let q = real < 0 ? -magnitude : magnitude
        var exponent = Int64(real.exponent) + 1
        // q * 2^31 is exact (a power-of-two scaling), so the only rounding is this one.
        var fixed = Int64((q * 2147483648.0).rounded(.toNearestOrAwayFromZero))
        // Only +2^31 can overflow Int32 (TFLite halves exactly this case); -2^31 fits.
        if fixed == (1 << 31) {
            fixed /= 2
            exponent += 1
        }
        if exponent < -31 {
            return (0, 0)
        }
        // Multipliers of 2^31 and above give shifts beyond what multiplyByQuantizedMultiplier
        // accepts; they are kept here (as TFLite does) and rejected where they are applied.
        return (Int32(fixed), Int32(clamping: exponent))
    }
}
