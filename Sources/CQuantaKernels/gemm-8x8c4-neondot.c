// qs8 GEMM, 8 rows x 8 channels (and 4x8, 1x8 edges), aarch64 dot product (Armv8.2-A
// ASIMDDP: Cortex-A55/A76, Raspberry Pi 5), on PointwiseGEMM's packed layout.
//
// Inner loop per 16 values of k and one block of 8 channels:
//     8 x ldr q            the 8 packed k-pairs (16 bytes each)
//     4 x zip1, 4 x zip2   (.8h) into k-quads: 4 channels x 4 k per register
//     per row: ldr q       16 values of A
//              8 x sdot    v.4s, quad.16b, a.4b[lane]
// so 8 rows take 16 + 8 * 9 = 88 instructions for 1024 multiply-accumulates.
// Exact for any int8 operands (products summed in int32).
#if defined(__aarch64__)
#include "requantization-neon.h"

#define DOT __attribute__((target("dotprod")))

static inline __attribute__((always_inline)) DOT void quads(const int8_t *w, int8x16_t *lo, int8x16_t *hi) {
    int16x8_t p0 = vreinterpretq_s16_s8(vld1q_s8(w)), p1 = vreinterpretq_s16_s8(vld1q_s8(w + 16));
    *lo = vreinterpretq_s8_s16(vzip1q_s16(p0, p1));
    *hi = vreinterpretq_s8_s16(vzip2q_s16(p0, p1));
}

/// `mr` rows (8, 4 or 1, a constant at each call) of block `block`; rows past `rows`
/// repeat the last one and are not stored.
static inline __attribute__((always_inline)) DOT void tile(const quanta_gemm *g, const int8_t *weights, long kPad, long block,
                                                           long row, long rows, int mr, const quanta_rq8 *q) {
    const int32_t *bias = (const int32_t *)g->packed + 8 * block;
    const int8_t *a[8];
    for (int r = 0; r < 8; r++) {
        long rr = r < rows ? r : rows - 1;
        a[r] = g->a + (row + rr) * g->a_stride;
    }
    int32x4_t lo[8], hi[8];
    const int32x4_t b0 = vld1q_s32(bias), b1 = vld1q_s32(bias + 4);
    for (int r = 0; r < mr; r++) { lo[r] = b0; hi[r] = b1; }
    const int8_t *w = weights + block * 8 * kPad;
    const long k = g->depth;
    long i = 0;
    for (; i + 16 <= k; i += 16, w += 128) {
        int8x16_t l0, h0, l1, h1, l2, h2, l3, h3;
        quads(w, &l0, &h0);
        quads(w + 32, &l1, &h1);
        quads(w + 64, &l2, &h2);
        quads(w + 96, &l3, &h3);
        for (int r = 0; r < mr; r++) {
            int8x16_t x = vld1q_s8(a[r] + i);
            lo[r] = vdotq_laneq_s32(lo[r], l0, x, 0);
            hi[r] = vdotq_laneq_s32(hi[r], h0, x, 0);
            lo[r] = vdotq_laneq_s32(lo[r], l1, x, 1);
            hi[r] = vdotq_laneq_s32(hi[r], h1, x, 1);
            lo[r] = vdotq_laneq_s32(lo[r], l2, x, 2);
            hi[r] = vdotq_laneq_s32(hi[r], h2, x, 2);
            lo[r] = vdotq_laneq_s32(lo[r], l3, x, 3);
            hi[r] = vdotq_laneq_s32(hi[r], h3, x, 3);
        }
    }
    for (; i + 4 <= k; i += 4, w += 32) {
        int8x16_t l0, h0;
        quads(w, &l0, &h0);
        for (int r = 0; r < mr; r++) {
            int32_t bits;
            __builtin_memcpy(&bits, a[r] + i, 4);
            int8x16_t x = vreinterpretq_s8_s32(vdupq_n_s32(bits));
            lo[r] = vdotq_s32(lo[r], l0, x);
            hi[r] = vdotq_s32(hi[r], h0, x);
        }
    }
    if (i < k) {
        // 1 to 3 values of A left: pair i/2 and, for 3, pair i/2 + 1 (its second weight is
        // the 0 padding); nothing past the block is read. Missing bytes of A are 0.
        const long left = k - i;
        int16x8_t p0 = vreinterpretq_s16_s8(vld1q_s8(w));
        int16x8_t p1 = left == 3 ? vreinterpretq_s16_s8(vld1q_s8(w + 16)) : vdupq_n_s16(0);
        int8x16_t l0 = vreinterpretq_s8_s16(vzip1q_s16(p0, p1)), h0 = vreinterpretq_s8_s16(vzip2q_s16(p0, p1));
        for (int r = 0; r < mr; r++) {
            uint32_t bits = 0;
            for (long j = 0; j < left; j++) bits |= (uint32_t)(uint8_t)a[r][i + j] << (8 * j);
            int8x16_t x = vreinterpretq_s8_u32(vdupq_n_u32(bits));
            lo[r] = vdotq_s32(lo[r], l0, x);
            hi[r] = vdotq_s32(hi[r], h0, x);
        }
    }
    const long n0 = block * 8;
    const long valid = g->columns - n0 < 8 ? g->columns - n0 : 8;
    for (int r = 0; r < mr; r++) {
        if (r >= rows) break;
        quanta_store8(g->out + (row + r) * g->out_stride + n0, quanta_rq8_apply(q, lo[r], hi[r]), valid);
    }
}

static __attribute__((noinline)) DOT void qk_gemm_dot_8x8(const quanta_gemm *g, const int8_t *w, long kPad, long block, long row,
                                                long rows, const quanta_rq8 *q) {
    tile(g, w, kPad, block, row, rows, 8, q);
}

static __attribute__((noinline)) DOT void qk_gemm_dot_4x8(const quanta_gemm *g, const int8_t *w, long kPad, long block, long row,
                                                long rows, const quanta_rq8 *q) {
    tile(g, w, kPad, block, row, rows, 4, q);
}

static __attribute__((noinline)) DOT void qk_gemm_dot_1x8(const quanta_gemm *g, const int8_t *w, long kPad, long block, long row,
                                                const quanta_rq8 *q) {
    tile(g, w, kPad, block, row, 1, 1, q);
}

DOT void quanta_gemm_neondot(const quanta_gemm *g) {
    const long kPad = (g->depth + 1) & ~1L;
    const long nPad = (g->columns + 7) & ~7L;
    const int8_t *weights = (const int8_t *)g->packed + 4 * nPad;
    for (long block = 0; block < nPad / 8; block++) {
        const long n0 = block * 8;
        quanta_rq8 q = quanta_rq8_make(&g->requantization, g->channel_offset + n0, g->columns - n0);
        long row = 0;
        while (row < g->rows) {
            long left = g->rows - row;
            if (left >= 5) {
                qk_gemm_dot_8x8(g, weights, kPad, block, row, left < 8 ? left : 8, &q);
                row += 8;
            } else if (left >= 2) {
                qk_gemm_dot_4x8(g, weights, kPad, block, row, left, &q);
                row += 4;
            } else {
                qk_gemm_dot_1x8(g, weights, kPad, block, row, &q);
                row += 1;
            }
        }
    }
}
#endif
