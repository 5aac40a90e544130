#if arch(x86_64) && QUANTA_AVX2
import _Builtin_intrinsics.intel

// The AVX2 GEMM kernel (x86_64 builds with `-Xcc -mavx2`, which Package.swift passes
// together with `-D QUANTA_AVX2`): 6 rows × 16 channels per tile, 12 ymm accumulators,
// `vpmovsxbw` weights, `vpbroadcastd` int16 pairs of A, `vpmaddwd` + `vpaddd`.

extension PointwiseGEMM {
    /// The AVX2 kernel; same results as `runPortable` and `Int8Reference.conv2D`.
    ///
    /// Rows go 6 at a time (converted to int16 once into the panel); for each pair of
    /// 8-column blocks the output stage is prepared once per panel, then the tile runs.
    public static func runAVX2(_ g: GEMMOperands) {
        precondition(g.rows >= 0 && g.depth >= 1 && g.columns >= 1, "PointwiseGEMM: empty operand")
        let chunk = 6  // one tile per panel fill (the panel holds `panelRows` = 8 rows)
        var row = 0
        while row < g.rows {
            let rows = min(chunk, g.rows - row)
            fillPanel(g, firstRow: row, count: rows)
            panelAVX2(g, firstRow: row, rows: rows)
            row += chunk
        }
    }

    @inline(never) @usableFromInline
    static func panelAVX2(_ g: GEMMOperands, firstRow: Int, rows: Int) {
        let nPad = paddedColumns(g.columns)
        let blocks = nPad / 8
        let rowBytes = paddedDepth(g.depth) * 2
        var block = 0
        while block + 1 < blocks {
            let n0 = block * 8
            let valid = min(16, g.columns - n0)
            let qa = AVX2Requantization(g.requantization, first: g.channelOffset + n0, count: valid)
            let qb = AVX2Requantization(g.requantization, first: g.channelOffset + n0 + 8, count: valid - 8)
            var r = 0
            while r < rows {
                tile16AVX2(g, panel: UnsafeRawPointer(g.panel) + r * rowBytes, rows: min(6, rows - r),
                           firstRow: firstRow + r, block: block, qa: qa, qb: qb)
                r += 6
            }
            block += 2
        }
        if block < blocks {
            let n0 = block * 8
            let qa = AVX2Requantization(g.requantization, first: g.channelOffset + n0, count: min(8, g.columns - n0))
            var r = 0
            while r < rows {
                tile8AVX2(g, panel: UnsafeRawPointer(g.panel) + r * rowBytes, rows: min(6, rows - r),
                          firstRow: firstRow + r, block: block, qa: qa)
                r += 6
            }
        }
    }

    /// Up to 6 rows (panel rows from `panel`) × the 16 columns of blocks `block`, `block + 1`.
    @inline(__always) @usableFromInline
    static func tile16AVX2(
        _ g: GEMMOperands, panel: UnsafeRawPointer, rows: Int, firstRow: Int, block: Int,
        qa: AVX2Requantization, qb: AVX2Requantization
    ) {
        let kPad = paddedDepth(g.depth)
        let kPairs = kPad / 2
        let nPad = paddedColumns(g.columns)
        let weights = UnsafeRawPointer(g.packed) + 4 * nPad
        let rowBytes = kPad * 2
        let p0 = panel
        let p1 = panel + min(1, rows - 1) * rowBytes
        let p2 = panel + min(2, rows - 1) * rowBytes
        let p3 = panel + min(3, rows - 1) * rowBytes
        let p4 = panel + min(4, rows - 1) * rowBytes
        let p5 = panel + min(5, rows - 1) * rowBytes
        let wa = weights + block * 8 * kPad
        let wb = wa + 8 * kPad
        var c00 = _mm256_setzero_si256(), c01 = _mm256_setzero_si256()
        var c10 = _mm256_setzero_si256(), c11 = _mm256_setzero_si256()
        var c20 = _mm256_setzero_si256(), c21 = _mm256_setzero_si256()
        var c30 = _mm256_setzero_si256(), c31 = _mm256_setzero_si256()
        var c40 = _mm256_setzero_si256(), c41 = _mm256_setzero_si256()
        var c50 = _mm256_setzero_si256(), c51 = _mm256_setzero_si256()
        for pair in 0..<kPairs {
            let va = _mm256_cvtepi8_epi16(loadu128(wa + 16 * pair))
            let vb = _mm256_cvtepi8_epi16(loadu128(wb + 16 * pair))
            var x = _mm256_set1_epi32(p0.loadUnaligned(fromByteOffset: 4 * pair, as: Int32.self))
            c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(va, x))
            c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(vb, x))
            x = _mm256_set1_epi32(p1.loadUnaligned(fromByteOffset: 4 * pair, as: Int32.self))
            c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(va, x))
            c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(vb, x))
            x = _mm256_set1_epi32(p2.loadUnaligned(fromByteOffset: 4 * pair, as: Int32.self))
            c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(va, x))
            c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(vb, x))
            x = _mm256_set1_epi32(p3.loadUnaligned(fromByteOffset: 4 * pair, as: Int32.self))
            c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(va, x))
            c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(vb, x))
            x = _mm256_set1_epi32(p4.loadUnaligned(fromByteOffset: 4 * pair, as: Int32.self))
            c40 = _mm256_add_epi32(c40, _mm256_madd_epi16(va, x))
            c41 = _mm256_add_epi32(c41, _mm256_madd_epi16(vb, x))
            x = _mm256_set1_epi32(p5.loadUnaligned(fromByteOffset: 4 * pair, as: Int32.self))
            c50 = _mm256_add_epi32(c50, _mm256_madd_epi16(va, x))
            c51 = _mm256_add_epi32(c51, _mm256_madd_epi16(vb, x))
        }
        let n0 = block * 8
        let valid = min(16, g.columns - n0)
        let ba = loadu256(UnsafeRawPointer(g.packed) + 4 * n0)
        let bb = loadu256(UnsafeRawPointer(g.packed) + 4 * n0 + 32)
        let o = g.output + firstRow * g.outputRowStride + n0
        let s = g.outputRowStride
        qa.storeRounded16(qa.rounded(_mm256_add_epi32(c00, ba)), qb.rounded(_mm256_add_epi32(c01, bb)), o, count: valid)
        if rows > 1 { qa.storeRounded16(qa.rounded(_mm256_add_epi32(c10, ba)), qb.rounded(_mm256_add_epi32(c11, bb)), o + s, count: valid) }
        if rows > 2 { qa.storeRounded16(qa.rounded(_mm256_add_epi32(c20, ba)), qb.rounded(_mm256_add_epi32(c21, bb)), o + 2 * s, count: valid) }
        if rows > 3 { qa.storeRounded16(qa.rounded(_mm256_add_epi32(c30, ba)), qb.rounded(_mm256_add_epi32(c31, bb)), o + 3 * s, count: valid) }
        if rows > 4 { qa.storeRounded16(qa.rounded(_mm256_add_epi32(c40, ba)), qb.rounded(_mm256_add_epi32(c41, bb)), o + 4 * s, count: valid) }
        if rows > 5 { qa.storeRounded16(qa.rounded(_mm256_add_epi32(c50, ba)), qb.rounded(_mm256_add_epi32(c51, bb)), o + 5 * s, count: valid) }
    }

    /// Up to 6 rows × the last (odd) 8-column block.
    @inline(__always) @usableFromInline
    static func tile8AVX2(
        _ g: GEMMOperands, panel: UnsafeRawPointer, rows: Int, firstRow: Int, block: Int, qa: AVX2Requantization
    ) {
        let kPad = paddedDepth(g.depth)
        let kPairs = kPad / 2
        let nPad = paddedColumns(g.columns)
        let rowBytes = kPad * 2
        let p0 = panel
        let p1 = panel + min(1, rows - 1) * rowBytes
        let p2 = panel + min(2, rows - 1) * rowBytes
        let p3 = panel + min(3, rows - 1) * rowBytes
        let p4 = panel + min(4, rows - 1) * rowBytes
        let p5 = panel + min(5, rows - 1) * rowBytes
        let wa = UnsafeRawPointer(g.packed) + 4 * nPad + block * 8 * kPad
        var c0 = _mm256_setzero_si256(), c1 = _mm256_setzero_si256(), c2 = _mm256_setzero_si256()
        var c3 = _mm256_setzero_si256(), c4 = _mm256_setzero_si256(), c5 = _mm256_setzero_si256()
        for pair in 0..<kPairs {
            let va = _mm256_cvtepi8_epi16(loadu128(wa + 16 * pair))
            c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(va, _mm256_set1_epi32(p0.loadUnaligned(fromByteOffset: 4 * pair, as: Int32.self))))
            c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(va, _mm256_set1_epi32(p1.loadUnaligned(fromByteOffset: 4 * pair, as: Int32.self))))
            c2 = _mm256_add_epi32(c2, _mm256_madd_epi16(va, _mm256_set1_epi32(p2.loadUnaligned(fromByteOffset: 4 * pair, as: Int32.self))))
            c3 = _mm256_add_epi32(c3, _mm256_madd_epi16(va, _mm256_set1_epi32(p3.loadUnaligned(fromByteOffset: 4 * pair, as: Int32.self))))
            c4 = _mm256_add_epi32(c4, _mm256_madd_epi16(va, _mm256_set1_epi32(p4.loadUnaligned(fromByteOffset: 4 * pair, as: Int32.self))))
            c5 = _mm256_add_epi32(c5, _mm256_madd_epi16(va, _mm256_set1_epi32(p5.loadUnaligned(fromByteOffset: 4 * pair, as: Int32.self))))
        }
        let n0 = block * 8
        let valid = min(8, g.columns - n0)
        let ba = loadu256(UnsafeRawPointer(g.packed) + 4 * n0)
        let o = g.output + firstRow * g.outputRowStride + n0
        let s = g.outputRowStride
        store8(qa.apply(_mm256_add_epi32(c0, ba)), o, count: valid)
        if rows > 1 { store8(qa.apply(_mm256_add_epi32(c1, ba)), o + s, count: valid) }
        if rows > 2 { store8(qa.apply(_mm256_add_epi32(c2, ba)), o + 2 * s, count: valid) }
        if rows > 3 { store8(qa.apply(_mm256_add_epi32(c3, ba)), o + 3 * s, count: valid) }
        if rows > 4 { store8(qa.apply(_mm256_add_epi32(c4, ba)), o + 4 * s, count: valid) }
        if rows > 5 { store8(qa.apply(_mm256_add_epi32(c5, ba)), o + 5 * s, count: valid) }
    }

    @inline(__always) @usableFromInline
    static func loadu128(_ p: UnsafeRawPointer) -> __m128i {
        _mm_loadu_si128(p.assumingMemoryBound(to: __m128i.self))
    }

    @inline(__always) @usableFromInline
    static func loadu256(_ p: UnsafeRawPointer) -> __m256i {
        _mm256_loadu_si256(p.assumingMemoryBound(to: __m256i.self))
    }

    /// Stores the first `count` of 16 int32 lanes (`a` then `b`, all within -128...127) as bytes.
    @inline(__always) @usableFromInline
    static func store16(_ a: __m256i, _ b: __m256i, _ p: UnsafeMutablePointer<Int8>, count: Int) {
        let words = _mm256_permutevar8x32_epi32(_mm256_packs_epi32(a, b), _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7))
        let bytes = _mm_packs_epi16(_mm256_castsi256_si128(words), __m128i(words[2], words[3]))
        if count >= 16 {
            _mm_storeu_si128(UnsafeMutableRawPointer(p).assumingMemoryBound(to: __m128i.self), bytes)
        } else {
            let v = unsafeBitCast(bytes, to: SIMD16<Int8>.self)
            for i in 0..<count { p[i] = v[i] }
        }
    }

    /// Stores the first `count` (at most 8) int32 lanes (within -128...127) as bytes.
    @inline(__always) @usableFromInline
    static func store8(_ a: __m256i, _ p: UnsafeMutablePointer<Int8>, count: Int) {
        let v = unsafeBitCast(a, to: SIMD8<Int32>.self)
        VectorMath.store8(v, p, count: count)
    }
}

/// `RequantizationBlock8` in AVX2 registers (same formula, see there): `vpsllvd`, two
/// `vpmuldq` for the 64-bit products of even and odd lanes, `vpsravd`, compare, clamp.
@frozen @usableFromInline
struct AVX2Requantization {
    @usableFromInline var multiplier: __m256i
    @usableFromInline var multiplierOdd: __m256i
    @usableFromInline var multiplierIsMin: __m256i
    @usableFromInline var left: __m256i
    @usableFromInline var right: __m256i
    @usableFromInline var mask: __m256i
    @usableFromInline var halfMask: __m256i
    @usableFromInline var low: __m256i
    @usableFromInline var high: __m256i
    @usableFromInline var zeroPoint: __m256i
    @usableFromInline var maySaturate: Bool
    /// Whether any lane shifts left (a multiplier above one); when none does, `vpsllvd` is skipped.
    @usableFromInline var shiftsLeft: Bool
    /// The zero point in 16 int16 lanes, the clamp bounds in 16 int8 lanes (`storeRounded16`).
    @usableFromInline var zeroPoint16: __m256i
    @usableFromInline var clampMin8: __m128i
    @usableFromInline var clampMax8: __m128i

    @inline(__always) @usableFromInline
    init(_ r: Requantization, first: Int, count: Int) {
        self.init(block: RequantizationBlock8(r, first: first, count: count))
    }

    @inline(__always) @usableFromInline
    init(block b: RequantizationBlock8) {
        multiplier = unsafeBitCast(b.multiplier, to: __m256i.self)
        multiplierOdd = _mm256_srli_epi64(multiplier, 32)
        multiplierIsMin = _mm256_cmpeq_epi32(multiplier, _mm256_set1_epi32(Int32.min))
        left = unsafeBitCast(b.left, to: __m256i.self)
        right = unsafeBitCast(b.right, to: __m256i.self)
        mask = unsafeBitCast(b.mask, to: __m256i.self)
        halfMask = unsafeBitCast(b.halfMask, to: __m256i.self)
        low = unsafeBitCast(b.low, to: __m256i.self)
        high = unsafeBitCast(b.high, to: __m256i.self)
        zeroPoint = unsafeBitCast(b.zeroPoint, to: __m256i.self)
        maySaturate = b.maySaturate
        var anyLeft: Int32 = 0
        for i in 0..<8 { anyLeft |= b.left[i] }
        shiftsLeft = anyLeft != 0
        let zp = b.zeroPoint[0]
        zeroPoint16 = _mm256_set1_epi16(Int16(truncatingIfNeeded: zp))
        clampMin8 = _mm_set1_epi8(Int8(truncatingIfNeeded: b.low[0] &+ zp))
        clampMax8 = _mm_set1_epi8(Int8(truncatingIfNeeded: b.high[0] &+ zp))
    }

    /// `RequantizationBlock8(r, first:count:channelStride:)` in AVX2 registers.
    @inline(__always) @usableFromInline
    init(_ r: Requantization, first: Int, count: Int, channelStride: Int) {
        self.init(block: RequantizationBlock8(r, first: first, count: count, channelStride: channelStride))
    }

    /// `apply` on portable vectors (the bit casts are free).
    @inline(__always) @usableFromInline
    func apply(_ acc: SIMD8<Int32>) -> SIMD8<Int32> {
        unsafeBitCast(apply(unsafeBitCast(acc, to: __m256i.self)), to: SIMD8<Int32>.self)
    }

    @inline(__always) @usableFromInline
    func apply(_ acc: __m256i) -> __m256i {
        _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(rounded(acc), low), high), zeroPoint)
    }

    /// `RDBPOT(SRDHM(acc << left, M), right)`: the output before the zero point and clamp.
    @inline(__always) @usableFromInline
    func rounded(_ acc: __m256i) -> __m256i {
        let x = shiftsLeft ? _mm256_sllv_epi32(acc, left) : acc
        let nudge = _mm256_set1_epi64x(1 << 30)
        let even = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epi32(x, multiplier), nudge), 31)
        let odd = _mm256_slli_epi64(
            _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), multiplierOdd), nudge), 1)
        var r = _mm256_blendv_epi8(even, odd, _mm256_set1_epi64x(-1 << 32))
        if maySaturate {
            let saturate = _mm256_and_si256(_mm256_cmpeq_epi32(x, _mm256_set1_epi32(Int32.min)), multiplierIsMin)
            r = _mm256_xor_si256(r, saturate)  // 0x8000_0000 (wrapped 2^31) becomes Int32.max
        }
        let remainder = _mm256_and_si256(r, mask)
        let threshold = _mm256_sub_epi32(halfMask, _mm256_srai_epi32(r, 31))
        return _mm256_sub_epi32(_mm256_srav_epi32(r, right), _mm256_cmpgt_epi32(remainder, threshold))
    }

    /// Stores the first `count` of 16 outputs from `rounded` lanes `a` then `b` (channels
    /// sharing this zero point and clamp): saturating packs to int16, saturating add of the
    /// zero point, saturating pack to int8, then the clamp on bytes. Equals `apply`'s
    /// `clamp(y + zp)` for every int32 y: a lane outside int16 stays outside int8 after the
    /// zero point (|zp| ≤ 128), and the clamp bounds are int8.
    @inline(__always) @usableFromInline
    func storeRounded16(_ a: __m256i, _ b: __m256i, _ p: UnsafeMutablePointer<Int8>, count: Int) {
        let words = _mm256_permutevar8x32_epi32(
            _mm256_adds_epi16(_mm256_packs_epi32(a, b), zeroPoint16), _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7))
        var bytes = _mm_packs_epi16(_mm256_castsi256_si128(words), __m128i(words[2], words[3]))
        bytes = _mm_min_epi8(_mm_max_epi8(bytes, clampMin8), clampMax8)
        if count >= 16 {
            _mm_storeu_si128(UnsafeMutableRawPointer(p).assumingMemoryBound(to: __m128i.self), bytes)
        } else {
            let v = unsafeBitCast(bytes, to: SIMD16<Int8>.self)
            for i in 0..<count { p[i] = v[i] }
        }
    }
}
/// The output stage the depthwise kernels use on this target.
@usableFromInline typealias Requantizer8 = AVX2Requantization

extension VectorMath {
    /// Writes 16 lanes (`a` then `b`, within -128...127) as 16 bytes.
    @inline(__always) @usableFromInline
    static func store16(_ a: SIMD8<Int32>, _ b: SIMD8<Int32>, _ p: UnsafeMutablePointer<Int8>) {
        PointwiseGEMM.store16(unsafeBitCast(a, to: __m256i.self), unsafeBitCast(b, to: __m256i.self), p, count: 16)
    }
}
#else
/// The output stage the depthwise kernels use on this target.
@usableFromInline typealias Requantizer8 = RequantizationBlock8

extension VectorMath {
    /// Writes 16 lanes (`a` then `b`, within -128...127) as 16 bytes.
    @inline(__always) @usableFromInline
    static func store16(_ a: SIMD8<Int32>, _ b: SIMD8<Int32>, _ p: UnsafeMutablePointer<Int8>) {
        store8(a, p, count: 8)
        store8(b, p + 8, count: 8)
    }
}
#endif
