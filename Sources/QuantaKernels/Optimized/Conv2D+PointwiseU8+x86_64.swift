#if arch(x86_64) && QUANTA_AVX2
import _Builtin_intrinsics.intel

/// `PointwiseU8GEMM`'s layout: uint8 panel rows (A xor 0x80), weights as int8 k-quads (32
/// bytes per step and block); `vpbroadcastd` of a row's 4 bytes, `vpmaddubsw` (u8 × s8 pairs
/// to int16, exact for pair-bounded weights), `vpmaddwd` with ones (pairs to int32),
/// `vpaddd`: 42 FP-pipe instructions per 384 products against the pair loop's 64.
@frozen @usableFromInline
enum AVX2QuadLoop: AVX2GEMMLoop {
    @inline(__always) @usableFromInline
    static func steps(depth k: Int) -> Int { PointwiseU8GEMM.paddedDepth(k) / 4 }
    @inline(__always) @usableFromInline
    static func rowBytes(depth k: Int) -> Int { PointwiseU8GEMM.paddedDepth(k) }
    @inline(__always) @usableFromInline
    static func blockBytes(depth k: Int) -> Int { PointwiseU8GEMM.paddedDepth(k) * 8 }
    @inline(__always) @usableFromInline
    static func fillPanel(_ g: GEMMOperands, firstRow: Int, count: Int) { PointwiseU8GEMM.fillPanel(g, firstRow: firstRow, count: count) }
    @inline(__always) @usableFromInline
    static func broadcast(_ row: UnsafeRawPointer, _ step: Int) -> __m256i {
        _mm256_set1_epi32(row.loadUnaligned(fromByteOffset: 4 &* step, as: Int32.self))
    }
    @inline(__always) @usableFromInline
    static func weights(_ block: UnsafeRawPointer, _ step: Int) -> __m256i {
        PointwiseGEMM.loadu256(block + 32 &* step)
    }
    @inline(__always) @usableFromInline
    static func add(_ c0: inout __m256i, _ c1: inout __m256i, _ va: __m256i, _ vb: __m256i, _ x0: __m256i, _ x1: __m256i) {
        let ones = _mm256_set1_epi16(1)
        c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(_mm256_maddubs_epi16(x0, va), ones))
        c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(_mm256_maddubs_epi16(x1, vb), ones))
    }
}

extension PointwiseU8GEMM {
    /// The AVX2 kernel: `PointwiseGEMM`'s tiles and output stage over this layout
    /// (`AVX2QuadLoop`); same results as `runPortable` for pair-bounded weights.
    public static func runAVX2(_ g: GEMMOperands) {
        PointwiseGEMM.runAVX2(g, AVX2QuadLoop.self)
    }
}
#endif
