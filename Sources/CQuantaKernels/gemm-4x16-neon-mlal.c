// qs8 GEMM, 4 rows x 16 channels (and 4x8, 1x16, 1x8 edges), Armv8.0 / armv7 NEON,
// on PointwiseGEMM's packed layout (int8 k-pairs of 8 channels, 16 bytes per pair).
//
// Inner loop per 4 values of k and 16 channels (two blocks) of one row (aarch64 assembly;
// the weights of the step, 4 pairs x 2 blocks, loaded once as 8 d-registers for 4 rows):
//     ld1r  {x0.4h}, [a], #2      the pair (a[k], a[k+1]) in every 16-bit lane
//     ld1r  {x1.4h}, [a], #2      the pair (a[k+2], a[k+3])
//     smull  p.8h, w0.8b, x0.8b   w[c][k]*a[k], w[c][k+1]*a[k+1] for 4 channels
//     smlal  p.8h, w1.8b, x1.8b   + w[c][k+2]*a[k+2], ...: two products per int16 slot
//     sadalp acc.4s, p.8h         acc[c] += both slots of channel c
// (4 smull, 4 smlal, 4 sadalp per row: channels 0-3, 4-7 of each block).
// Exactness: |a| <= 128 and |w| <= 127 (no -128 weight: the loader checks), so a slot
// holds at most 2 * 128 * 127 = 32512 < 2^15. armv7 compiles the intrinsic form below.
#if defined(__ARM_NEON)
#include "requantization-neon.h"

/// The 16-bit value at p (two bytes of A, any alignment) in every lane: `ld1r {v.4h}`.
static inline __attribute__((always_inline)) int8x8_t pair_dup(const int8_t *p) {
    int16_t v;
    __builtin_memcpy(&v, p, 2);
    return vreinterpret_s8_s16(vdup_n_s16(v));
}

/// acc[c] += the four products of channel c in w0 * x0 + w1 * x1 (pairs of channels 0-3
/// or 4-7 of a block): smull, smlal, sadalp.
static inline __attribute__((always_inline)) int32x4_t mac2(int32x4_t acc, int8x8_t w0, int8x8_t x0, int8x8_t w1, int8x8_t x1) {
    return vpadalq_s16(acc, vmlal_s8(vmull_s8(w0, x0), w1, x1));
}

/// acc[c] += the two products of channel c in w0 * x0: smull, sadalp.
static inline __attribute__((always_inline)) int32x4_t mac1(int32x4_t acc, int8x8_t w0, int8x8_t x0) {
    return vpadalq_s16(acc, vmull_s8(w0, x0));
}

/// `mr` rows (1 or 4, a constant at each call) x `nb` blocks of 8 channels (1 or 2) from
/// block `block`; the rows past `rows` repeat the last one and are not stored.
static inline __attribute__((always_inline)) void tile(const quanta_gemm *g, const int8_t *weights, long kPad,
                                                       long block, int nb, long row, long rows, int mr,
                                                       const quanta_rq8 *q0, const quanta_rq8 *q1) {
    const int32_t *bias = (const int32_t *)g->packed + 8 * block;
    const int8_t *a[4];
    for (int r = 0; r < 4; r++) {
        long rr = r < rows ? r : rows - 1;
        a[r] = g->a + (row + rr) * g->a_stride;
    }
    int32x4_t acc[4][4];
    for (int r = 0; r < mr; r++) {
        for (int c = 0; c < 2 * nb; c++) acc[r][c] = vld1q_s32(bias + 4 * c);
    }
    const int8_t *w0 = weights + block * 8 * kPad;
    const int8_t *w1 = w0 + 8 * kPad;
    const long k = g->depth;
    long i = 0;
    for (; i + 4 <= k; i += 4) {
        // Weights as 8-byte halves (ldp d): every multiply takes the low half of its
        // registers, so no high-half extraction is needed.
        const int8x8_t wa0 = vld1_s8(w0), wa1 = vld1_s8(w0 + 8), wa2 = vld1_s8(w0 + 16), wa3 = vld1_s8(w0 + 24);
        int8x8_t wb0 = wa0, wb1 = wa1, wb2 = wa2, wb3 = wa3;
        if (nb > 1) { wb0 = vld1_s8(w1); wb1 = vld1_s8(w1 + 8); wb2 = vld1_s8(w1 + 16); wb3 = vld1_s8(w1 + 24); }
        w0 += 32;
        w1 += 32;
        for (int r = 0; r < mr; r++) {
            const int8x8_t x0 = pair_dup(a[r]), x1 = pair_dup(a[r] + 2);
            a[r] += 4;
            acc[r][0] = mac2(acc[r][0], wa0, x0, wa2, x1);
            acc[r][1] = mac2(acc[r][1], wa1, x0, wa3, x1);
            if (nb > 1) {
                acc[r][2] = mac2(acc[r][2], wb0, x0, wb2, x1);
                acc[r][3] = mac2(acc[r][3], wb1, x0, wb3, x1);
            }
        }
    }
    if (i < k) {
        // 1 to 3 values left: pairs i/2 (and i/2 + 1 for 3). The last odd value is
        // broadcast alone (its pair partner's weight is the 0 padding).
        const long left = k - i;
        const int8x8_t wa0 = vld1_s8(w0), wa1 = vld1_s8(w0 + 8);
        int8x8_t wb0 = wa0, wb1 = wa1;
        if (nb > 1) { wb0 = vld1_s8(w1); wb1 = vld1_s8(w1 + 8); }
        int8x8_t wa2 = wa0, wa3 = wa1, wb2 = wb0, wb3 = wb1;
        if (left == 3) {
            wa2 = vld1_s8(w0 + 16); wa3 = vld1_s8(w0 + 24);
            if (nb > 1) { wb2 = vld1_s8(w1 + 16); wb3 = vld1_s8(w1 + 24); }
        }
        for (int r = 0; r < mr; r++) {
            const int8x8_t x0 = left >= 2 ? pair_dup(a[r]) : vld1_dup_s8(a[r]);
            if (left == 3) {
                const int8x8_t x1 = vld1_dup_s8(a[r] + 2);
                acc[r][0] = mac2(acc[r][0], wa0, x0, wa2, x1);
                acc[r][1] = mac2(acc[r][1], wa1, x0, wa3, x1);
                if (nb > 1) {
                    acc[r][2] = mac2(acc[r][2], wb0, x0, wb2, x1);
                    acc[r][3] = mac2(acc[r][3], wb1, x0, wb3, x1);
                }
            } else {
                acc[r][0] = mac1(acc[r][0], wa0, x0);
                acc[r][1] = mac1(acc[r][1], wa1, x0);
                if (nb > 1) {
                    acc[r][2] = mac1(acc[r][2], wb0, x0);
                    acc[r][3] = mac1(acc[r][3], wb1, x0);
                }
            }
        }
    }
    const long n0 = block * 8;
    const long valid0 = g->columns - n0 < 8 ? g->columns - n0 : 8;
    const long valid1 = g->columns - n0 - 8 < 8 ? g->columns - n0 - 8 : 8;
    // Unrolled with constant indices (a loop with `break` kept the accumulators on the
    // stack), from local copies of the output stage's constants (the stores could alias
    // *q0: they would be reloaded per row), the common case (right shifts only, full
    // blocks) chosen once per tile.
    int8_t *out = g->out + row * g->out_stride + n0;
    const long s = g->out_stride;
    quanta_rq8 r0 = *q0, r1 = *q1;
#define QUANTA_STORE(R, V0, V1) \
    if (R < mr && R < rows) { \
        quanta_store8(out + R * s, quanta_rq8_apply(&r0, acc[R][0], acc[R][1]), V0); \
        if (nb > 1) quanta_store8(out + R * s + 8, quanta_rq8_apply(&r1, acc[R][2], acc[R][3]), V1); \
    }
    if (r0.right_only && (nb == 1 || r1.right_only) && valid0 == 8 && (nb == 1 || valid1 == 8)) {
        r0.right_only = 1;
        r1.right_only = 1;
        QUANTA_STORE(0, 8, 8) QUANTA_STORE(1, 8, 8) QUANTA_STORE(2, 8, 8) QUANTA_STORE(3, 8, 8)
    } else {
        QUANTA_STORE(0, valid0, valid1) QUANTA_STORE(1, valid0, valid1)
        QUANTA_STORE(2, valid0, valid1) QUANTA_STORE(3, valid0, valid1)
    }
#undef QUANTA_STORE
}

#if defined(__aarch64__)
/// The 4 x 16 tile in assembly (the C tile compiled to a stack copy of its accumulators
/// around the loop with clang 21): accumulators from the bias to the output stage; per 4
/// values of k 2 x ld1 {4 d} of weights + 4 rows x (2 ld1r + 4 smull + 4 smlal + 4 sadalp)
/// = 58 instructions for 256 multiply-accumulates, two steps per loop iteration (+2); a tail of 2 or 3 values by
/// one pair broadcast (ld1r {.4h}), of 1 (or the third) by a byte broadcast against the
/// pair whose second weight is the 0 padding.
static inline __attribute__((always_inline)) void tile4x16_asm(const int8_t *a_first, long a_stride, long rows,
                                                               const int8_t *w0, const int8_t *w1, const int32_t *bias,
                                                               const unsigned long ks[3], int8_t *out, long s, long valid1,
                                                               const quanta_rq8 *q0, const quanta_rq8 *q1) {
    // Rows past `rows` repeat the last one (not stored).
    const int8_t *a0 = a_first, *a1 = a0 + (rows > 1 ? a_stride : 0);
    const int8_t *a2 = a1 + (rows > 2 ? a_stride : 0), *a3 = a2 + (rows > 3 ? a_stride : 0);
    // k4 steps of 4 values of k: pairs of steps per loop iteration (half the loop
    // counting), then an odd one.
    unsigned long k8 = ks[0] >> 1, k4 = ks[0] & 1, k2 = ks[1], k1 = ks[2];
    int32x4_t c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33;
    __asm__ volatile(
        // The accumulators loaded with the bias (8 ldp, not 2 ldp + 16 mov).
        "ldp %q[c00], %q[c01], [%[bias]]\n ldp %q[c02], %q[c03], [%[bias], #32]\n"
        "ldp %q[c10], %q[c11], [%[bias]]\n ldp %q[c12], %q[c13], [%[bias], #32]\n"
        "ldp %q[c20], %q[c21], [%[bias]]\n ldp %q[c22], %q[c23], [%[bias], #32]\n"
        "ldp %q[c30], %q[c31], [%[bias]]\n ldp %q[c32], %q[c33], [%[bias], #32]\n"
#define QUANTA_WEIGHTS \
        "ld1 {v0.8b, v1.8b, v2.8b, v3.8b}, [%[w0]], #32\n" \
        "ld1 {v4.8b, v5.8b, v6.8b, v7.8b}, [%[w1]], #32\n"
#define QUANTA_ROW(A, C0, C1, C2, C3) \
        "ld1r {v8.4h}, [" A "], #2\n" \
        "ld1r {v9.4h}, [" A "], #2\n" \
        "smull v10.8h, v0.8b, v8.8b\n smull v11.8h, v1.8b, v8.8b\n" \
        "smull v12.8h, v4.8b, v8.8b\n smull v13.8h, v5.8b, v8.8b\n" \
        "smlal v10.8h, v2.8b, v9.8b\n smlal v11.8h, v3.8b, v9.8b\n" \
        "smlal v12.8h, v6.8b, v9.8b\n smlal v13.8h, v7.8b, v9.8b\n" \
        "sadalp " C0 ".4s, v10.8h\n sadalp " C1 ".4s, v11.8h\n" \
        "sadalp " C2 ".4s, v12.8h\n sadalp " C3 ".4s, v13.8h\n"
#define QUANTA_STEP QUANTA_WEIGHTS \
        QUANTA_ROW("%[a0]", "%[c00]", "%[c01]", "%[c02]", "%[c03]") \
        QUANTA_ROW("%[a1]", "%[c10]", "%[c11]", "%[c12]", "%[c13]") \
        QUANTA_ROW("%[a2]", "%[c20]", "%[c21]", "%[c22]", "%[c23]") \
        QUANTA_ROW("%[a3]", "%[c30]", "%[c31]", "%[c32]", "%[c33]")
        "cbz %[k8], 6f\n"
        "1:\n"
        QUANTA_STEP QUANTA_STEP
        "subs %[k8], %[k8], #1\n"
        "b.ne 1b\n"
        "6:\n"
        "cbz %[k4], 2f\n"
        QUANTA_STEP
#undef QUANTA_STEP
#undef QUANTA_ROW
#undef QUANTA_WEIGHTS
        "2:\n"
#define QUANTA_TROW(LD, A, STEP, C0, C1, C2, C3) \
        LD " [" A "], " STEP "\n" \
        "smull v10.8h, v0.8b, v8.8b\n smull v11.8h, v1.8b, v8.8b\n" \
        "smull v12.8h, v4.8b, v8.8b\n smull v13.8h, v5.8b, v8.8b\n" \
        "sadalp " C0 ".4s, v10.8h\n sadalp " C1 ".4s, v11.8h\n" \
        "sadalp " C2 ".4s, v12.8h\n sadalp " C3 ".4s, v13.8h\n"
#define QUANTA_TROWS(LD, STEP) \
        QUANTA_TROW(LD, "%[a0]", STEP, "%[c00]", "%[c01]", "%[c02]", "%[c03]") \
        QUANTA_TROW(LD, "%[a1]", STEP, "%[c10]", "%[c11]", "%[c12]", "%[c13]") \
        QUANTA_TROW(LD, "%[a2]", STEP, "%[c20]", "%[c21]", "%[c22]", "%[c23]") \
        QUANTA_TROW(LD, "%[a3]", STEP, "%[c30]", "%[c31]", "%[c32]", "%[c33]")
        "cbz %[k2], 3f\n"
        "ld1 {v0.8b, v1.8b}, [%[w0]], #16\n"
        "ld1 {v4.8b, v5.8b}, [%[w1]], #16\n"
        QUANTA_TROWS("ld1r {v8.4h},", "#2")
        "3:\n"
        "cbz %[k1], 4f\n"
        "ld1 {v0.8b, v1.8b}, [%[w0]]\n"
        "ld1 {v4.8b, v5.8b}, [%[w1]]\n"
        QUANTA_TROWS("ld1r {v8.8b},", "#1")
        "4:\n"
#undef QUANTA_TROWS
#undef QUANTA_TROW
        : [k8] "+r"(k8), [w0] "+r"(w0), [w1] "+r"(w1), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),
          [c00] "=&w"(c00), [c01] "=&w"(c01), [c02] "=&w"(c02), [c03] "=&w"(c03),
          [c10] "=&w"(c10), [c11] "=&w"(c11), [c12] "=&w"(c12), [c13] "=&w"(c13),
          [c20] "=&w"(c20), [c21] "=&w"(c21), [c22] "=&w"(c22), [c23] "=&w"(c23),
          [c30] "=&w"(c30), [c31] "=&w"(c31), [c32] "=&w"(c32), [c33] "=&w"(c33)
        : [bias] "r"(bias), [k4] "r"(k4), [k2] "r"(k2), [k1] "r"(k1)
        : "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13", "memory", "cc");
    quanta_rq8 r0 = *q0, r1 = *q1;
#define QUANTA_STORES(V1) \
    quanta_store8(out, quanta_rq8_apply(&r0, c00, c01), 8); \
    quanta_store8(out + 8, quanta_rq8_apply(&r1, c02, c03), V1); \
    if (rows > 1) { \
        quanta_store8(out + s, quanta_rq8_apply(&r0, c10, c11), 8); \
        quanta_store8(out + s + 8, quanta_rq8_apply(&r1, c12, c13), V1); \
    } \
    if (rows > 2) { \
        quanta_store8(out + 2 * s, quanta_rq8_apply(&r0, c20, c21), 8); \
        quanta_store8(out + 2 * s + 8, quanta_rq8_apply(&r1, c22, c23), V1); \
    } \
    if (rows > 3) { \
        quanta_store8(out + 3 * s, quanta_rq8_apply(&r0, c30, c31), 8); \
        quanta_store8(out + 3 * s + 8, quanta_rq8_apply(&r1, c32, c33), V1); \
    }
    // The common case (right shifts only, a full second block): each row's 16 channels
    // narrowed and clamped together.
    if (r0.right_only && r1.right_only && valid1 == 8) {
        vst1q_s8(out, quanta_rq8_apply2_right(&r0, c00, c01, &r1, c02, c03));
        if (rows > 1) vst1q_s8(out + s, quanta_rq8_apply2_right(&r0, c10, c11, &r1, c12, c13));
        if (rows > 2) vst1q_s8(out + 2 * s, quanta_rq8_apply2_right(&r0, c20, c21, &r1, c22, c23));
        if (rows > 3) vst1q_s8(out + 3 * s, quanta_rq8_apply2_right(&r0, c30, c31, &r1, c32, c33));
    } else {
        QUANTA_STORES(valid1)
    }
#undef QUANTA_STORES
}
#endif

#if defined(__aarch64__)
/// tile4x16_asm for one block of 8 channels (the last block of an odd count): per 4
/// values of k 1 ld1 {4 d} + 4 rows x (2 ld1r + 2 smull + 2 smlal + 2 sadalp) = 33 (+2).
static inline __attribute__((always_inline)) void tile4x8_asm(const int8_t *a_first, long a_stride, long rows,
                                                              const int8_t *w0, const int32_t *bias, const unsigned long ks[3],
                                                              int8_t *out, long s, long valid, const quanta_rq8 *q0) {
    const int8_t *a0 = a_first, *a1 = a0 + (rows > 1 ? a_stride : 0);
    const int8_t *a2 = a1 + (rows > 2 ? a_stride : 0), *a3 = a2 + (rows > 3 ? a_stride : 0);
    unsigned long k4 = ks[0], k2 = ks[1], k1 = ks[2];
    int32x4_t c00, c01, c10, c11, c20, c21, c30, c31;
    __asm__ volatile(
        "ldp %q[c00], %q[c01], [%[bias]]\n ldp %q[c10], %q[c11], [%[bias]]\n"
        "ldp %q[c20], %q[c21], [%[bias]]\n ldp %q[c30], %q[c31], [%[bias]]\n"
        "cbz %[k4], 2f\n"
        "1:\n"
        "ld1 {v0.8b, v1.8b, v2.8b, v3.8b}, [%[w0]], #32\n"
#define QUANTA_ROW(A, C0, C1) \
        "ld1r {v8.4h}, [" A "], #2\n" \
        "ld1r {v9.4h}, [" A "], #2\n" \
        "smull v10.8h, v0.8b, v8.8b\n smull v11.8h, v1.8b, v8.8b\n" \
        "smlal v10.8h, v2.8b, v9.8b\n smlal v11.8h, v3.8b, v9.8b\n" \
        "sadalp " C0 ".4s, v10.8h\n sadalp " C1 ".4s, v11.8h\n"
        QUANTA_ROW("%[a0]", "%[c00]", "%[c01]") QUANTA_ROW("%[a1]", "%[c10]", "%[c11]")
        QUANTA_ROW("%[a2]", "%[c20]", "%[c21]") QUANTA_ROW("%[a3]", "%[c30]", "%[c31]")
#undef QUANTA_ROW
        "subs %[k4], %[k4], #1\n"
        "b.ne 1b\n"
        "2:\n"
#define QUANTA_TROW(LD, A, STEP, C0, C1) \
        LD " [" A "], " STEP "\n" \
        "smull v10.8h, v0.8b, v8.8b\n smull v11.8h, v1.8b, v8.8b\n" \
        "sadalp " C0 ".4s, v10.8h\n sadalp " C1 ".4s, v11.8h\n"
#define QUANTA_TROWS(LD, STEP) \
        QUANTA_TROW(LD, "%[a0]", STEP, "%[c00]", "%[c01]") QUANTA_TROW(LD, "%[a1]", STEP, "%[c10]", "%[c11]") \
        QUANTA_TROW(LD, "%[a2]", STEP, "%[c20]", "%[c21]") QUANTA_TROW(LD, "%[a3]", STEP, "%[c30]", "%[c31]")
        "cbz %[k2], 3f\n"
        "ld1 {v0.8b, v1.8b}, [%[w0]], #16\n"
        QUANTA_TROWS("ld1r {v8.4h},", "#2")
        "3:\n"
        "cbz %[k1], 4f\n"
        "ld1 {v0.8b, v1.8b}, [%[w0]]\n"
        QUANTA_TROWS("ld1r {v8.8b},", "#1")
        "4:\n"
#undef QUANTA_TROWS
#undef QUANTA_TROW
        : [k4] "+r"(k4), [w0] "+r"(w0), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),
          [c00] "=&w"(c00), [c01] "=&w"(c01), [c10] "=&w"(c10), [c11] "=&w"(c11),
          [c20] "=&w"(c20), [c21] "=&w"(c21), [c30] "=&w"(c30), [c31] "=&w"(c31)
        : [bias] "r"(bias), [k2] "r"(k2), [k1] "r"(k1)
        : "v0", "v1", "v2", "v3", "v8", "v9", "v10", "v11", "memory", "cc");
    quanta_rq8 r0 = *q0;
#define QUANTA_STORES(V) \
    quanta_store8(out, quanta_rq8_apply(&r0, c00, c01), V); \
    if (rows > 1) quanta_store8(out + s, quanta_rq8_apply(&r0, c10, c11), V); \
    if (rows > 2) quanta_store8(out + 2 * s, quanta_rq8_apply(&r0, c20, c21), V); \
    if (rows > 3) quanta_store8(out + 3 * s, quanta_rq8_apply(&r0, c30, c31), V);
    if (r0.right_only && valid == 8) {
        r0.right_only = 1;
        QUANTA_STORES(8)
    } else {
        QUANTA_STORES(valid)
    }
#undef QUANTA_STORES
}
#endif

#if defined(__aarch64__)
/// One row x 16 channels in assembly (fully connected layers, a last single row): per 4
/// values of k 2 x ld1 {4 d} + 2 ld1r + 4 smull + 4 smlal + 4 sadalp (+2 loop) for 64
/// multiply-accumulates; tails as tile4x16_asm.
static inline __attribute__((always_inline)) void tile1x16_asm(const int8_t *a0, const int8_t *w0, const int8_t *w1,
                                                               const int32_t *bias, const unsigned long ks[3], int8_t *out,
                                                               long valid1, const quanta_rq8 *q0, const quanta_rq8 *q1) {
    unsigned long k4 = ks[0], k2 = ks[1], k1 = ks[2];
    int32x4_t c00, c01, c02, c03;
    __asm__ volatile(
        "ldp %q[c00], %q[c01], [%[bias]]\n"
        "ldp %q[c02], %q[c03], [%[bias], #32]\n"
        "cbz %[k4], 2f\n"
        "1:\n"
        "ld1 {v0.8b, v1.8b, v2.8b, v3.8b}, [%[w0]], #32\n"
        "ld1 {v4.8b, v5.8b, v6.8b, v7.8b}, [%[w1]], #32\n"
        "ld1r {v8.4h}, [%[a0]], #2\n"
        "ld1r {v9.4h}, [%[a0]], #2\n"
        "smull v10.8h, v0.8b, v8.8b\n smull v11.8h, v1.8b, v8.8b\n"
        "smull v12.8h, v4.8b, v8.8b\n smull v13.8h, v5.8b, v8.8b\n"
        "smlal v10.8h, v2.8b, v9.8b\n smlal v11.8h, v3.8b, v9.8b\n"
        "smlal v12.8h, v6.8b, v9.8b\n smlal v13.8h, v7.8b, v9.8b\n"
        "sadalp %[c00].4s, v10.8h\n sadalp %[c01].4s, v11.8h\n"
        "sadalp %[c02].4s, v12.8h\n sadalp %[c03].4s, v13.8h\n"
        "subs %[k4], %[k4], #1\n"
        "b.ne 1b\n"
        "2:\n"
#define QUANTA_TROW(LD, STEP) \
        LD " [%[a0]], " STEP "\n" \
        "smull v10.8h, v0.8b, v8.8b\n smull v11.8h, v1.8b, v8.8b\n" \
        "smull v12.8h, v4.8b, v8.8b\n smull v13.8h, v5.8b, v8.8b\n" \
        "sadalp %[c00].4s, v10.8h\n sadalp %[c01].4s, v11.8h\n" \
        "sadalp %[c02].4s, v12.8h\n sadalp %[c03].4s, v13.8h\n"
        "cbz %[k2], 3f\n"
        "ld1 {v0.8b, v1.8b}, [%[w0]], #16\n"
        "ld1 {v4.8b, v5.8b}, [%[w1]], #16\n"
        QUANTA_TROW("ld1r {v8.4h},", "#2")
        "3:\n"
        "cbz %[k1], 4f\n"
        "ld1 {v0.8b, v1.8b}, [%[w0]]\n"
        "ld1 {v4.8b, v5.8b}, [%[w1]]\n"
        QUANTA_TROW("ld1r {v8.8b},", "#1")
        "4:\n"
#undef QUANTA_TROW
        : [k4] "+r"(k4), [w0] "+r"(w0), [w1] "+r"(w1), [a0] "+r"(a0),
          [c00] "=&w"(c00), [c01] "=&w"(c01), [c02] "=&w"(c02), [c03] "=&w"(c03)
        : [bias] "r"(bias), [k2] "r"(k2), [k1] "r"(k1)
        : "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13", "memory", "cc");
    quanta_rq8 r0 = *q0, r1 = *q1;
    quanta_store8(out, quanta_rq8_apply(&r0, c00, c01), 8);
    quanta_store8(out + 8, quanta_rq8_apply(&r1, c02, c03), valid1);
}
#endif

/// Tiles of 4 rows from `row` over `rows` rows (the last tile may have 2 to 4).
static __attribute__((noinline)) void qk_gemm_mlal_4x16(const quanta_gemm *g, const int8_t *weights, long kPad, long block,
                                                        long row, long rows, const quanta_rq8 *q0, const quanta_rq8 *q1) {
#if defined(__aarch64__)
    const unsigned long depth = (unsigned long)g->depth;
    const unsigned long ks[3] = {depth >> 2, (depth >> 1) & 1, depth & 1};
    quanta_gemm_block b = quanta_gemm_block_at(g, block, row);
    for (long left = rows; left > 0; left -= 4) {
        tile4x16_asm(b.a, b.a_stride, left < 4 ? left : 4, b.w, b.w + 8 * kPad, b.bias, ks, b.out, b.out_stride,
                     b.valid_next, q0, q1);
        b.a += 4 * b.a_stride;
        b.out += 4 * b.out_stride;
    }
#else
    for (long left = rows; left > 0; left -= 4, row += 4) tile(g, weights, kPad, block, 2, row, left < 4 ? left : 4, 4, q0, q1);
#endif
}

static __attribute__((noinline)) void qk_gemm_mlal_1x16(const quanta_gemm *g, const int8_t *w, long kPad, long block, long row,
                                                        const quanta_rq8 *q0, const quanta_rq8 *q1) {
#if defined(__aarch64__)
    const unsigned long depth = (unsigned long)g->depth;
    const unsigned long ks[3] = {depth >> 2, (depth >> 1) & 1, depth & 1};
    const quanta_gemm_block b = quanta_gemm_block_at(g, block, row);
    tile1x16_asm(b.a, b.w, b.w + 8 * kPad, b.bias, ks, b.out, b.valid_next, q0, q1);
#else
    tile(g, w, kPad, block, 2, row, 1, 1, q0, q1);
#endif
}

/// Tiles of 4 rows of the last (single) block from `row` over `rows` rows (the last tile
/// may have 2 to 4).
static __attribute__((noinline)) void qk_gemm_mlal_4x8(const quanta_gemm *g, const int8_t *weights, long kPad, long block,
                                                       long row, long rows, const quanta_rq8 *q0) {
#if defined(__aarch64__)
    const unsigned long depth = (unsigned long)g->depth;
    const unsigned long ks[3] = {depth >> 2, (depth >> 1) & 1, depth & 1};
    quanta_gemm_block b = quanta_gemm_block_at(g, block, row);
    for (long left = rows; left > 0; left -= 4) {
        tile4x8_asm(b.a, b.a_stride, left < 4 ? left : 4, b.w, b.bias, ks, b.out, b.out_stride, b.valid, q0);
        b.a += 4 * b.a_stride;
        b.out += 4 * b.out_stride;
    }
#else
    for (long left = rows; left > 0; left -= 4, row += 4) tile(g, weights, kPad, block, 1, row, left < 4 ? left : 4, 4, q0, q0);
#endif
}

static __attribute__((noinline)) void qk_gemm_mlal_1x8(const quanta_gemm *g, const int8_t *w, long kPad, long block, long row,
                                               const quanta_rq8 *q0) {
    tile(g, w, kPad, block, 1, row, 1, 1, q0, q0);
}

void quanta_gemm_neon_mlal(const quanta_gemm *g) {
    const long kPad = (g->depth + 1) & ~1L;
    const long nPad = (g->columns + 7) & ~7L;
    const int8_t *weights = (const int8_t *)g->packed + 4 * nPad;
    const long blocks = nPad / 8;
    long block = 0;
    for (; block + 2 <= blocks; block += 2) {
        const long n0 = block * 8;
        quanta_rq8 q0 = quanta_rq8_make(&g->requantization, g->channel_offset + n0, 8);
        quanta_rq8 q1 = quanta_rq8_make(&g->requantization, g->channel_offset + n0 + 8, g->columns - n0 - 8);
        // Rows in tiles of 4 (the last with 2 to 4 of them), a last single row alone.
        const long fours = g->rows % 4 == 1 ? g->rows - 1 : g->rows;
        if (fours > 0) qk_gemm_mlal_4x16(g, weights, kPad, block, 0, fours, &q0, &q1);
        if (fours < g->rows) qk_gemm_mlal_1x16(g, weights, kPad, block, fours, &q0, &q1);
    }
    if (block < blocks) {
        quanta_rq8 q0 = quanta_rq8_make(&g->requantization, g->channel_offset + block * 8, g->columns - block * 8);
        const long fours = g->rows % 4 == 1 ? g->rows - 1 : g->rows;
        if (fours > 0) qk_gemm_mlal_4x8(g, weights, kPad, block, 0, fours, &q0);
        if (fours < g->rows) qk_gemm_mlal_1x8(g, weights, kPad, block, fours, &q0);
    }
}
#endif
