// TFLite's per-channel output stage on 8 channels in NEON, shared by the GEMM kernels.
// Bit-exact with Swift's RequantizationBlock8 / FixedPoint.multiplyByQuantizedMultiplier:
//   x = acc << max(shift, 0)                    shl (wrapping, as Swift's &<<)
//   r = SRDHM(x, M)                             sqrdmulh: sat((2 x M + 2^31) >> 32), the
//                                               same value as (x M + 2^30) >> 31 with
//                                               Int32.min * Int32.min saturated
//   y = RDBPOT(r, max(-shift, 0))               round half away from zero: add -1 to a
//                                               negative r (sqadd), then srshl (half up)
//   out = clamp(y + zp, clamp_min, clamp_max)   sqxtn to int16, sqadd zp, sqxtn to int8,
//                                               smax/smin: exact, since the clamp bounds
//                                               lie inside int8
#ifndef QUANTA_REQUANTIZATION_NEON_H
#define QUANTA_REQUANTIZATION_NEON_H

#if defined(__ARM_NEON)
#include <arm_neon.h>
#include "quanta_kernels.h"

typedef struct {
    int32x4_t m0, m1, left0, left1, right0, right1;
    int16x8_t zp;
    int8x8_t lo, hi;
    int right_only;  // every stored lane shifts right (shift < 0): see quanta_rq_scale_right
} quanta_rq8;

/// Parameters of channels first + i (i < count, count 1...8) of `r`; lanes past count get
/// multiplier 0 and shift 0 (their outputs are never stored).
static inline quanta_rq8 quanta_rq8_make(const quanta_requantization *r, long first, long count) {
    if (count >= 8) {
        // Vector loads: 8 consecutive channels, or the one per-tensor entry.
        int32x4_t m0, m1, s0, s1;
        if (r->channel_count == 1) {
            m0 = m1 = vdupq_n_s32(r->multipliers[0]);
            s0 = s1 = vdupq_n_s32(r->shifts[0]);
        } else {
            m0 = vld1q_s32(r->multipliers + first);
            m1 = vld1q_s32(r->multipliers + first + 4);
            s0 = vld1q_s32(r->shifts + first);
            s1 = vld1q_s32(r->shifts + first + 4);
        }
        const int32x4_t zero = vdupq_n_s32(0);
        quanta_rq8 q;
        q.m0 = m0;
        q.m1 = m1;
        q.left0 = vmaxq_s32(s0, zero);
        q.left1 = vmaxq_s32(s1, zero);
        q.right0 = vminq_s32(s0, zero);
        q.right1 = vminq_s32(s1, zero);
        // Every shift negative: the sign bits of all 8 lanes set.
        const uint32x4_t neg = vandq_u32(vcltq_s32(s0, zero), vcltq_s32(s1, zero));
        const uint32x2_t half = vand_u32(vget_low_u32(neg), vget_high_u32(neg));
        q.right_only = (vget_lane_u32(half, 0) & vget_lane_u32(half, 1)) != 0;
        q.zp = vdupq_n_s16((int16_t)r->zero_point);
        q.lo = vdup_n_s8((int8_t)r->clamp_min);
        q.hi = vdup_n_s8((int8_t)r->clamp_max);
        return q;
    }
    int32_t m[8] = {0, 0, 0, 0, 0, 0, 0, 0}, l[8] = {0, 0, 0, 0, 0, 0, 0, 0}, s8[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int right_only = 1;
    for (long i = 0; i < count && i < 8; i++) {
        long c = r->channel_count == 1 ? 0 : first + i;
        int32_t s = r->shifts[c];
        m[i] = r->multipliers[c];
        l[i] = s > 0 ? s : 0;
        s8[i] = s < 0 ? s : 0;
        right_only &= s < 0;
    }
    quanta_rq8 q;
    q.right_only = right_only;
    q.m0 = vld1q_s32(m);
    q.m1 = vld1q_s32(m + 4);
    q.left0 = vld1q_s32(l);
    q.left1 = vld1q_s32(l + 4);
    q.right0 = vld1q_s32(s8);
    q.right1 = vld1q_s32(s8 + 4);
    q.zp = vdupq_n_s16((int16_t)r->zero_point);
    q.lo = vdup_n_s8((int8_t)r->clamp_min);
    q.hi = vdup_n_s8((int8_t)r->clamp_max);
    return q;
}

static inline int32x4_t quanta_rq_scale(int32x4_t acc, int32x4_t left, int32x4_t m, int32x4_t right) {
    int32x4_t x = vqrdmulhq_s32(vshlq_s32(acc, left), m);
    int32x4_t fixup = vshrq_n_s32(vandq_s32(x, right), 31);
    return vrshlq_s32(vqaddq_s32(x, fixup), right);
}

/// quanta_rq_scale for a right shift (right < 0 in every lane that matters): no left shift,
/// and the -1 for a negative r is ssra (r + (r >> 31)). r >= -2^31 + 1 since multipliers
/// are in 0 ... 2^31 - 1 (the loader checks m >= 0), so the addition cannot wrap.
static inline int32x4_t quanta_rq_scale_right(int32x4_t acc, int32x4_t m, int32x4_t right) {
    int32x4_t x = vqrdmulhq_s32(acc, m);
    return vrshlq_s32(vsraq_n_s32(x, x, 31), right);
}

/// The 8 int8 outputs of accumulators (c0: channels 0-3, c1: 4-7).
static inline int8x8_t quanta_rq8_apply(const quanta_rq8 *q, int32x4_t c0, int32x4_t c1) {
    int32x4_t y0, y1;
    if (q->right_only) {
        y0 = quanta_rq_scale_right(c0, q->m0, q->right0);
        y1 = quanta_rq_scale_right(c1, q->m1, q->right1);
    } else {
        y0 = quanta_rq_scale(c0, q->left0, q->m0, q->right0);
        y1 = quanta_rq_scale(c1, q->left1, q->m1, q->right1);
    }
    int16x8_t y = vqaddq_s16(vcombine_s16(vqmovn_s32(y0), vqmovn_s32(y1)), q->zp);
    return vmin_s8(vmax_s8(vqmovn_s16(y), q->lo), q->hi);
}

/// The output stage of 16 channels (two quanta_rq8 of consecutive channels), with the
/// narrowing and clamp done once on 16 lanes.
typedef struct {
    int32x4_t m[4], left[4], right[4];
    int16x8_t zp;
    int8x16_t lo, hi;
    int shifts_left;  // 0 when every shift is <= 0: the left shift is skipped
    int right_only;   // every shift < 0: quanta_rq_scale_right
} quanta_rq16;

static inline quanta_rq16 quanta_rq16_make(const quanta_requantization *r, long first) {
    quanta_rq8 a = quanta_rq8_make(r, first, 8), b = quanta_rq8_make(r, first + 8, 8);
    quanta_rq16 q;
    q.m[0] = a.m0; q.m[1] = a.m1; q.m[2] = b.m0; q.m[3] = b.m1;
    q.left[0] = a.left0; q.left[1] = a.left1; q.left[2] = b.left0; q.left[3] = b.left1;
    q.right[0] = a.right0; q.right[1] = a.right1; q.right[2] = b.right0; q.right[3] = b.right1;
    q.zp = a.zp;
    q.lo = vdupq_n_s8((int8_t)r->clamp_min);
    q.hi = vdupq_n_s8((int8_t)r->clamp_max);
    int32x4_t any = vorrq_s32(vorrq_s32(q.left[0], q.left[1]), vorrq_s32(q.left[2], q.left[3]));
    q.shifts_left = (vgetq_lane_s32(any, 0) | vgetq_lane_s32(any, 1) | vgetq_lane_s32(any, 2) | vgetq_lane_s32(any, 3)) != 0;
    q.right_only = a.right_only && b.right_only;
    return q;
}

/// The 16 int8 outputs of accumulators c[0..3] (4 channels each); `left` is a constant
/// at each call: 0 when every shift is negative (q->right_only), 1 when some shift is
/// positive (q->shifts_left), 2 otherwise.
static inline __attribute__((always_inline)) int8x16_t quanta_rq16_apply(const quanta_rq16 *q, const int32x4_t c[4], int left) {
    int16x4_t n[4];
    for (int i = 0; i < 4; i++) {
        if (left == 0) {
            n[i] = vqmovn_s32(quanta_rq_scale_right(c[i], q->m[i], q->right[i]));
            continue;
        }
        int32x4_t x = left == 1 ? vshlq_s32(c[i], q->left[i]) : c[i];
        x = vqrdmulhq_s32(x, q->m[i]);
        int32x4_t fixup = vshrq_n_s32(vandq_s32(x, q->right[i]), 31);
        n[i] = vqmovn_s32(vrshlq_s32(vqaddq_s32(x, fixup), q->right[i]));
    }
    int16x8_t y0 = vqaddq_s16(vcombine_s16(n[0], n[1]), q->zp);
    int16x8_t y1 = vqaddq_s16(vcombine_s16(n[2], n[3]), q->zp);
    int8x16_t y = vcombine_s8(vqmovn_s16(y0), vqmovn_s16(y1));
    return vminq_s8(vmaxq_s8(y, q->lo), q->hi);
}

/// One column block's operands for the GEMM tiles, from row `row`: its weights and folded
/// bias, the channels it stores (`valid`, and `valid_next` of the block after it), the
/// first row of A and of the output, and their strides.
typedef struct {
    const int8_t *w;
    const int32_t *bias;
    long valid, valid_next;
    const int8_t *a;
    int8_t *out;
    long a_stride, out_stride;
} quanta_gemm_block;

static inline quanta_gemm_block quanta_gemm_block_at(const quanta_gemm *g, long block, long row) {
    const long kPad = (g->depth + 1) & ~1L, nPad = (g->columns + 7) & ~7L, n0 = block * 8;
    quanta_gemm_block b;
    b.w = (const int8_t *)g->packed + 4 * nPad + block * 8 * kPad;
    b.bias = (const int32_t *)g->packed + n0;
    b.valid = g->columns - n0 < 8 ? g->columns - n0 : 8;
    b.valid_next = g->columns - n0 - 8 < 8 ? g->columns - n0 - 8 : 8;
    b.a_stride = g->a_stride;
    b.out_stride = g->out_stride;
    b.a = g->a + row * g->a_stride;
    b.out = g->out + row * g->out_stride + n0;
    return b;
}

/// 16 int8 outputs at once: two sets of 8 (a0/a1 with `qa`, b0/b1 with `qb`: two rows of
/// one block, or two blocks of one row), narrowed and clamped on 16 lanes; for blocks whose
/// every shift is negative (right_only), the form the tiles' common case takes.
static inline __attribute__((always_inline)) int8x16_t quanta_rq8_apply2_right(const quanta_rq8 *qa, int32x4_t a0, int32x4_t a1,
                                                                              const quanta_rq8 *qb, int32x4_t b0, int32x4_t b1) {
    const int16x8_t ya = vcombine_s16(vqmovn_s32(quanta_rq_scale_right(a0, qa->m0, qa->right0)),
                                      vqmovn_s32(quanta_rq_scale_right(a1, qa->m1, qa->right1)));
    const int16x8_t yb = vcombine_s16(vqmovn_s32(quanta_rq_scale_right(b0, qb->m0, qb->right0)),
                                      vqmovn_s32(quanta_rq_scale_right(b1, qb->m1, qb->right1)));
    const int8x16_t y = vcombine_s8(vqmovn_s16(vqaddq_s16(ya, qa->zp)), vqmovn_s16(vqaddq_s16(yb, qb->zp)));
    return vminq_s8(vmaxq_s8(y, vcombine_s8(qa->lo, qb->lo)), vcombine_s8(qa->hi, qb->hi));
}

/// Stores the first `count` (1...8) bytes of v at out.
static inline void quanta_store8(int8_t *out, int8x8_t v, long count) {
    if (count >= 8) {
        vst1_s8(out, v);
    } else {
        int8_t t[8];
        vst1_s8(t, v);
        for (long i = 0; i < count; i++) out[i] = t[i];
    }
}

#endif
#endif
