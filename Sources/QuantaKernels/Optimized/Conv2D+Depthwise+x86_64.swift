#if arch(x86_64) && QUANTA_AVX2
import _Builtin_intrinsics.intel

// The AVX2 depthwise 3×3 kernel (strides 1 and 2, dilation 1, depth multiplier 1, at least
// 16 channels): `vpmaddwd` on pairs of taps, so each multiply uop does 16 exact MACs and the
// products land in int32 without a widening step.
//
// Pairs: for a block of 16 channels, the int16 inputs of two taps are interleaved
// (`vpunpcklwd`/`vpunpckhwd`) and multiplied by the two taps' weights interleaved the same
// way. Rows 0 and 1 of the window pair vertically (the pair of column j serves every output
// that reads column j); row 2 pairs horizontally (columns j, j+1 with weights w20, w21, and
// j+2, j+3 with w22, 0): 5 `vpmaddwd` per 8 channels for the 9 taps. Stride 1 converts
// one new column per output (3 `vpmovsxbw`, 4 unpacks), stride 2 two.
//
// Lane order: `vpunpcklwd` of a ymm pairs channels 0-3 and 8-11, `vpunpckhwd` 4-7 and
// 12-15, so the two int32 accumulators hold channels [0-3, 8-11] and [4-7, 12-15]; the
// per-channel constants are loaded in that order, and `vpackssdw` of the two results gives
// channels 0-15 in order again (no permute before the store).
//
// Exactness (a block whose multipliers all have `ShortMultiplier`'s 32-bit form keeps plain
// weights and accumulators and uses that output stage instead): weights are doubled (|2w| ≤ 254, |x · 2w| ≤ 32512, a pair sums to at most
// 65024 in int32), so the accumulator is `2·acc` exactly. The output stage
// (`DepthwiseAVX2Output`) is TFLite's SRDHM then RDBPOT, computed with one 64-bit add per
// lane instead of RDBPOT's mask-and-compare, valid while `|acc| · 2^(left+1) ≤ 2^30`
// (checked per call, see `DepthwiseAVX2Output.fits`; otherwise the portable kernel runs).

/// TFLite's output stage (`FixedPoint.multiplyByQuantizedMultiplier`, then zero point and
/// clamp) for 8 lanes of *doubled* accumulators `a2 = 2·acc`, when `|acc| · 2^left ≤ 2^29`:
///
///     x2 = a2 << left                       (= 2·(acc << left), |x2| ≤ 2^30, no wrap)
///     v  = x2 · M + 2^31 + h · 2^32         (64-bit, h = 2^(right-1), 0 when right = 0)
///     rh = v >> 32                          (= SRDHM(acc << left, M) + h, see below)
///     y  = (rh - [r < 0 and right > 0]) >> right      (arithmetic)
///
/// SRDHM(x, M) = floor((x·M + 2^30) / 2^31) (`RequantizationBlock8`) = floor((2x·M + 2^31) / 2^32),
/// and adding `h · 2^32` adds `h` to the high half exactly: |2x·M| < 2^61, so
/// |v| < 2^61 + 2^31 + 2^62 < 2^63 does not overflow, and |r| ≤ 2^29 + 1 keeps `r + h` in
/// int32. RDBPOT(r, right) rounds half away from zero: `floor((r + h - [r < 0]) / 2^right)`
/// for right ≥ 1, and `r` for right = 0. `r < 0` is `rh < h` (the `threshold` lanes; for
/// right = 0 the threshold is `Int32.min`, never greater). `M = Int32.min` (SRDHM's only
/// saturation) is excluded by `fits`.
@frozen @usableFromInline
struct DepthwiseAVX2Output {
    @usableFromInline var multiplier: __m256i
    @usableFromInline var multiplierOdd: __m256i
    @usableFromInline var nudgeEven: __m256i
    @usableFromInline var nudgeOdd: __m256i
    @usableFromInline var threshold: __m256i
    @usableFromInline var right: __m256i
    @usableFromInline var left: __m256i
    @usableFromInline var shiftsLeft: Bool
    /// `ShortMultiplier`'s 32-bit form, the GEMM's (valid when `short`).
    @usableFromInline var shortStage: AVX2ShortRounding
    /// Whether the constants are those of the 32-bit form (`init(multipliers:shifts:short:)`).
    @usableFromInline var short: Bool

    /// Whether every lane's multiplier has `ShortMultiplier`'s 32-bit form: 0 ≤ e ≤ 21 and
    /// M ≥ 0 divisible by 2^(9+e) (`ShortMultiplier.applies`, 8 lanes at once).
    @inline(__always) @usableFromInline
    static func hasShortForm(multipliers m: __m256i, shifts s: __m256i) -> Bool {
        let without = AVX2ShortRounding.lanesWithoutForm(multipliers: m, shifts: s)
        return _mm256_testz_si256(without, without) != 0
    }

    /// Constants for lanes with multipliers `m` and TFLite shifts `s`: with `short`, those
    /// of the 32-bit form only (the 64-bit ones stay zero), otherwise those of the 64-bit
    /// stage only. A block's set-up runs once per row and channel block, so it builds one form.
    /// - Precondition: `DepthwiseAVX2.fits` holds for these lanes; with `short`,
    ///   `hasShortForm(multipliers: m, shifts: s)`.
    @inline(__always) @usableFromInline
    init(multipliers m: __m256i, shifts s: __m256i, short: Bool = false) {
        let zero = _mm256_setzero_si256()
        self.short = short
        if short {
            shortStage = AVX2ShortRounding(multipliers: m, shifts: s)
            multiplier = zero; multiplierOdd = zero; nudgeEven = zero; nudgeOdd = zero
            threshold = zero; right = zero; left = zero
            shiftsLeft = false
            return
        }
        shortStage = AVX2ShortRounding(zero: ())
        let l = _mm256_max_epi32(s, zero)
        let r = _mm256_max_epi32(_mm256_sub_epi32(zero, s), zero)
        // h = 2^(right-1): (1 << right) >> 1 as unsigned, 2^30 for right = 31, 0 for right = 0.
        let h = _mm256_srli_epi32(_mm256_sllv_epi32(_mm256_set1_epi32(1), r), 1)
        let low = _mm256_set1_epi32(Int32.min)   // 2^31 in the low dword of each 64-bit nudge
        multiplier = m
        multiplierOdd = DepthwiseAVX2.oddLanes(m)
        nudgeEven = DepthwiseAVX2.blendOdd(low, _mm256_slli_epi64(h, 32))
        nudgeOdd = DepthwiseAVX2.blendOdd(low, h)
        threshold = _mm256_blendv_epi8(low, h, _mm256_cmpgt_epi32(r, zero))
        right = r
        left = l
        shiftsLeft = _mm256_testz_si256(l, l) == 0
    }

    /// `y = RDBPOT(SRDHM(acc << left, M), right)` of doubled accumulators `a2` (before the
    /// zero point and clamp), or with `.short` `ShortMultiplier`'s 32-bit form of it for
    /// the plain (not doubled) accumulator `a2 = acc` (equal after the zero point and the
    /// int8 clamp; 6 instructions instead of 10: clamp, `vpmulld`, `vblendvps`, add, shift). `.plain` skips the left shift
    /// (the caller knows no lane has one). The row loop passes the mode from a local
    /// function called once per mode: LLVM keeps the per-output test in the loop anyway, but
    /// the column loops come out 5 % faster than with `shiftsLeft` alone (measured; register
    /// allocation differs).
    @inline(__always) @usableFromInline
    func rounded(_ a2: __m256i, _ mode: DepthwiseOutputMode = .shifting) -> __m256i {
        // `a2` is the plain accumulator here: a block in the short form does not double.
        if mode == .short { return shortStage.roundedMagnitude(a2) }
        let x = mode == .shifting && shiftsLeft ? _mm256_sllv_epi32(a2, left) : a2
        let even = _mm256_add_epi64(_mm256_mul_epi32(x, multiplier), nudgeEven)
        let odd = _mm256_add_epi64(_mm256_mul_epi32(DepthwiseAVX2.oddLanes(x), multiplierOdd), nudgeOdd)
        let rh = DepthwiseAVX2.blendOdd(_mm256_srli_epi64(even, 32), odd)
        let negative = _mm256_cmpgt_epi32(threshold, rh)
        return _mm256_srav_epi32(_mm256_add_epi32(rh, negative), right)
    }
}

/// Which output stage a depthwise block's column loop compiles (`DepthwiseAVX2Output.rounded`).
@usableFromInline
enum DepthwiseOutputMode {
    /// TFLite's 64-bit stage, no lane shifting left.
    case plain
    /// TFLite's 64-bit stage with the left shift.
    case shifting
    /// `ShortMultiplier`'s 32-bit form (every lane of the block has it).
    case short
}

/// The AVX2 depthwise 3×3 kernel (see the top of this file).
@usableFromInline
enum DepthwiseAVX2 {
    /// Dwords 0, 2, 4, 6 of `even`, 1, 3, 5, 7 of `odd` (`vpblendd`).
    @inline(__always) @usableFromInline
    static func blendOdd(_ even: __m256i, _ odd: __m256i) -> __m256i {
        let e = unsafeBitCast(even, to: SIMD8<Int32>.self), o = unsafeBitCast(odd, to: SIMD8<Int32>.self)
        return unsafeBitCast(SIMD8<Int32>(e[0], o[1], e[2], o[3], e[4], o[5], e[6], o[7]), to: __m256i.self)
    }

    /// Dwords 1, 1, 3, 3, 5, 5, 7, 7 (`vpshufd`): the odd lanes where `vpmuldq` reads. (A
    /// `vpsrlq` by 32 there makes LLVM rewrite `vpmuldq` as a generic 64-bit multiply of
    /// sign-extended halves: three `vpmuludq` and five shifts and adds.)
    @inline(__always) @usableFromInline
    static func oddLanes(_ v: __m256i) -> __m256i {
        let x = unsafeBitCast(v, to: SIMD8<Int32>.self)
        return unsafeBitCast(SIMD8<Int32>(x[1], x[1], x[3], x[3], x[5], x[5], x[7], x[7]), to: __m256i.self)
    }

    /// 16 int8 at `p` as int16 (`vpmovsxbw`).
    @inline(__always) @usableFromInline
    static func widen(_ p: UnsafePointer<Int8>) -> __m256i {
        _mm256_cvtepi8_epi16(_mm_loadu_si128(UnsafeRawPointer(p).assumingMemoryBound(to: __m128i.self)))
    }

    /// 16 int32 at `p` (channels 0-15) in the accumulators' lane order: channels 0-3, 8-11
    /// then 4-7, 12-15.
    @inline(__always) @usableFromInline
    static func loadSplit(_ p: UnsafeRawPointer) -> (__m256i, __m256i) {
        @inline(__always) func q(_ i: Int) -> __m128i { _mm_loadu_si128((p + 16 * i).assumingMemoryBound(to: __m128i.self)) }
        return (_mm256_set_m128i(q(2), q(0)), _mm256_set_m128i(q(3), q(1)))
    }

    /// Two interleaved int16 vectors (lanes `a` then `b` of each pair), as `vpmaddwd` operands.
    @frozen @usableFromInline
    struct Pair {
        @usableFromInline var lo: __m256i
        @usableFromInline var hi: __m256i
        @inline(__always) @usableFromInline
        init(_ a: __m256i, _ b: __m256i) {
            lo = _mm256_unpacklo_epi16(a, b)
            hi = _mm256_unpackhi_epi16(a, b)
        }
    }

    /// A 16-channel block's weights (interleaved as the input pairs; doubled unless the
    /// block's multipliers have the 32-bit form), its initial accumulators (the bias, doubled
    /// likewise, minus the folded zero point) and output stage.
    @frozen @usableFromInline
    struct Block {
        @usableFromInline var w0: Pair   // (w[0][0], w[1][0])
        @usableFromInline var w1: Pair   // (w[0][1], w[1][1])
        @usableFromInline var w2: Pair   // (w[0][2], w[1][2])
        @usableFromInline var wq: Pair   // (w[2][0], w[2][1])
        @usableFromInline var wr: Pair   // (w[2][2], 0)
        @usableFromInline var initLo: __m256i
        @usableFromInline var initHi: __m256i
        @usableFromInline var outLo: DepthwiseAVX2Output
        @usableFromInline var outHi: DepthwiseAVX2Output

        /// Rows of the window outside the input (`rowValid[ky] == false`) get zero weights;
        /// the folded zero point covers the valid rows only, so a column outside the input
        /// may read as the zero point.
        @inline(__always) @usableFromInline
        init(packed: UnsafeRawPointer, cPad: Int, c0: Int, valid0: Bool, valid1: Bool, valid2: Bool,
             zeroPointPairs: __m256i, requantization r: Requantization) {
            let w = (packed + 4 * cPad).assumingMemoryBound(to: Int8.self) + c0
            let zero = _mm256_setzero_si256()
            let (mLo, mHi) = DepthwiseAVX2.channels(r.multipliers, r.channelCount, c0)
            let (sLo, sHi) = DepthwiseAVX2.channels(r.shifts, r.channelCount, c0)
            // The 32-bit output form needs no doubling: then weights and accumulators are
            // the plain ones (`DepthwiseAVX2Output.rounded`, `.short`).
            let short = DepthwiseAVX2Output.hasShortForm(multipliers: mLo, shifts: sLo)
                && DepthwiseAVX2Output.hasShortForm(multipliers: mHi, shifts: sHi)
            @inline(__always) func tap(_ t: Int, _ valid: Bool) -> __m256i {
                guard valid else { return zero }
                let v = widen(w + t * cPad)
                return short ? v : _mm256_add_epi16(v, v)
            }
            let t00 = tap(0, valid0), t01 = tap(1, valid0), t02 = tap(2, valid0)
            let t10 = tap(3, valid1), t11 = tap(4, valid1), t12 = tap(5, valid1)
            let t20 = tap(6, valid2), t21 = tap(7, valid2), t22 = tap(8, valid2)
            w0 = Pair(t00, t10)
            w1 = Pair(t01, t11)
            w2 = Pair(t02, t12)
            wq = Pair(t20, t21)
            wr = Pair(t22, zero)
            // zp·Σ w (doubled with the weights) over the valid taps, in the accumulators' lane order.
            let foldLo = _mm256_add_epi32(_mm256_add_epi32(_mm256_madd_epi16(zeroPointPairs, w0.lo), _mm256_madd_epi16(zeroPointPairs, w1.lo)),
                                          _mm256_add_epi32(_mm256_add_epi32(_mm256_madd_epi16(zeroPointPairs, w2.lo), _mm256_madd_epi16(zeroPointPairs, wq.lo)),
                                                           _mm256_madd_epi16(zeroPointPairs, wr.lo)))
            let foldHi = _mm256_add_epi32(_mm256_add_epi32(_mm256_madd_epi16(zeroPointPairs, w0.hi), _mm256_madd_epi16(zeroPointPairs, w1.hi)),
                                          _mm256_add_epi32(_mm256_add_epi32(_mm256_madd_epi16(zeroPointPairs, w2.hi), _mm256_madd_epi16(zeroPointPairs, wq.hi)),
                                                           _mm256_madd_epi16(zeroPointPairs, wr.hi)))
            let (biasLo, biasHi) = loadSplit(packed + 4 * c0)
            initLo = _mm256_sub_epi32(short ? biasLo : _mm256_add_epi32(biasLo, biasLo), foldLo)
            initHi = _mm256_sub_epi32(short ? biasHi : _mm256_add_epi32(biasHi, biasHi), foldHi)
            outLo = DepthwiseAVX2Output(multipliers: mLo, shifts: sLo, short: short)
            outHi = DepthwiseAVX2Output(multipliers: mHi, shifts: sHi, short: short)
        }

        /// The doubled accumulators of one output: columns j, j+1, j+2 of rows 0-1 (`p0`,
        /// `p1`, `p2`), columns (j, j+1) and (j+2, j+3) of row 2 (`q0`, `q2`).
        @inline(__always) @usableFromInline
        func accumulate(_ p0: Pair, _ p1: Pair, _ p2: Pair, _ q0: Pair, _ q2: Pair) -> (__m256i, __m256i) {
            let lo = _mm256_add_epi32(
                _mm256_add_epi32(_mm256_add_epi32(initLo, _mm256_madd_epi16(p0.lo, w0.lo)), _mm256_add_epi32(_mm256_madd_epi16(p1.lo, w1.lo), _mm256_madd_epi16(p2.lo, w2.lo))),
                _mm256_add_epi32(_mm256_madd_epi16(q0.lo, wq.lo), _mm256_madd_epi16(q2.lo, wr.lo)))
            let hi = _mm256_add_epi32(
                _mm256_add_epi32(_mm256_add_epi32(initHi, _mm256_madd_epi16(p0.hi, w0.hi)), _mm256_add_epi32(_mm256_madd_epi16(p1.hi, w1.hi), _mm256_madd_epi16(p2.hi, w2.hi))),
                _mm256_add_epi32(_mm256_madd_epi16(q0.hi, wq.hi), _mm256_madd_epi16(q2.hi, wr.hi)))
            return (lo, hi)
        }
    }

    /// Per-channel values `c0 ..< c0 + 16` (or the single per-tensor value) in the
    /// accumulators' lane order.
    @inline(__always) @usableFromInline
    static func channels(_ p: UnsafePointer<Int32>, _ count: Int, _ c0: Int) -> (__m256i, __m256i) {
        if count == 1 { return (_mm256_set1_epi32(p[0]), _mm256_set1_epi32(p[0])) }
        return loadSplit(UnsafeRawPointer(p + c0))
    }

    /// Constants of one call.
    @frozen @usableFromInline
    struct Call {
        @usableFromInline var zeroPoint16: __m256i     // the input zero point, 16 int16
        @usableFromInline var outputZeroPoint16: __m256i
        @usableFromInline var clampMin8: __m128i
        @usableFromInline var clampMax8: __m128i

        @inline(__always) @usableFromInline
        init(inputZeroPoint: Int32, requantization r: Requantization) {
            zeroPoint16 = _mm256_set1_epi16(Int16(truncatingIfNeeded: inputZeroPoint))
            outputZeroPoint16 = _mm256_set1_epi16(Int16(truncatingIfNeeded: r.outputZeroPoint))
            clampMin8 = _mm_set1_epi8(Int8(truncatingIfNeeded: r.clampMin))
            clampMax8 = _mm_set1_epi8(Int8(truncatingIfNeeded: r.clampMax))
        }

        /// Stores 16 outputs from rounded lanes (`lo`: channels 0-3, 8-11; `hi`: 4-7, 12-15):
        /// saturating packs to int16 (in channel order), saturating add of the zero point,
        /// saturating pack to int8, clamp on bytes. Equals `clamp(y + zp)` for every int32 y
        /// (as `AVX2GEMMOutput.store16`).
        @inline(__always) @usableFromInline
        func store(_ lo: __m256i, _ hi: __m256i, _ p: UnsafeMutablePointer<Int8>) {
            let words = _mm256_adds_epi16(_mm256_packs_epi32(lo, hi), outputZeroPoint16)
            var bytes = _mm_packs_epi16(_mm256_castsi256_si128(words), __m128i(words[2], words[3]))
            bytes = _mm_min_epi8(_mm_max_epi8(bytes, clampMin8), clampMax8)
            _mm_storeu_si128(UnsafeMutableRawPointer(p).assumingMemoryBound(to: __m128i.self), bytes)
        }
    }

    /// Whether every channel's output stage is in `DepthwiseAVX2Output`'s range for a 3×3
    /// window: shifts within -31...31, no multiplier `Int32.min`, and
    /// `(|bias| + 9 · 255 · 127) · 2^(left+1) ≤ 2^30` (the accumulator `bias + Σ w (x - zp)`
    /// with |w| ≤ 127, |x - zp| ≤ 255, so that `|acc| · 2^left ≤ 2^29`).
    @usableFromInline
    static func fits(packed: UnsafeRawPointer, channels: Int, requantization r: Requantization) -> Bool {
        let zero = _mm256_setzero_si256()
        let limit = _mm256_set1_epi32(1 << 30)
        let products = _mm256_set1_epi32(9 * 255 * 127)
        let shiftBound = _mm256_set1_epi32(31)
        let minimum = _mm256_set1_epi32(Int32.min)
        /// Sign bits set in the lanes outside the range.
        @inline(__always) func outside(_ bias: __m256i, _ m: __m256i, _ s: __m256i) -> __m256i {
            let magnitude = _mm256_abs_epi32(bias)   // Int32.min stays negative: outside
            let l = _mm256_max_epi32(s, zero)
            // (|bias| + products) · 2^(l+1) ≤ 2^30  ⟺  |bias| ≤ (2^30 >> (l+1)) - products
            let allowed = _mm256_sub_epi32(_mm256_srlv_epi32(limit, _mm256_add_epi32(l, _mm256_set1_epi32(1))), products)
            let range = _mm256_or_si256(magnitude, _mm256_cmpgt_epi32(magnitude, allowed))
            let shift = _mm256_or_si256(_mm256_add_epi32(s, shiftBound), _mm256_sub_epi32(shiftBound, s))
            return _mm256_or_si256(_mm256_or_si256(range, shift), _mm256_cmpeq_epi32(m, minimum))
        }
        var bad = zero
        var c0 = 0
        while c0 < channels {
            let first = min(c0, channels - 16)
            let (bLo, bHi) = loadSplit(packed + 4 * first)
            let (mLo, mHi) = DepthwiseAVX2.channels(r.multipliers, r.channelCount, first)
            let (sLo, sHi) = DepthwiseAVX2.channels(r.shifts, r.channelCount, first)
            bad = _mm256_or_si256(bad, _mm256_or_si256(outside(bLo, mLo, sLo), outside(bHi, mHi, sHi)))
            c0 += 16
        }
        return _mm256_movemask_ps(_mm256_castsi256_ps(bad)) == 0
    }

    /// One output row: rows `r0`, `r1`, `r2` of the window (a row with `validK == false`
    /// is outside the input: any readable row, zero weights), `inputWidth` columns of
    /// `channels` bytes each; column `ox` of the output reads input columns
    /// `ox * stride - padLeft + 0...2`, the ones outside the input read as the zero point.
    ///
    /// With `nextRow` and `nextOutput` (stride 1 only) it also computes the output row below,
    /// from rows `r1`, `r2`, `nextRow` (all valid, as `r0`...`r2`), each channel block's
    /// set-up shared by the two rows; block by block, row `output` first.
    ///
    /// - Precondition: `channels >= 16`; `fits(...)`; stride 1 or 2; depth multiplier 1.
    @inline(__always) @usableFromInline
    static func row(
        _ r0: UnsafePointer<Int8>, _ r1: UnsafePointer<Int8>, _ r2: UnsafePointer<Int8>,
        valid0: Bool, valid1: Bool, valid2: Bool, inputWidth: Int, channels: Int, stride: Int, padLeft: Int,
        output: UnsafeMutablePointer<Int8>, outputWidth: Int, packed: UnsafeRawPointer, cPad: Int,
        call: Call, requantization: Requantization,
        nextRow r3: UnsafePointer<Int8>? = nil, nextOutput: UnsafeMutablePointer<Int8>? = nil
    ) {
        let zp16 = call.zeroPoint16
        var c0 = 0
        while c0 < channels {
            // The last block ends at the last channel (it may overlap the previous one and
            // store some outputs twice, with the same values).
            let first = min(c0, channels - 16)
            let block = Block(packed: packed, cPad: cPad, c0: first, valid0: valid0, valid1: valid1, valid2: valid2,
                              zeroPointPairs: zp16, requantization: requantization)
            blockRow(block, first: first, r0, r1, r2, inputWidth: inputWidth, channels: channels, stride: stride,
                     padLeft: padLeft, output: output, outputWidth: outputWidth, call: call, nextRow: r3, nextOutput: nextOutput)
            c0 += 16
        }
    }

    /// `row` for the 16 channels `first ..< first + 16` with their set-up `block` (built for
    /// the same valid rows), so that a caller looping over rows inside a channel block builds
    /// it once (`run`). Not inlined: the block (about 1 KB of registers' worth) is passed by
    /// reference instead of copied, and one copy of the column loops serves every caller.
    @inline(never) @usableFromInline
    static func blockRow(
        _ block: Block, first: Int, _ r0: UnsafePointer<Int8>, _ r1: UnsafePointer<Int8>, _ r2: UnsafePointer<Int8>,
        inputWidth: Int, channels: Int, stride: Int, padLeft: Int,
        output: UnsafeMutablePointer<Int8>, outputWidth: Int, call: Call,
        nextRow r3: UnsafePointer<Int8>? = nil, nextOutput: UnsafeMutablePointer<Int8>? = nil
    ) {
        let zp16 = call.zeroPoint16
        // Outputs whose columns are all inside the input take the unchecked loop: stride 1
        // reads columns j + 2 (rows 0-1) and j + 3 (row 2) per step, stride 2 columns j + 1 ...
        // j + 3, with j = ox * stride - padLeft. The outputs before `lo` and from `hi` on take
        // the checked loads; their two loops have the same body on purpose: one loop with the
        // interior run inside it would put a test in the interior loop, and a helper for the
        // body would take the pipelined state, the pointers and `j` inout (a local helper
        // capturing them cost a dynamic exclusivity check per call: docs/PERFORMANCE-KERNELS.md).
        let lo: Int, hi: Int
        if stride == 1 {
            lo = min(outputWidth, max(0, padLeft - 2))
            hi = max(lo, min(outputWidth, inputWidth - 3 + padLeft))
        } else {
            lo = min(outputWidth, max(0, padLeft))   // j + 1 >= 0 (ceil((padLeft - 1) / 2) <= padLeft)
            hi = max(lo, min(outputWidth, inputWidth - 4 + padLeft >= 0 ? (inputWidth - 4 + padLeft) / 2 + 1 : 0))
        }
        @inline(__always) func load(_ base: UnsafePointer<Int8>, _ j: Int) -> __m256i {
            UInt(bitPattern: j) < UInt(bitPattern: inputWidth) ? widen(base + j &* channels) : zp16
        }
        @inline(__always) func columns(_ mode: DepthwiseOutputMode, _ a: UnsafePointer<Int8>, _ b: UnsafePointer<Int8>,
                                       _ c: UnsafePointer<Int8>, _ output: UnsafeMutablePointer<Int8>) {
        var out = output
        var j = -padLeft
        if stride == 1 {
            var state = Stride1(p0: Pair(load(a, j), load(b, j)), p1: Pair(load(a, j &+ 1), load(b, j &+ 1)),
                                s0: load(c, j), s1: load(c, j &+ 1), s2: load(c, j &+ 2), out: out)
            // Output 0 only accumulates (each step stores the output before it).
            if lo == 0 && hi > 0 {
                let column = (j &+ 2) &* channels
                state.step(Pair(widen(a + column), widen(b + column)), widen(c + column + channels), block, call, out, mode, store: false)
            } else {
                state.step(Pair(load(a, j &+ 2), load(b, j &+ 2)), load(c, j &+ 3), block, call, out, mode, store: false)
            }
            out += channels
            j &+= 1
            var ox = 1
            while ox < lo {
                state.step(Pair(load(a, j &+ 2), load(b, j &+ 2)), load(c, j &+ 3), block, call, out, mode)
                out += channels
                j &+= 1
                ox &+= 1
            }
            var pa = a + (j &+ 2) &* channels, pb = b + (j &+ 2) &* channels, pc = c + (j &+ 3) &* channels
            while ox < hi {
                state.step(Pair(widen(pa), widen(pb)), widen(pc), block, call, out, mode)
                out += channels
                pa += channels
                pb += channels
                pc += channels
                ox &+= 1
            }
            j = ox &- padLeft
            while ox < outputWidth {
                state.step(Pair(load(a, j &+ 2), load(b, j &+ 2)), load(c, j &+ 3), block, call, out, mode)
                out += channels
                j &+= 1
                ox &+= 1
            }
            state.flush(block, call, mode)
        } else {
            var state = Stride2(p0: Pair(load(a, j), load(b, j)), q0: Pair(load(c, j), load(c, j &+ 1)), out: out)
            state.step(Pair(load(a, j &+ 1), load(b, j &+ 1)), Pair(load(a, j &+ 2), load(b, j &+ 2)),
                       load(c, j &+ 2), load(c, j &+ 3), block, call, out, mode, store: false)
            out += channels
            j &+= 2
            var ox = 1
            while ox < lo {
                state.step(Pair(load(a, j &+ 1), load(b, j &+ 1)), Pair(load(a, j &+ 2), load(b, j &+ 2)),
                           load(c, j &+ 2), load(c, j &+ 3), block, call, out, mode)
                out += channels
                j &+= 2
                ox &+= 1
            }
            let step = 2 &* channels
            var pa = a + (j &+ 1) &* channels, pb = b + (j &+ 1) &* channels, pc = c + (j &+ 2) &* channels
            while ox < hi {
                state.step(Pair(widen(pa), widen(pb)), Pair(widen(pa + channels), widen(pb + channels)),
                           widen(pc), widen(pc + channels), block, call, out, mode)
                out += channels
                pa += step
                pb += step
                pc += step
                ox &+= 1
            }
            j = 2 &* ox &- padLeft
            while ox < outputWidth {
                state.step(Pair(load(a, j &+ 1), load(b, j &+ 1)), Pair(load(a, j &+ 2), load(b, j &+ 2)),
                           load(c, j &+ 2), load(c, j &+ 3), block, call, out, mode)
                out += channels
                j &+= 2
                ox &+= 1
            }
            state.flush(block, call, mode)
        }
        }
        let mode: DepthwiseOutputMode = block.outLo.short ? .short
            : block.outLo.shiftsLeft || block.outHi.shiftsLeft ? .shifting : .plain
        switch mode {
        case .short: columns(.short, r0 + first, r1 + first, r2 + first, output + first)
        case .shifting: columns(.shifting, r0 + first, r1 + first, r2 + first, output + first)
        case .plain: columns(.plain, r0 + first, r1 + first, r2 + first, output + first)
        }
        // The next output row (stride 1, same valid rows) with the same block set-up.
        if let r3, let nextOutput {
            switch mode {
            case .short: columns(.short, r1 + first, r2 + first, r3 + first, nextOutput + first)
            case .shifting: columns(.shifting, r1 + first, r2 + first, r3 + first, nextOutput + first)
            case .plain: columns(.plain, r1 + first, r2 + first, r3 + first, nextOutput + first)
            }
        }
    }

    /// The accumulators of the output one step behind (software pipelining, `Stride1` and
    /// `Stride2`) and where it goes.
    @frozen @usableFromInline
    struct PendingOutput {
        @usableFromInline var lo: __m256i, hi: __m256i
        @usableFromInline var out: UnsafeMutablePointer<Int8>

        @inline(__always) @usableFromInline
        init(_ out: UnsafeMutablePointer<Int8>) {
            lo = _mm256_setzero_si256()
            hi = lo
            self.out = out
        }

        /// Requantizes and stores this output.
        @inline(__always) @usableFromInline
        func store(_ block: Block, _ call: Call, _ mode: DepthwiseOutputMode) {
            call.store(block.outLo.rounded(lo, mode), block.outHi.rounded(hi, mode), out)
        }

        /// Stores this output (unless `store` is false: there is none yet), then holds `acc` for `out`.
        @inline(__always) @usableFromInline
        mutating func replace(with acc: (__m256i, __m256i), _ out: UnsafeMutablePointer<Int8>, _ block: Block, _ call: Call,
                              _ mode: DepthwiseOutputMode, store: Bool) {
            if store { self.store(block, call, mode) }
            lo = acc.0
            hi = acc.1
            self.out = out
        }
    }

    /// Stride 1 state at output ox (j = ox - padLeft): the pairs of columns j, j+1 (rows
    /// 0-1), the row-2 pairs (j, j+1), (j+1, j+2), column j+2 of row 2, and the accumulators
    /// of output ox - 1, not stored yet (software pipelining: each step accumulates one
    /// output, then requantizes and stores the one before, whose inputs are long ready, so
    /// the out-of-order window holds independent work instead of one long dependency chain).
    @frozen @usableFromInline
    struct Stride1 {
        @usableFromInline var p0: Pair, p1: Pair, q0: Pair, q1: Pair
        @usableFromInline var s2: __m256i
        @usableFromInline var pending: PendingOutput

        @inline(__always) @usableFromInline
        init(p0: Pair, p1: Pair, s0: __m256i, s1: __m256i, s2: __m256i, out: UnsafeMutablePointer<Int8>) {
            self.p0 = p0
            self.p1 = p1
            q0 = Pair(s0, s1)
            q1 = Pair(s1, s2)
            self.s2 = s2
            pending = PendingOutput(out)
        }

        /// Accumulates output ox (stored at `out` by the next step or `flush`) from the new
        /// column j+2 of rows 0-1 (`p2`) and column j+3 of row 2; stores output ox - 1 unless
        /// `store` is false (the first output).
        @inline(__always) @usableFromInline
        mutating func step(_ p2: Pair, _ s3: __m256i, _ block: Block, _ call: Call, _ out: UnsafeMutablePointer<Int8>,
                           _ mode: DepthwiseOutputMode, store: Bool = true) {
            let q2 = Pair(s2, s3)
            pending.replace(with: block.accumulate(p0, p1, p2, q0, q2), out, block, call, mode, store: store)
            p0 = p1
            p1 = p2
            q0 = q1
            q1 = q2
            s2 = s3
        }

        /// Stores the last output.
        @inline(__always) @usableFromInline
        func flush(_ block: Block, _ call: Call, _ mode: DepthwiseOutputMode) { pending.store(block, call, mode) }
    }

    /// Stride 2 state at output ox (j = 2·ox - padLeft): the pair of column j (rows 0-1),
    /// the row-2 pair (j, j+1), and output ox - 1 not stored yet (as `Stride1`).
    @frozen @usableFromInline
    struct Stride2 {
        @usableFromInline var p0: Pair, q0: Pair
        @usableFromInline var pending: PendingOutput

        @inline(__always) @usableFromInline
        init(p0: Pair, q0: Pair, out: UnsafeMutablePointer<Int8>) {
            self.p0 = p0
            self.q0 = q0
            pending = PendingOutput(out)
        }

        /// Accumulates output ox from columns j+1, j+2 of rows 0-1 and j+2, j+3 of row 2;
        /// stores output ox - 1 unless `store` is false.
        @inline(__always) @usableFromInline
        mutating func step(_ p1: Pair, _ p2: Pair, _ s2: __m256i, _ s3: __m256i, _ block: Block, _ call: Call,
                           _ out: UnsafeMutablePointer<Int8>, _ mode: DepthwiseOutputMode, store: Bool = true) {
            let q2 = Pair(s2, s3)
            pending.replace(with: block.accumulate(p0, p1, p2, q0, q2), out, block, call, mode, store: store)
            p0 = p2
            q0 = q2
        }

        /// Stores the last output.
        @inline(__always) @usableFromInline
        func flush(_ block: Block, _ call: Call, _ mode: DepthwiseOutputMode) { pending.store(block, call, mode) }
    }

    /// A whole 3×3 depthwise convolution (stride 1 or 2 on both axes, dilation 1, depth
    /// multiplier 1, at least 16 channels). Returns false, having written nothing, when
    /// the output stage does not fit (`fits`); the caller then runs the portable kernel.
    @usableFromInline
    static func run(
        input: UnsafePointer<Int8>, inputShape: TensorShape, inputZeroPoint: Int32, packed: UnsafeRawPointer,
        output: UnsafeMutablePointer<Int8>, outputShape: TensorShape, requantization: Requantization,
        stride: Int, padTop: Int, padLeft: Int
    ) -> Bool {
        let channels = inputShape.c
        guard fits(packed: packed, channels: channels, requantization: requantization) else { return false }
        let call = Call(inputZeroPoint: inputZeroPoint, requantization: requantization)
        let cPad = DepthwiseConv.paddedChannels(channels)
        let inRow = inputShape.w * channels
        let outRow = outputShape.w * channels
        // Channel block outside, rows inside: each block's set-up (weights widened, doubled
        // and paired, the folded zero point, the output constants) is built once per image
        // for the interior rows instead of once per row (on a 7×7×960 map it was a third of
        // the time), and again only for the padded top and bottom rows.
        let zp16 = call.zeroPoint16
        for n in 0..<inputShape.n {
            let image = input + n * inputShape.h * inRow
            var c0 = 0
            while c0 < channels {
                let first = min(c0, channels - 16)   // the last block may overlap the one before
                let interior = Block(packed: packed, cPad: cPad, c0: first, valid0: true, valid1: true, valid2: true,
                                     zeroPointPairs: zp16, requantization: requantization)
                for oy in 0..<outputShape.h {
                    let y0 = oy * stride - padTop
                    let v0 = y0 >= 0 && y0 < inputShape.h
                    let v1 = y0 + 1 >= 0 && y0 + 1 < inputShape.h
                    let v2 = y0 + 2 >= 0 && y0 + 2 < inputShape.h
                    let r0 = v0 ? image + y0 * inRow : image, r1 = v1 ? image + (y0 + 1) * inRow : image
                    let r2 = v2 ? image + (y0 + 2) * inRow : image
                    let o = output + (n * outputShape.h + oy) * outRow
                    // Two calls rather than one on a chosen block: picking between `interior`
                    // and an edge block into one variable copies the ~1 KB block every row.
                    if v0 && v1 && v2 {
                        blockRow(interior, first: first, r0, r1, r2, inputWidth: inputShape.w, channels: channels, stride: stride,
                                 padLeft: padLeft, output: o, outputWidth: outputShape.w, call: call)
                    } else {
                        let edge = Block(packed: packed, cPad: cPad, c0: first, valid0: v0, valid1: v1, valid2: v2,
                                         zeroPointPairs: zp16, requantization: requantization)
                        blockRow(edge, first: first, r0, r1, r2, inputWidth: inputShape.w, channels: channels, stride: stride,
                                 padLeft: padLeft, output: o, outputWidth: outputShape.w, call: call)
                    }
                }
                c0 += 16
            }
        }
        return true
    }

    /// The 3×3 stride-1 depthwise convolution in place (`DepthwiseInPlace`'s contract):
    /// output row `oy` overwrites input row `oy`. Input row `y` is copied once, into slot
    /// `y % 3` of `scratch`, just before output row `y` is computed (it is still intact);
    /// output row `oy` then reads rows at or above `oy` from their slots (the two rows
    /// above were overwritten, row `oy` is being) and the rows below from the tensor. One
    /// row copy per output row, no window moves. Returns false, having written nothing,
    /// when the output stage does not fit (`fits`).
    ///
    /// - Precondition: `shape.c >= 16`; 3×3, stride 1, dilation 1, depth multiplier 1,
    ///   `padTop + padBottom == 2`, `padLeft + padRight == 2`; `scratch` holds
    ///   `min(3, shape.h)` rows of `shape.w * shape.c` bytes and does not overlap `data`.
    @usableFromInline
    static func runInPlace(
        data: UnsafeMutablePointer<Int8>, shape: TensorShape, inputZeroPoint: Int32, packed: UnsafeRawPointer,
        requantization: Requantization, padTop: Int, padLeft: Int, scratch: UnsafeMutablePointer<Int8>
    ) -> Bool {
        let channels = shape.c
        guard fits(packed: packed, channels: channels, requantization: requantization) else { return false }
        let call = Call(inputZeroPoint: inputZeroPoint, requantization: requantization)
        let cPad = DepthwiseConv.paddedChannels(channels)
        let rowBytes = shape.w * channels
        for n in 0..<shape.n {
            let image = data + n * shape.h * rowBytes
            var oy = 0
            while oy < shape.h {
                UnsafeMutableRawPointer(scratch + (oy % 3) * rowBytes).copyMemory(from: image + oy * rowBytes, byteCount: rowBytes)
                let y0 = oy - padTop
                @inline(__always) func source(_ y: Int) -> UnsafePointer<Int8> {
                    y < 0 || y >= shape.h ? UnsafePointer(scratch)
                        : y <= oy ? UnsafePointer(scratch + (y % 3) * rowBytes) : UnsafePointer(image + y * rowBytes)
                }
                // Two rows per pass when both windows are inside the input and the ring holds
                // their rows: rows oy and oy + 1 copied (slot (oy + 1) % 3 held row oy - 2,
                // which neither reads for padTop <= 1), rows below from the tensor.
                if padTop <= 1 && y0 >= 0 && y0 + 3 < shape.h {
                    UnsafeMutableRawPointer(scratch + ((oy + 1) % 3) * rowBytes).copyMemory(from: image + (oy + 1) * rowBytes, byteCount: rowBytes)
                    @inline(__always) func copied(_ y: Int) -> UnsafePointer<Int8> {
                        y <= oy + 1 ? UnsafePointer(scratch + (y % 3) * rowBytes) : UnsafePointer(image + y * rowBytes)
                    }
                    row(copied(y0), copied(y0 + 1), copied(y0 + 2), valid0: true, valid1: true, valid2: true,
                        inputWidth: shape.w, channels: channels, stride: 1, padLeft: padLeft,
                        output: image + oy * rowBytes, outputWidth: shape.w, packed: packed, cPad: cPad,
                        call: call, requantization: requantization,
                        nextRow: copied(y0 + 3), nextOutput: image + (oy + 1) * rowBytes)
                    oy += 2
                    continue
                }
                row(source(y0), source(y0 + 1), source(y0 + 2),
                    valid0: y0 >= 0 && y0 < shape.h, valid1: y0 + 1 >= 0 && y0 + 1 < shape.h, valid2: y0 + 2 >= 0 && y0 + 2 < shape.h,
                    inputWidth: shape.w, channels: channels, stride: 1, padLeft: padLeft,
                    output: image + oy * rowBytes, outputWidth: shape.w, packed: packed, cPad: cPad,
                    call: call, requantization: requantization)
                oy += 1
            }
        }
        return true
    }

    /// One output row of a fused block's depthwise stage (`InvertedResidual`) from a ring
    /// of expanded rows: row `y` of the stage's input lives in slot `y % ringRows` of
    /// `ring` (slots of `inputWidth * channels` bytes); the output row reads rows `top`,
    /// `top + 1`, `top + 2`, those outside `0 ..< height` as padding.
    ///
    /// - Precondition: as `run` (3×3, stride 1 or 2 on both axes, dilation 1, multiplier 1,
    ///   at least 16 channels, `fits`); every row of `max(top, 0) ... min(top + 2, height - 1)`
    ///   is in its slot.
    @usableFromInline
    static func ringRow(
        ring: UnsafePointer<Int8>, ringRows: Int, top: Int, height: Int, inputWidth: Int, channels: Int,
        stride: Int, padLeft: Int, inputZeroPoint: Int32, packed: UnsafeRawPointer, requantization: Requantization,
        output: UnsafeMutablePointer<Int8>, outputWidth: Int
    ) {
        let call = Call(inputZeroPoint: inputZeroPoint, requantization: requantization)
        let rowBytes = inputWidth * channels
        let v0 = top >= 0 && top < height, v1 = top + 1 >= 0 && top + 1 < height, v2 = top + 2 >= 0 && top + 2 < height
        let r0 = v0 ? ring + (top % ringRows) * rowBytes : ring
        let r1 = v1 ? ring + ((top + 1) % ringRows) * rowBytes : ring
        let r2 = v2 ? ring + ((top + 2) % ringRows) * rowBytes : ring
        let cPad = DepthwiseConv.paddedChannels(channels)
        if stride == 1 {
            row(r0, r1, r2, valid0: v0, valid1: v1, valid2: v2, inputWidth: inputWidth, channels: channels, stride: 1,
                padLeft: padLeft, output: output, outputWidth: outputWidth, packed: packed, cPad: cPad,
                call: call, requantization: requantization)
        } else {
            row(r0, r1, r2, valid0: v0, valid1: v1, valid2: v2, inputWidth: inputWidth, channels: channels, stride: 2,
                padLeft: padLeft, output: output, outputWidth: outputWidth, packed: packed, cPad: cPad,
                call: call, requantization: requantization)
        }
    }

    /// `DepthwiseAVX2Output.rounded` on `count` (a multiple of 8) accumulators with their
    /// own multipliers and shifts, written to `output` (for the lane-by-lane tests); `.short`
    /// needs every multiplier in `ShortMultiplier`'s form.
    /// - Precondition: `|acc| · 2^max(shift, 0) ≤ 2^29`, shifts within -31...31, no
    ///   multiplier `Int32.min`.
    @usableFromInline
    static func roundedForTesting(
        accumulators: UnsafePointer<Int32>, multipliers: UnsafePointer<Int32>, shifts: UnsafePointer<Int32>,
        count: Int, output: UnsafeMutablePointer<Int32>, mode: DepthwiseOutputMode = .shifting
    ) {
        precondition(count % 8 == 0, "roundedForTesting: count not a multiple of 8")
        @inline(__always) func load(_ p: UnsafePointer<Int32>) -> __m256i {
            _mm256_loadu_si256(UnsafeRawPointer(p).assumingMemoryBound(to: __m256i.self))
        }
        for i in stride(from: 0, to: count, by: 8) {
            let (m, s) = (load(multipliers + i), load(shifts + i))
            let short = mode == .short
            precondition(!short || DepthwiseAVX2Output.hasShortForm(multipliers: m, shifts: s), "roundedForTesting: a multiplier without the 32-bit form")
            let stage = DepthwiseAVX2Output(multipliers: m, shifts: s, short: short)
            let acc = load(accumulators + i)
            let y = stage.rounded(short ? acc : _mm256_add_epi32(acc, acc), mode)
            _mm256_storeu_si256(UnsafeMutableRawPointer(output + i).assumingMemoryBound(to: __m256i.self), y)
        }
    }
}
#endif
