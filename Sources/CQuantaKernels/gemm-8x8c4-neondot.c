// qs8 GEMM, 8 rows x 8 channels (and 4x8, 1x8 edges), aarch64 dot product (Armv8.2-A
// ASIMDDP: Cortex-A55/A76, Raspberry Pi 5), on PointwiseGEMM's packed layout.
//
// Inner loop per 16 values of k and one block of 8 channels (aarch64 assembly, 8 rows):
//     4 x ldp q            the 8 packed k-pairs (16 bytes each)
//     4 x zip1, 4 x zip2   (.8h) into k-quads: 4 channels x 4 k per register
//     per row: ldr q       16 values of A
//              8 x sdot    v.4s, quad.16b, a.4b[lane]
// so 8 rows take 12 + 8 * 9 = 84 instructions (+2 loop) for 1024 multiply-accumulates.
// The 4-row and 1-row edge tiles are the intrinsic form. Exact for any int8 operands
// (products summed in int32).
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
    const int8_t *a[8];  // row r of the tile (the asm loop advances them; the C loops index a[r] + i)
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
    // Unrolled with constant indices: a loop with `break` kept the accumulators on the stack.
    int8_t *out = g->out + row * g->out_stride + n0;
    const long s = g->out_stride;
#define QUANTA_STORE(R) \
    if (R < mr && R < rows) quanta_store8(out + R * s, quanta_rq8_apply(q, lo[R], hi[R]), valid);
    QUANTA_STORE(0) QUANTA_STORE(1) QUANTA_STORE(2) QUANTA_STORE(3)
    QUANTA_STORE(4) QUANTA_STORE(5) QUANTA_STORE(6) QUANTA_STORE(7)
#undef QUANTA_STORE
}

// The asm of tile8_asm with its weight loads as parameters: W16 (16 values of k: the 8
// quads into v0-v7), W4 (4 values: 2 quads into v0-v1), W2 and W1 (a pair, a single value
// against the zero padding; v9 is zero there).
#define QUANTA_DOTROW(A, L, H) \
        "ldr q8, [" A "], #16\n" \
        "sdot " L ".4s, v0.16b, v8.4b[0]\n sdot " H ".4s, v1.16b, v8.4b[0]\n" \
        "sdot " L ".4s, v2.16b, v8.4b[1]\n sdot " H ".4s, v3.16b, v8.4b[1]\n" \
        "sdot " L ".4s, v4.16b, v8.4b[2]\n sdot " H ".4s, v5.16b, v8.4b[2]\n" \
        "sdot " L ".4s, v6.16b, v8.4b[3]\n sdot " H ".4s, v7.16b, v8.4b[3]\n"
#define QUANTA_BROW(LD, A, STEP, L, H) \
        LD " [" A "], " STEP "\n" \
        "sdot " L ".4s, v0.16b, v8.16b\n sdot " H ".4s, v1.16b, v8.16b\n"
#define QUANTA_BROWS(LD, STEP) \
        QUANTA_BROW(LD, "%[a0]", STEP, "%[l0]", "%[h0]") QUANTA_BROW(LD, "%[a1]", STEP, "%[l1]", "%[h1]") \
        QUANTA_BROW(LD, "%[a2]", STEP, "%[l2]", "%[h2]") QUANTA_BROW(LD, "%[a3]", STEP, "%[l3]", "%[h3]") \
        QUANTA_BROW(LD, "%[a4]", STEP, "%[l4]", "%[h4]") QUANTA_BROW(LD, "%[a5]", STEP, "%[l5]", "%[h5]") \
        QUANTA_BROW(LD, "%[a6]", STEP, "%[l6]", "%[h6]") QUANTA_BROW(LD, "%[a7]", STEP, "%[l7]", "%[h7]")
#define QUANTA_TILE8_ASM(W16, W4, W2, W1) \
    __asm__ volatile( \
 \
        "ldp %q[l0], %q[h0], [%[bias]]\n" \
        "ldp %q[l1], %q[h1], [%[bias]]\n" \
        "ldp %q[l2], %q[h2], [%[bias]]\n" \
        "ldp %q[l3], %q[h3], [%[bias]]\n" \
        "ldp %q[l4], %q[h4], [%[bias]]\n" \
        "ldp %q[l5], %q[h5], [%[bias]]\n" \
        "ldp %q[l6], %q[h6], [%[bias]]\n" \
        "ldp %q[l7], %q[h7], [%[bias]]\n" \
        "cbz %[k16], 2f\n" \
        "1:\n" \
        W16 \
        QUANTA_DOTROW("%[a0]", "%[l0]", "%[h0]") QUANTA_DOTROW("%[a1]", "%[l1]", "%[h1]") \
        QUANTA_DOTROW("%[a2]", "%[l2]", "%[h2]") QUANTA_DOTROW("%[a3]", "%[l3]", "%[h3]") \
        QUANTA_DOTROW("%[a4]", "%[l4]", "%[h4]") QUANTA_DOTROW("%[a5]", "%[l5]", "%[h5]") \
        QUANTA_DOTROW("%[a6]", "%[l6]", "%[h6]") QUANTA_DOTROW("%[a7]", "%[l7]", "%[h7]") \
        "subs %[k16], %[k16], #1\n" \
        "b.ne 1b\n" \
        "2:\n" \
 \
 \
        "cbz %[k4], 4f\n" \
        "3:\n" \
        W4 \
        QUANTA_BROWS("ld1r {v8.4s},", "#4") \
        "subs %[k4], %[k4], #1\n" \
        "b.ne 3b\n" \
        "4:\n" \
        "movi v9.16b, #0\n" \
        "cbz %[k2], 5f\n" \
        W2 \
        QUANTA_BROWS("ld1r {v8.8h},", "#2") \
        "5:\n" \
        "cbz %[k1], 6f\n" \
        W1 \
        QUANTA_BROWS("ld1r {v8.16b},", "#1") \
        "6:\n" \
        : [k16] "+r"(k16), [k4] "+r"(k4), [w] "+r"(w), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), \
          [a4] "+r"(a4), [a5] "+r"(a5), [a6] "+r"(a6), [a7] "+r"(a7), \
          [l0] "=&w"(l0), [h0] "=&w"(h0), [l1] "=&w"(l1), [h1] "=&w"(h1), [l2] "=&w"(l2), [h2] "=&w"(h2), \
          [l3] "=&w"(l3), [h3] "=&w"(h3), [l4] "=&w"(l4), [h4] "=&w"(h4), [l5] "=&w"(l5), [h5] "=&w"(h5), \
          [l6] "=&w"(l6), [h6] "=&w"(h6), [l7] "=&w"(l7), [h7] "=&w"(h7) \
        : [bias] "r"(bias), [k2] "r"(k2), [k1] "r"(k1) \
        : "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13", "v14", "v15", \
          "memory", "cc");

/// The 8-row tile in assembly (the C tile above compiled to spills of its accumulators
/// around each loop with clang 21): accumulators v16-v31 from the bias to the output
/// stage, per 16 values of k 4 ldp + 8 zip + 8 x (ldr q + 8 sdot) = 84 instructions
/// (+2 loop) for 1024 multiply-accumulates; 4-value steps by ld1r {.4s}; a tail of 2 or 1
/// values by ld1r {.8h} / {.16b} against a zipped pair and zero (the padding weight, and
/// the zero half of the quad, cancel the repeated bytes of A).
static inline __attribute__((always_inline)) DOT void tile8_asm(const int8_t *a_first, long a_stride, long rows,
                                                                const int8_t *w, const int32_t *bias, const unsigned long ks[4],
                                                                int8_t *out, long s, long valid, const quanta_rq8 *q, int zipped) {
    // Rows past `rows` repeat the last one (not stored).
    const int8_t *a0 = a_first, *a1 = a0 + (rows > 1 ? a_stride : 0), *a2 = a1 + (rows > 2 ? a_stride : 0);
    const int8_t *a3 = a2 + (rows > 3 ? a_stride : 0), *a4 = a3 + (rows > 4 ? a_stride : 0), *a5 = a4 + (rows > 5 ? a_stride : 0);
    const int8_t *a6 = a5 + (rows > 6 ? a_stride : 0), *a7 = a6 + (rows > 7 ? a_stride : 0);
    int32x4_t l0, h0, l1, h1, l2, h2, l3, h3, l4, h4, l5, h5, l6, h6, l7, h7;
    unsigned long k16 = ks[0], k4 = ks[1], k2 = ks[2], k1 = ks[3];
    if (zipped) {
        // Weights zipped into k-quads beforehand (zip_block): loads only.
        QUANTA_TILE8_ASM(
            "ldp q0, q1, [%[w]], #32\n ldp q2, q3, [%[w]], #32\n ldp q4, q5, [%[w]], #32\n ldp q6, q7, [%[w]], #32\n",
            "ldp q0, q1, [%[w]], #32\n",
            "ldp q0, q1, [%[w]], #32\n",
            "ldp q0, q1, [%[w]]\n");
    } else {
        QUANTA_TILE8_ASM(
            "ldp q8, q9, [%[w]], #32\n ldp q10, q11, [%[w]], #32\n ldp q12, q13, [%[w]], #32\n ldp q14, q15, [%[w]], #32\n"
            "zip1 v0.8h, v8.8h, v9.8h\n zip2 v1.8h, v8.8h, v9.8h\n zip1 v2.8h, v10.8h, v11.8h\n zip2 v3.8h, v10.8h, v11.8h\n"
            "zip1 v4.8h, v12.8h, v13.8h\n zip2 v5.8h, v12.8h, v13.8h\n zip1 v6.8h, v14.8h, v15.8h\n zip2 v7.8h, v14.8h, v15.8h\n",
            "ldp q8, q9, [%[w]], #32\n zip1 v0.8h, v8.8h, v9.8h\n zip2 v1.8h, v8.8h, v9.8h\n",
            "ldr q8, [%[w]], #16\n zip1 v0.8h, v8.8h, v9.8h\n zip2 v1.8h, v8.8h, v9.8h\n",
            "ldr q8, [%[w]]\n zip1 v0.8h, v8.8h, v9.8h\n zip2 v1.8h, v8.8h, v9.8h\n");
    }
    // The output stage from a local copy of its constants (the stores could alias *q: it
    // would be reloaded per row), in one of three forms chosen once per tile.
    quanta_rq8 qq = *q;
#define QUANTA_STORES(QQ) \
    quanta_store8(out, quanta_rq8_apply(QQ, l0, h0), valid); \
    if (rows > 1) quanta_store8(out + s, quanta_rq8_apply(QQ, l1, h1), valid); \
    if (rows > 2) quanta_store8(out + 2 * s, quanta_rq8_apply(QQ, l2, h2), valid); \
    if (rows > 3) quanta_store8(out + 3 * s, quanta_rq8_apply(QQ, l3, h3), valid); \
    if (rows > 4) quanta_store8(out + 4 * s, quanta_rq8_apply(QQ, l4, h4), valid); \
    if (rows > 5) quanta_store8(out + 5 * s, quanta_rq8_apply(QQ, l5, h5), valid); \
    if (rows > 6) quanta_store8(out + 6 * s, quanta_rq8_apply(QQ, l6, h6), valid); \
    if (rows > 7) quanta_store8(out + 7 * s, quanta_rq8_apply(QQ, l7, h7), valid);
    if (qq.right_only && valid == 8) {
        // The common case: two rows narrowed and clamped together on 16 lanes.
        const quanta_rq8 *const f = &qq;
#define QUANTA_STORE2(R, LA, HA, LB, HB) \
        if (rows > R) { \
            const int8x16_t v = quanta_rq8_apply2_right(f, LA, HA, f, LB, HB); \
            vst1_s8(out + R * s, vget_low_s8(v)); \
            if (rows > R + 1) vst1_s8(out + (R + 1) * s, vget_high_s8(v)); \
        }
        QUANTA_STORE2(0, l0, h0, l1, h1) QUANTA_STORE2(2, l2, h2, l3, h3)
        QUANTA_STORE2(4, l4, h4, l5, h5) QUANTA_STORE2(6, l6, h6, l7, h7)
#undef QUANTA_STORE2
    } else if (qq.right_only) {
        qq.right_only = 1;
        const quanta_rq8 *const f = &qq;
        QUANTA_STORES(f)
    } else {
        qq.right_only = 0;
        const quanta_rq8 *const f = &qq;
        QUANTA_STORES(f)
    }
#undef QUANTA_STORES
}

/// The last tile of a block when it has 5 to 7 rows.
static __attribute__((noinline)) DOT void qk_gemm_dot_8x8_last(const int8_t *a, long a_stride, long rows, const int8_t *w,
                                                               const int32_t *bias, const unsigned long ks[4], int8_t *out,
                                                               long s, long valid, const quanta_rq8 *q, int zipped) {
    if (zipped) {
        tile8_asm(a, a_stride, rows, w, bias, ks, out, s, valid, q, 1);
    } else {
        tile8_asm(a, a_stride, rows, w, bias, ks, out, s, valid, q, 0);
    }
}

/// Tiles of 8 rows from `row` over `rows` rows (the last may have 5 to 8); `zipped`:
/// the block's weights as zip_block wrote them (else the packed pairs).
static __attribute__((noinline)) DOT void qk_gemm_dot_8x8(const quanta_gemm *g, const int8_t *zipped, long block,
                                                          long row, long rows, const quanta_rq8 *q) {
    const unsigned long depth = (unsigned long)g->depth;
    const unsigned long ks[4] = {depth >> 4, (depth >> 2) & 3, (depth >> 1) & 1, depth & 1};
    quanta_gemm_block b = quanta_gemm_block_at(g, block, row);
    // Full tiles with the row count a constant (no per-row checks, row pointers by adds),
    // then one tile of 5 to 7 rows.
    long left = rows;
    if (zipped) {
        for (; left >= 8; left -= 8) {
            tile8_asm(b.a, b.a_stride, 8, zipped, b.bias, ks, b.out, b.out_stride, b.valid, q, 1);
            b.a += 8 * b.a_stride;
            b.out += 8 * b.out_stride;
        }
    } else {
        for (; left >= 8; left -= 8) {
            tile8_asm(b.a, b.a_stride, 8, b.w, b.bias, ks, b.out, b.out_stride, b.valid, q, 0);
            b.a += 8 * b.a_stride;
            b.out += 8 * b.out_stride;
        }
    }
    if (left > 0) qk_gemm_dot_8x8_last(b.a, b.a_stride, left, zipped ? zipped : b.w, b.bias, ks, b.out, b.out_stride, b.valid, q, zipped != 0);
}

/// Bytes zip_block writes for depth `k`: 32 per quad pair (16 values of k: 4 pairs of
/// quads; 4 values: 1; a last pair and a last single value: 1 each).
static inline long zipped_bytes(long k) { return 32 * (4 * (k / 16) + (k % 16) / 4 + (k % 4) / 2 + (k % 2)); }

/// One block's packed k-pairs (8 channels) as the k-quads the sdot tile reads, in its
/// order: per 16 values of k the quads lo0, hi0, lo1, hi1, lo2, hi2, lo3, hi3; per 4
/// values lo, hi; a last pair, then a last single value, zipped with zero.
static DOT void zip_block(const int8_t *w, int8_t *dst, long k) {
    const int16x8_t zero = vdupq_n_s16(0);
    for (long i = 0; i + 4 <= k; i += 4) {
        const int16x8_t p0 = vreinterpretq_s16_s8(vld1q_s8(w)), p1 = vreinterpretq_s16_s8(vld1q_s8(w + 16));
        vst1q_s8(dst, vreinterpretq_s8_s16(vzip1q_s16(p0, p1)));
        vst1q_s8(dst + 16, vreinterpretq_s8_s16(vzip2q_s16(p0, p1)));
        w += 32;
        dst += 32;
    }
    if (k % 4 >= 2) {
        const int16x8_t p0 = vreinterpretq_s16_s8(vld1q_s8(w));
        vst1q_s8(dst, vreinterpretq_s8_s16(vzip1q_s16(p0, zero)));
        vst1q_s8(dst + 16, vreinterpretq_s8_s16(vzip2q_s16(p0, zero)));
        w += 16;
        dst += 32;
    }
    if (k % 2) {
        const int16x8_t p0 = vreinterpretq_s16_s8(vld1q_s8(w));
        vst1q_s8(dst, vreinterpretq_s8_s16(vzip1q_s16(p0, zero)));
        vst1q_s8(dst + 16, vreinterpretq_s8_s16(vzip2q_s16(p0, zero)));
    }
}

static __attribute__((noinline)) DOT void qk_gemm_dot_4x8(const quanta_gemm *g, const int8_t *w, long kPad, long block, long row,
                                                long rows, const quanta_rq8 *q) {
    tile(g, w, kPad, block, row, rows, 4, q);
}

static __attribute__((noinline)) DOT void qk_gemm_dot_1x8(const quanta_gemm *g, const int8_t *w, long kPad, long block, long row,
                                                const quanta_rq8 *q) {
    tile(g, w, kPad, block, row, 1, 1, q);
}

// ---------------------------------------------------------------------------------------
// I8MM (Armv8.6, `smmla`; e.g. Cortex-A710/X2, Neoverse N2/V1): 8 rows x 8 channels, the
// 16 accumulators each a 2 x 2 block (rows 2r, 2r+1 x channels 2c, 2c+1). Per 8 values of k:
//     2 x ldp q            the block's 4 channel pairs x 8 k (zipped once per block, below)
//     4 x (ldr d + ld1 .d[1])  rows 2r and 2r+1, 8 k each, side by side
//     16 x smmla           v.4s += (2 x 8) . (2 x 8)^T
// = 26 instructions (+2 loop) for 512 multiply-accumulates (the sdot tile: 39). A last
// chunk of 1-7 values reads the 8 bytes ending at the row's end, against a chunk whose
// weights for the values already counted are 0. Then the 2 x 2 blocks are unzipped into
// rows (zip1/zip2 .2d) and take the sdot tile's output stage.
#define I8MM __attribute__((target("dotprod,i8mm")))

/// Bytes `zip_block_i8mm` writes for depth k (>= 8): 64 per chunk of 8 values of k, and a
/// 64-byte last chunk when k is not a multiple of 8.
static inline long zipped_bytes_i8mm(long k) { return 64 * (k / 8 + (k % 8 != 0)); }

/// One block's packed k-pairs (8 channels) as `smmla` reads them: per chunk of 8 values
/// of k, the channel pairs (0,1), (2,3), (4,5), (6,7), each 8 k of the first channel then
/// 8 of the second; the last partial chunk covers k-8 ... k-1 with 0 for the values
/// before k & ~7 (counted by the chunk before).
static I8MM void zip_block_i8mm(const int8_t *w, int8_t *dst, long k) {
    const long kPad = (k + 1) & ~1L, chunks = k / 8;
    for (long j = 0; j < chunks; j++, dst += 64) {
        const int16x8_t p0 = vreinterpretq_s16_s8(vld1q_s8(w + (4 * j) * 16)), p1 = vreinterpretq_s16_s8(vld1q_s8(w + (4 * j + 1) * 16));
        const int16x8_t p2 = vreinterpretq_s16_s8(vld1q_s8(w + (4 * j + 2) * 16)), p3 = vreinterpretq_s16_s8(vld1q_s8(w + (4 * j + 3) * 16));
        const int32x4_t lo01 = vreinterpretq_s32_s16(vzip1q_s16(p0, p1)), lo23 = vreinterpretq_s32_s16(vzip1q_s16(p2, p3));
        const int32x4_t hi01 = vreinterpretq_s32_s16(vzip2q_s16(p0, p1)), hi23 = vreinterpretq_s32_s16(vzip2q_s16(p2, p3));
        vst1q_s8(dst, vreinterpretq_s8_s32(vzip1q_s32(lo01, lo23)));
        vst1q_s8(dst + 16, vreinterpretq_s8_s32(vzip2q_s32(lo01, lo23)));
        vst1q_s8(dst + 32, vreinterpretq_s8_s32(vzip1q_s32(hi01, hi23)));
        vst1q_s8(dst + 48, vreinterpretq_s8_s32(vzip2q_s32(hi01, hi23)));
    }
    if (k % 8) {
        const long first = k - 8, counted = chunks * 8;
        for (long col = 0; col < 8; col++) {
            for (long q = 0; q < 8; q++) {
                const long kk = first + q;
                dst[(col / 2) * 16 + (col % 2) * 8 + q] = kk >= counted && kk < kPad ? w[(kk / 2) * 16 + col * 2 + kk % 2] : 0;
            }
        }
    }
}

/// Full 8-row tiles from `row` over `rows` rows (a multiple of 8) of block `block`, the
/// block's weights zipped by `zip_block_i8mm` at `zw`.
static __attribute__((noinline)) I8MM void qk_gemm_i8mm_8x8(const quanta_gemm *g, const int8_t *zw, long block, long row,
                                                             long rows, const quanta_rq8 *q) {
    quanta_gemm_block b = quanta_gemm_block_at(g, block, row);
    const long k = g->depth, s = b.out_stride, valid = b.valid;
    const unsigned long chunks = (unsigned long)(k / 8);
    const long tail = k % 8 ? k % 8 - 8 : 0;  // the last chunk's offset back from the row's end (or 0: none)
    const int32x4_t b0 = vld1q_s32(b.bias), b1 = vld1q_s32(b.bias + 4);
    // The bias in the 2 x 2 layout: channel pair c of either row.
    const int32x4_t bp0 = vreinterpretq_s32_s64(vzip1q_s64(vreinterpretq_s64_s32(b0), vreinterpretq_s64_s32(b0)));
    const int32x4_t bp1 = vreinterpretq_s32_s64(vzip2q_s64(vreinterpretq_s64_s32(b0), vreinterpretq_s64_s32(b0)));
    const int32x4_t bp2 = vreinterpretq_s32_s64(vzip1q_s64(vreinterpretq_s64_s32(b1), vreinterpretq_s64_s32(b1)));
    const int32x4_t bp3 = vreinterpretq_s32_s64(vzip2q_s64(vreinterpretq_s64_s32(b1), vreinterpretq_s64_s32(b1)));
    const quanta_rq8 qq = *q;
    for (long r0 = 0; r0 < rows; r0 += 8) {
        const int8_t *a0 = b.a + r0 * b.a_stride, *a1 = a0 + b.a_stride, *a2 = a1 + b.a_stride, *a3 = a2 + b.a_stride;
        const int8_t *a4 = a3 + b.a_stride, *a5 = a4 + b.a_stride, *a6 = a5 + b.a_stride, *a7 = a6 + b.a_stride;
        int32x4_t c00 = bp0, c01 = bp1, c02 = bp2, c03 = bp3, c10 = bp0, c11 = bp1, c12 = bp2, c13 = bp3;
        int32x4_t c20 = bp0, c21 = bp1, c22 = bp2, c23 = bp3, c30 = bp0, c31 = bp1, c32 = bp2, c33 = bp3;
        const int8_t *w = zw;
        unsigned long n = chunks;
#define QUANTA_MMLA_ROWS(R, ACC0, ACC1, ACC2, ACC3) \
        "smmla " ACC0 ".4s, " R ".16b, v0.16b\n smmla " ACC1 ".4s, " R ".16b, v1.16b\n" \
        "smmla " ACC2 ".4s, " R ".16b, v2.16b\n smmla " ACC3 ".4s, " R ".16b, v3.16b\n"
#define QUANTA_MMLA_CHUNK(LOADS) \
        "ldp q0, q1, [%[w]], #32\n ldp q2, q3, [%[w]], #32\n" LOADS \
        QUANTA_MMLA_ROWS("v4", "%[c00]", "%[c01]", "%[c02]", "%[c03]") QUANTA_MMLA_ROWS("v5", "%[c10]", "%[c11]", "%[c12]", "%[c13]") \
        QUANTA_MMLA_ROWS("v6", "%[c20]", "%[c21]", "%[c22]", "%[c23]") QUANTA_MMLA_ROWS("v7", "%[c30]", "%[c31]", "%[c32]", "%[c33]")
        __asm__ volatile(
            "1:\n"
            QUANTA_MMLA_CHUNK(
                "ldr d4, [%[a0]], #8\n ld1 {v4.d}[1], [%[a1]], #8\n ldr d5, [%[a2]], #8\n ld1 {v5.d}[1], [%[a3]], #8\n"
                "ldr d6, [%[a4]], #8\n ld1 {v6.d}[1], [%[a5]], #8\n ldr d7, [%[a6]], #8\n ld1 {v7.d}[1], [%[a7]], #8\n")
            "subs %[n], %[n], #1\n"
            "b.ne 1b\n"
            "cbz %[tail], 2f\n"
            // The last chunk: the 8 bytes ending at each row's end.
            "add %[a0], %[a0], %[tail]\n add %[a1], %[a1], %[tail]\n add %[a2], %[a2], %[tail]\n add %[a3], %[a3], %[tail]\n"
            "add %[a4], %[a4], %[tail]\n add %[a5], %[a5], %[tail]\n add %[a6], %[a6], %[tail]\n add %[a7], %[a7], %[tail]\n"
            QUANTA_MMLA_CHUNK(
                "ldr d4, [%[a0]]\n ld1 {v4.d}[1], [%[a1]]\n ldr d5, [%[a2]]\n ld1 {v5.d}[1], [%[a3]]\n"
                "ldr d6, [%[a4]]\n ld1 {v6.d}[1], [%[a5]]\n ldr d7, [%[a6]]\n ld1 {v7.d}[1], [%[a7]]\n")
            "2:\n"
            : [n] "+r"(n), [w] "+r"(w), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [a4] "+r"(a4),
              [a5] "+r"(a5), [a6] "+r"(a6), [a7] "+r"(a7),
              [c00] "+w"(c00), [c01] "+w"(c01), [c02] "+w"(c02), [c03] "+w"(c03), [c10] "+w"(c10), [c11] "+w"(c11),
              [c12] "+w"(c12), [c13] "+w"(c13), [c20] "+w"(c20), [c21] "+w"(c21), [c22] "+w"(c22), [c23] "+w"(c23),
              [c30] "+w"(c30), [c31] "+w"(c31), [c32] "+w"(c32), [c33] "+w"(c33)
            : [tail] "r"(tail)
            : "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "memory", "cc");
#undef QUANTA_MMLA_CHUNK
#undef QUANTA_MMLA_ROWS
        // Rows from the 2 x 2 blocks: row 2r = the low halves, row 2r + 1 the high halves.
#define QUANTA_LO(X, Y) vreinterpretq_s32_s64(vzip1q_s64(vreinterpretq_s64_s32(X), vreinterpretq_s64_s32(Y)))
#define QUANTA_HI(X, Y) vreinterpretq_s32_s64(vzip2q_s64(vreinterpretq_s64_s32(X), vreinterpretq_s64_s32(Y)))
        int8_t *out = b.out + r0 * s;
        const int32x4_t l0 = QUANTA_LO(c00, c01), h0 = QUANTA_LO(c02, c03), l1 = QUANTA_HI(c00, c01), h1 = QUANTA_HI(c02, c03);
        const int32x4_t l2 = QUANTA_LO(c10, c11), h2 = QUANTA_LO(c12, c13), l3 = QUANTA_HI(c10, c11), h3 = QUANTA_HI(c12, c13);
        const int32x4_t l4 = QUANTA_LO(c20, c21), h4 = QUANTA_LO(c22, c23), l5 = QUANTA_HI(c20, c21), h5 = QUANTA_HI(c22, c23);
        const int32x4_t l6 = QUANTA_LO(c30, c31), h6 = QUANTA_LO(c32, c33), l7 = QUANTA_HI(c30, c31), h7 = QUANTA_HI(c32, c33);
#undef QUANTA_LO
#undef QUANTA_HI
        if (qq.right_only && valid == 8) {
            int8x16_t v = quanta_rq8_apply2_right(&qq, l0, h0, &qq, l1, h1);
            vst1_s8(out, vget_low_s8(v)); vst1_s8(out + s, vget_high_s8(v));
            v = quanta_rq8_apply2_right(&qq, l2, h2, &qq, l3, h3);
            vst1_s8(out + 2 * s, vget_low_s8(v)); vst1_s8(out + 3 * s, vget_high_s8(v));
            v = quanta_rq8_apply2_right(&qq, l4, h4, &qq, l5, h5);
            vst1_s8(out + 4 * s, vget_low_s8(v)); vst1_s8(out + 5 * s, vget_high_s8(v));
            v = quanta_rq8_apply2_right(&qq, l6, h6, &qq, l7, h7);
            vst1_s8(out + 6 * s, vget_low_s8(v)); vst1_s8(out + 7 * s, vget_high_s8(v));
        } else {
            quanta_store8(out, quanta_rq8_apply(&qq, l0, h0), valid);
            quanta_store8(out + s, quanta_rq8_apply(&qq, l1, h1), valid);
            quanta_store8(out + 2 * s, quanta_rq8_apply(&qq, l2, h2), valid);
            quanta_store8(out + 3 * s, quanta_rq8_apply(&qq, l3, h3), valid);
            quanta_store8(out + 4 * s, quanta_rq8_apply(&qq, l4, h4), valid);
            quanta_store8(out + 5 * s, quanta_rq8_apply(&qq, l5, h5), valid);
            quanta_store8(out + 6 * s, quanta_rq8_apply(&qq, l6, h6), valid);
            quanta_store8(out + 7 * s, quanta_rq8_apply(&qq, l7, h7), valid);
        }
    }
}

/// The GEMM with `smmla` full tiles (rows & ~7) and the sdot tiles for the rows left.
static I8MM void gemm_i8mm(const quanta_gemm *g) {
    const long kPad = (g->depth + 1) & ~1L;
    const long nPad = (g->columns + 7) & ~7L;
    const int8_t *weights = (const int8_t *)g->packed + 4 * nPad;
    const long full = g->rows & ~7L;
    for (long block = 0; block < nPad / 8; block++) {
        const long n0 = block * 8;
        quanta_rq8 q = quanta_rq8_make(&g->requantization, g->channel_offset + n0, g->columns - n0);
        zip_block_i8mm(weights + block * 8 * kPad, (int8_t *)g->panel, g->depth);
        qk_gemm_i8mm_8x8(g, (const int8_t *)g->panel, block, 0, full, &q);
        long row = full;
        const long left = g->rows - row;
        if (left >= 5) {
            quanta_gemm_block b = quanta_gemm_block_at(g, block, row);
            const unsigned long depth = (unsigned long)g->depth;
            const unsigned long ks[4] = {depth >> 4, (depth >> 2) & 3, (depth >> 1) & 1, depth & 1};
            qk_gemm_dot_8x8_last(b.a, b.a_stride, left, b.w, b.bias, ks, b.out, b.out_stride, b.valid, &q, 0);
        } else {
            while (row < g->rows) {
                if (g->rows - row >= 2) {
                    qk_gemm_dot_4x8(g, weights, kPad, block, row, g->rows - row, &q);
                    row += 4;
                } else {
                    qk_gemm_dot_1x8(g, weights, kPad, block, row, &q);
                    row += 1;
                }
            }
        }
    }
}

DOT void quanta_gemm_neondot(const quanta_gemm *g) {
    if (g->rows >= 8 && g->depth >= 8 && g->panel && g->panel_bytes >= zipped_bytes_i8mm(g->depth) && quanta_cpu_has_i8mm()) {
        gemm_i8mm(g);
        return;
    }
    const long kPad = (g->depth + 1) & ~1L;
    const long nPad = (g->columns + 7) & ~7L;
    const int8_t *weights = (const int8_t *)g->packed + 4 * nPad;
    for (long block = 0; block < nPad / 8; block++) {
        const long n0 = block * 8;
        quanta_rq8 q = quanta_rq8_make(&g->requantization, g->channel_offset + n0, g->columns - n0);
        // Rows in tiles of 8 (the last with 5 to 8 of them), then a tile of 4 (2 to 4
        // rows) or 1. With two tiles or more, and the panel scratch (which this kernel does
        // not otherwise need) large enough, the block's weights are zipped into k-quads
        // once instead of in every tile.
        long rest = g->rows % 8;
        long eights = rest >= 5 ? g->rows : g->rows - rest;
        const int zip = eights >= 16 && g->panel && g->panel_bytes >= zipped_bytes(g->depth);
        if (zip) zip_block(weights + block * 8 * kPad, (int8_t *)g->panel, g->depth);
        if (eights > 0) qk_gemm_dot_8x8(g, zip ? (const int8_t *)g->panel : 0, block, 0, eights, &q);
        long row = eights;
        while (row < g->rows) {
            long left = g->rows - row;
            if (left >= 2) {
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
