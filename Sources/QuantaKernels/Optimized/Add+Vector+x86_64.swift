#if arch(x86_64) && QUANTA_AVX2
import _Builtin_intrinsics.intel

/// One add input's scaling for 8 lanes (`ShortMultiplier.addInputRounded`): `(q - zp) · (M >> 9)`,
/// plus the rounding term of its sign (`vblendvps`), `>> (2 + e)` — exact for every int8 `q`.
@frozen @usableFromInline
struct AVX2AddInputScale {
    @usableFromInline var zeroPoint: __m256i, multiplier: __m256i, positive: __m256i, negative: __m256i, shift: __m256i

    /// - Precondition: `ShortMultiplier.appliesToAddInput(multiplier:shift:leftShift: 20)`.
    @inline(__always) @usableFromInline
    init(zeroPoint: Int32, multiplier: Int32, shift: Int32) {
        let (p, n) = ShortMultiplier.addInputTerms(exponent: -shift)
        self.zeroPoint = _mm256_set1_epi32(zeroPoint)
        self.multiplier = _mm256_set1_epi32(multiplier >> ShortMultiplier.addInputZeroBits)
        positive = _mm256_set1_epi32(p)
        negative = _mm256_set1_epi32(n)
        self.shift = _mm256_set1_epi32(2 - shift)
    }

    /// The scaled values of the 8 int8 at `p`.
    @inline(__always) @usableFromInline
    func scaled(_ p: UnsafePointer<Int8>) -> __m256i {
        let q = _mm256_cvtepi8_epi32(_mm_loadl_epi64(UnsafeRawPointer(p).assumingMemoryBound(to: __m128i.self)))
        let v = _mm256_mullo_epi32(_mm256_sub_epi32(q, zeroPoint), multiplier)
        let term = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(positive), _mm256_castsi256_ps(negative), _mm256_castsi256_ps(v)))
        return _mm256_srav_epi32(_mm256_add_epi32(v, term), shift)
    }
}

extension VectorAdd {
    /// The AVX2 add for what `quanta quantize` writes (left shift 20, input multipliers in
    /// `ShortMultiplier`'s add-input form): each input scaled with `vpmulld`, one rounding
    /// term by sign (`vblendvps`), one shift — exact for every int8 input — the sum through
    /// the GEMM's output stage (`AVX2PlainRounding`, `AVX2GEMMOutput.store16`), 16 lanes per
    /// step. Returns how many leading elements it wrote (a multiple of 16; 0 when the
    /// constants are not in that form).
    ///
    /// Same bits as `Int8Reference.add`; `output` may alias an input exactly (each block of
    /// 16 is read before it is written).
    @usableFromInline
    static func runAVX2(
        input1: UnsafePointer<Int8>, input2: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int8>,
        count: Int, quantization q: AddQuantization
    ) -> Int {
        guard ShortMultiplier.appliesToAddInput(multiplier: q.input1Multiplier, shift: q.input1Shift, leftShift: q.leftShift),
              ShortMultiplier.appliesToAddInput(multiplier: q.input2Multiplier, shift: q.input2Shift, leftShift: q.leftShift),
              q.outputMultiplier >= 0, q.outputShift <= 0, q.outputShift >= -31, count >= 16
        else { return 0 }
        let a = AVX2AddInputScale(zeroPoint: q.input1ZeroPoint, multiplier: q.input1Multiplier, shift: q.input1Shift)
        let b = AVX2AddInputScale(zeroPoint: q.input2ZeroPoint, multiplier: q.input2Multiplier, shift: q.input2Shift)
        return withUnsafePointer(to: q.outputMultiplier) { m in
            withUnsafePointer(to: q.outputShift) { s in
                let stage = AVX2GEMMOutput(
                    Requantization(multipliers: m, shifts: s, channelCount: 1, outputZeroPoint: q.outputZeroPoint,
                                   clampMin: q.clampMin, clampMax: q.clampMax), first: 0, count: 16)
                let out = AVX2PlainRounding(stage, 0, count: 8)
                let blocks = count & ~15
                var i = 0
                while i < blocks {
                    let lo = _mm256_add_epi32(a.scaled(input1 + i), b.scaled(input2 + i))
                    let hi = _mm256_add_epi32(a.scaled(input1 + i + 8), b.scaled(input2 + i + 8))
                    stage.store16(out.rounded(lo), out.rounded(hi), output + i, count: 16)
                    i += 16
                }
                return blocks
            }
        }
    }
}
#endif
