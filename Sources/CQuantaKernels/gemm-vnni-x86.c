// qs8 GEMM on x86_64 with AVX-512 VNNI (`vpdpbusd`: 4 u8 x s8 products summed into each
// int32 lane), chosen at run time (cpuid and the OS's XSAVE state): Zen 4, Ice Lake and
// later. 256-bit EVEX forms (AVX-512VL: 32 registers), which Zen 4 runs at two per cycle.
//
// A's bytes are made unsigned by flipping their sign bit (a + 128, `vpxord` after each
// broadcast), so each lane sums (a + 128) * w; the 128 * sum(w) this adds per column is
// taken off the folded bias once per call. Exact for any int8 operands: every product and
// sum is an int32 (|acc| <= bias + 255 * 128 * depth).
//
// Per 4 values of k and a tile of 12 rows x 16 columns: 2 loads of the block pair's
// zipped weights, per row `vpbroadcastd` + `vpxord` + 2 x `vpdpbusd` (24 accumulators).
// The block pair's weights are zipped once per call from PointwiseGEMM's k-pairs into
// k-quads on the stack; the output stage is TFLite's (as requantization-neon.h), or
// ShortMultiplier's merged 32-bit form where every channel has it, 8 channels per vector.
#if defined(__x86_64__)
#include "quanta_kernels.h"

#include <cpuid.h>
#include <immintrin.h>

#define QUANTA_VNNI __attribute__((target("avx2,avx512f,avx512vl,avx512bw,avx512vnni")))

enum { QUANTA_VNNI_TILE = 12, QUANTA_VNNI_MAX_QUADS = 512 };

static int isa_forced = -1;  // -1: QUANTA_ISA and the CPU decide; 0: AVX2 only; 1: VNNI where present

void quanta_x86_force_isa(int level) { isa_forced = level; }

static int cpu_has_vnni(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0;  // OSXSAVE
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    const int f = (b >> 16) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1, vnni = (c >> 11) & 1;
    if (!(f && bw && vl && vnni)) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    // XMM, YMM, opmask, ZMM_Hi256 and Hi16_ZMM state enabled by the OS.
    return (lo & 0xE6) == 0xE6;
}

extern char **environ;

/// Whether the environment holds exactly QUANTA_ISA=avx2 (scanned by hand: getenv brings
/// 20 KB of static glibc into the runtime).
static int isa_is_avx2(void) {
    static const char key[] = "QUANTA_ISA=avx2";
    for (char **e = environ; e && *e; e++) {
        const char *v = *e;
        int i = 0;
        while (key[i] && v[i] == key[i]) i++;
        if (!key[i] && !v[i]) return 1;
    }
    return 0;
}

int quanta_x86_has_vnni(void) {
    static int known = -1;
    if (isa_forced >= 0) return isa_forced == 1 && cpu_has_vnni();
    if (known < 0) known = isa_is_avx2() ? 0 : cpu_has_vnni();
    return known;
}

/// TFLite's output stage on 8 int32 lanes (requantization-neon.h's steps): x = acc << left
/// (wrapping), r = SRDHM(x, m) = (x * m + 2^30) >> 31 (64-bit; m >= 0, so never the
/// saturating case), RDBPOT(r, right) rounding half away from zero, + zp, clamp.
static inline QUANTA_VNNI __m256i requantize8(__m256i acc, __m256i m, __m256i left, __m256i right, __m256i zp,
                                              __m256i lo, __m256i hi) {
    const __m256i x = _mm256_sllv_epi32(acc, left);
    const __m256i round = _mm256_set1_epi64x(1LL << 30);
    const __m256i even = _mm256_srai_epi64(_mm256_add_epi64(_mm256_mul_epi32(x, m), round), 31);
    const __m256i odd = _mm256_srai_epi64(
        _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(m, 32)), round), 31);
    const __m256i r = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(_mm256_set1_epi32(1), right), _mm256_set1_epi32(1));
    const __m256i remainder = _mm256_and_si256(r, mask);
    const __m256i threshold = _mm256_sub_epi32(_mm256_srai_epi32(mask, 1), _mm256_srai_epi32(r, 31));
    const __m256i y = _mm256_sub_epi32(_mm256_srav_epi32(r, right), _mm256_cmpgt_epi32(remainder, threshold));
    return _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(y, zp), lo), hi);
}

/// The per-channel constants of 16 columns from channel `first` (lanes past `count` get
/// multiplier 0 and shift 0: their outputs are not stored).
typedef struct {
    __m256i m[2], left[2], right[2], zp, lo, hi;
    // ShortMultiplier's 32-bit form, where every channel of the pair of blocks has it:
    // the shortened multiplier, the input bound and the two rounding terms.
    int short_form;
    __m256i sm[2], bound[2], rpos[2], rneg[2];
} vnni_stage;

/// ShortMultiplier.rounded (Sources/QuantaKernels/FixedPoint/ShortMultiplier.swift): for
/// multipliers divisible by 2^(9 + e) (e = -shift, 0...21) the two roundings merge into
/// (clamp(x, -X, X) * m + (x < 0 ? rNeg : rPos)) >> 22, equal to TFLite's stage wherever
/// that lies within +-255 (and beyond it on the same side: the same bytes after the clamp).
static inline QUANTA_VNNI __m256i requantize8_short(__m256i acc, __m256i m, __m256i bound, __m256i rpos, __m256i rneg,
                                                    __m256i zp, __m256i lo, __m256i hi) {
    const __m256i x = _mm256_min_epi32(_mm256_max_epi32(acc, _mm256_sub_epi32(_mm256_setzero_si256(), bound)), bound);
    const __mmask8 negative = _mm256_cmplt_epi32_mask(acc, _mm256_setzero_si256());
    const __m256i r = _mm256_mask_blend_epi32(negative, rpos, rneg);
    const __m256i y = _mm256_srai_epi32(_mm256_add_epi32(_mm256_mullo_epi32(x, m), r), 22);
    return _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(y, zp), lo), hi);
}

/// The stage of 16 columns from channel `first` (lanes past `count` get multiplier 0 and
/// shift 0: their outputs are not stored), with ShortMultiplier's 32-bit form where every
/// lane has it (-21 <= shift <= 0, multiplier >= 0 and divisible by 2^(9 - shift)). Vector
/// code: the fused blocks make one GEMM call per output row, each setting up its stages.
static inline QUANTA_VNNI vnni_stage stage_make(const quanta_requantization *r, long first, long count) {
    vnni_stage q;
    q.zp = _mm256_set1_epi32(r->zero_point);
    q.lo = _mm256_set1_epi32(r->clamp_min);
    q.hi = _mm256_set1_epi32(r->clamp_max);
    // Lanes past `count` zero; the per-channel values by masked loads (nothing read past
    // the call's channels), the one per-tensor value broadcast.
    const __mmask16 k = (__mmask16)(count >= 16 ? 0xFFFF : (1u << count) - 1u);
    __m256i m[2], sh[2];
    for (int h = 0; h < 2; h++) {
        const __mmask8 kh = (__mmask8)(k >> (8 * h));
        if (r->channel_count == 1) {
            m[h] = _mm256_maskz_mov_epi32(kh, _mm256_set1_epi32(r->multipliers[0]));
            sh[h] = _mm256_maskz_mov_epi32(kh, _mm256_set1_epi32(r->shifts[0]));
        } else {
            m[h] = _mm256_maskz_loadu_epi32(kh, r->multipliers + first + 8 * h);
            sh[h] = _mm256_maskz_loadu_epi32(kh, r->shifts + first + 8 * h);
        }
    }
    const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi32(1), nine = _mm256_set1_epi32(9);
    int short_form = 1;
    for (int h = 0; h < 2; h++) {
        q.m[h] = m[h];
        q.left[h] = _mm256_max_epi32(sh[h], zero);
        q.right[h] = _mm256_sub_epi32(zero, _mm256_min_epi32(sh[h], zero));
        // The 32-bit form: e = -shift in 0...21, the multiplier's low 9 + e bits zero.
        const __m256i e = q.right[h];
        const __m256i low = _mm256_sub_epi32(_mm256_sllv_epi32(one, _mm256_add_epi32(e, nine)), one);
        const __mmask8 fits = _mm256_cmple_epi32_mask(sh[h], zero) & _mm256_cmpge_epi32_mask(sh[h], _mm256_set1_epi32(-21))
                              & _mm256_cmpge_epi32_mask(m[h], zero) & _mm256_testn_epi32_mask(m[h], low);
        short_form &= fits == 0xFF;
        q.sm[h] = _mm256_srav_epi32(m[h], _mm256_add_epi32(e, nine));
        q.bound[h] = _mm256_sllv_epi32(_mm256_set1_epi32(510), e);
        const __m256i high = _mm256_maskz_mov_epi32(_mm256_cmpge_epi32_mask(e, one), _mm256_set1_epi32(1 << 21));
        q.rpos[h] = _mm256_add_epi32(_mm256_sllv_epi32(one, _mm256_sub_epi32(_mm256_set1_epi32(21), e)), high);
        q.rneg[h] = _mm256_sub_epi32(_mm256_set1_epi32(1 << 22), q.rpos[h]);
    }
    q.short_form = short_form;
    return q;
}

/// A's last, partial quad at row + 4 q (depth - 4 q bytes, 1...3): a masked load reads
/// only the bytes inside the row; the missing ones are 0 against zero weights.
static inline QUANTA_VNNI __m256i partial_quad(const int8_t *row, long q, long depth) {
    const __mmask16 bytes = (__mmask16)((1u << (depth - 4 * q)) - 1u);
    const __m128i v = _mm_maskz_loadu_epi8(bytes, row + 4 * q);
    return _mm256_xor_si256(_mm256_broadcastd_epi32(v), _mm256_set1_epi32((int32_t)0x80808080));
}

/// Rows row0 ..< row0 + rows (at most mr, a constant at each call; rows past `rows` repeat
/// the last one and are not stored) x the 16 columns of the zipped block pair `wq` (quads
/// of 16 columns x 4 bytes).
static inline __attribute__((always_inline)) QUANTA_VNNI void tile(const quanta_gemm *g, const int8_t *wq, long quads, long full,
                                                                   __m256i init0, __m256i init1, const vnni_stage *st, long row0,
                                                                   long rows, long n0, long valid, const int mr) {
    const int8_t *a[QUANTA_VNNI_TILE];
#pragma clang loop unroll(full)
    for (int r = 0; r < mr; r++) a[r] = g->a + (row0 + (r < rows ? r : rows - 1)) * g->a_stride;
    __m256i c0[QUANTA_VNNI_TILE], c1[QUANTA_VNNI_TILE];
#pragma clang loop unroll(full)
    for (int r = 0; r < mr; r++) {
        c0[r] = init0;
        c1[r] = init1;
    }
    const __m256i flip = _mm256_set1_epi32((int32_t)0x80808080);
    for (long q = 0; q < full; q++) {
        const __m256i w0 = _mm256_loadu_si256((const __m256i *)(wq + 64 * q));
        const __m256i w1 = _mm256_loadu_si256((const __m256i *)(wq + 64 * q + 32));
#pragma clang loop unroll(full)
        for (int r = 0; r < mr; r++) {
            int32_t v;
            __builtin_memcpy(&v, a[r] + 4 * q, 4);
            const __m256i x = _mm256_xor_si256(_mm256_set1_epi32(v), flip);
            c0[r] = _mm256_dpbusd_epi32(c0[r], x, w0);
            c1[r] = _mm256_dpbusd_epi32(c1[r], x, w1);
        }
    }
    if (full < quads) {
        const __m256i w0 = _mm256_loadu_si256((const __m256i *)(wq + 64 * full));
        const __m256i w1 = _mm256_loadu_si256((const __m256i *)(wq + 64 * full + 32));
#pragma clang loop unroll(full)
        for (int r = 0; r < mr; r++) {
            const __m256i x = partial_quad(a[r], full, g->depth);
            c0[r] = _mm256_dpbusd_epi32(c0[r], x, w0);
            c1[r] = _mm256_dpbusd_epi32(c1[r], x, w1);
        }
    }
    // The output stage row by row from memory (unrolled over 12 rows it was 10 KB of code).
    __m256i acc[QUANTA_VNNI_TILE][2];
#pragma clang loop unroll(full)
    for (int r = 0; r < mr; r++) {
        acc[r][0] = c0[r];
        acc[r][1] = c1[r];
    }
    const __mmask16 keep = (__mmask16)((1u << valid) - 1u);
#pragma clang loop unroll(disable)
    for (long r = 0; r < rows && r < mr; r++) {
        __m256i y0, y1;
        if (st->short_form) {
            y0 = requantize8_short(acc[r][0], st->sm[0], st->bound[0], st->rpos[0], st->rneg[0], st->zp, st->lo, st->hi);
            y1 = requantize8_short(acc[r][1], st->sm[1], st->bound[1], st->rpos[1], st->rneg[1], st->zp, st->lo, st->hi);
        } else {
            y0 = requantize8(acc[r][0], st->m[0], st->left[0], st->right[0], st->zp, st->lo, st->hi);
            y1 = requantize8(acc[r][1], st->m[1], st->left[1], st->right[1], st->zp, st->lo, st->hi);
        }
        const __m128i bytes = _mm_unpacklo_epi64(_mm256_cvtepi32_epi8(y0), _mm256_cvtepi32_epi8(y1));
        _mm_mask_storeu_epi8(g->out + (row0 + r) * g->out_stride + n0, keep, bytes);
    }
}

static __attribute__((noinline)) QUANTA_VNNI void tile12(const quanta_gemm *g, const int8_t *wq, long quads, long full,
                                                          __m256i init0, __m256i init1, const vnni_stage *st, long row0,
                                                          long n0, long valid) {
    tile(g, wq, quads, full, init0, init1, st, row0, 12, n0, valid, 12);
}

static __attribute__((noinline)) QUANTA_VNNI void tile4(const quanta_gemm *g, const int8_t *wq, long quads, long full,
                                                         __m256i init0, __m256i init1, const vnni_stage *st, long row0,
                                                         long rows, long n0, long valid) {
    tile(g, wq, quads, full, init0, init1, st, row0, rows, n0, valid, 4);
}

static QUANTA_VNNI void gemm_vnni(const quanta_gemm *g) {
    const long k = g->depth, kPad = (k + 1) & ~1L, nPad = (g->columns + 7) & ~7L, blocks = nPad / 8;
    const long quads = (k + 3) / 4, full = k / 4;
    const int32_t *bias = (const int32_t *)g->packed;
    const int8_t *packed = (const int8_t *)g->packed + 4 * nPad;
    int8_t wq[64 * QUANTA_VNNI_MAX_QUADS] __attribute__((aligned(64)));
    for (long b = 0; b < blocks; b += 2) {
        const long n0 = 8 * b;
        const long valid = g->columns - n0 < 16 ? g->columns - n0 : 16;
        // Zip: a block's two k-pairs of quad q (32 bytes: the pairs' 8 columns each) become
        // the 8 columns' k-quads with one word permutation (vpermw); quads past kPad and a
        // missing second block are zero. The column sums come from vpdpbusd against ones.
        const __m256i order = _mm256_setr_epi16(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
        const __m256i ones = _mm256_set1_epi8(1);
        __m256i sum0 = _mm256_setzero_si256(), sum1 = _mm256_setzero_si256();
        const int8_t *p0 = packed + b * 8 * kPad, *p1 = p0 + 8 * kPad;
        const int second = b + 1 < blocks;
        for (long q = 0; q < quads; q++) {
            __m256i w0, w1 = _mm256_setzero_si256();
            if (4 * q + 4 <= kPad) {
                w0 = _mm256_permutexvar_epi16(order, _mm256_loadu_si256((const __m256i *)(p0 + 32 * q)));
                if (second) w1 = _mm256_permutexvar_epi16(order, _mm256_loadu_si256((const __m256i *)(p1 + 32 * q)));
            } else {
                // The last quad holds one pair (kPad = 4 q + 2): the second pair is zero.
                w0 = _mm256_permutexvar_epi16(order, _mm256_zextsi128_si256(_mm_loadu_si128((const __m128i *)(p0 + 32 * q))));
                if (second) w1 = _mm256_permutexvar_epi16(order, _mm256_zextsi128_si256(_mm_loadu_si128((const __m128i *)(p1 + 32 * q))));
            }
            _mm256_storeu_si256((__m256i *)(wq + 64 * q), w0);
            _mm256_storeu_si256((__m256i *)(wq + 64 * q + 32), w1);
            sum0 = _mm256_dpbusd_epi32(sum0, ones, w0);
            sum1 = _mm256_dpbusd_epi32(sum1, ones, w1);
        }
        // The folded bias less 128 * the column sums (a missing second block: 0).
        const __m256i init0 = _mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)(bias + n0)), _mm256_slli_epi32(sum0, 7));
        const __m256i init1 = _mm256_sub_epi32(_mm256_maskz_loadu_epi32(second ? 0xFF : 0, bias + n0 + 8), _mm256_slli_epi32(sum1, 7));
        const vnni_stage st = stage_make(&g->requantization, g->channel_offset + n0, valid);
        long row = 0;
        for (; row + 12 <= g->rows; row += 12) tile12(g, wq, quads, full, init0, init1, &st, row, n0, valid);
        for (; row < g->rows; row += 4) {
            const long rows = g->rows - row < 4 ? g->rows - row : 4;
            tile4(g, wq, quads, full, init0, init1, &st, row, rows, n0, valid);
        }
    }
}

int quanta_gemm_vnni(const quanta_gemm *g) {
    if (!quanta_x86_has_vnni() || g->rows < 1 || g->depth < 1 || g->columns < 1) return 0;
    if ((g->depth + 3) / 4 > QUANTA_VNNI_MAX_QUADS) return 0;
    // Few rows, or a short depth over fewer than 64 rows: the per-call set-up (zipping each
    // block pair's weights, the bias correction) costs more than the AVX2 kernel loses (a
    // fully connected layer's one row streams its weights once there; MobileNetV2 0.35/96's
    // fused expand rows: 48 pixels of 16-24 values).
    if (g->rows < 8 || (g->depth < 32 && g->rows < 64)) return 0;
    gemm_vnni(g);
    return 1;
}
#endif
