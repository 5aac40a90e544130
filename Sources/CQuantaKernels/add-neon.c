// qs8 elementwise add of two same-shape operands (TFLite's int8 add), NEON, 16 lanes:
//     a' = RDBPOT(SRDHM((a - za) << left, Ma), -sa)      (the same for b)
//     out = clamp(RDBPOT(SRDHM(a' + b', Mo), -so) + zo, lo, hi)
// with shifts sa, sb, so <= 0 and left <= 22 (|(q - z) << left| < 2^30: the sum a' + b'
// cannot overflow). SRDHM is sqrdmulh; RDBPOT rounds half away from zero: ssra of the
// sign, then srshl, where the shift is negative; a shift of 0 leaves the value.
#if defined(__ARM_NEON)
#include <arm_neon.h>
#include "quanta_kernels.h"

/// SRDHM then RDBPOT of 4 lanes by a uniform exponent; `right` is shift (<= 0) in every
/// lane, `round` whether it is below 0.
static inline __attribute__((always_inline)) int32x4_t scale4(int32x4_t x, int32x4_t m, int32x4_t right, int round) {
    x = vqrdmulhq_s32(x, m);
    return round ? vrshlq_s32(vsraq_n_s32(x, x, 31), right) : x;
}

static inline __attribute__((always_inline)) int8x16_t add16(int8x16_t a, int8x16_t b, const quanta_add *p, int ra, int rb, int ro) {
    const int8x8_t za = vdup_n_s8((int8_t)p->input1_zero_point), zb = vdup_n_s8((int8_t)p->input2_zero_point);
    const int32x4_t left = vdupq_n_s32(p->left_shift);
    const int32x4_t ma = vdupq_n_s32(p->input1_multiplier), mb = vdupq_n_s32(p->input2_multiplier), mo = vdupq_n_s32(p->output_multiplier);
    const int32x4_t sa = vdupq_n_s32(p->input1_shift), sb = vdupq_n_s32(p->input2_shift), so = vdupq_n_s32(p->output_shift);
    const int16x8_t a0 = vsubl_s8(vget_low_s8(a), za), a1 = vsubl_s8(vget_high_s8(a), za);
    const int16x8_t b0 = vsubl_s8(vget_low_s8(b), zb), b1 = vsubl_s8(vget_high_s8(b), zb);
    int32x4_t s[4];
    s[0] = vaddq_s32(scale4(vshlq_s32(vmovl_s16(vget_low_s16(a0)), left), ma, sa, ra),
                     scale4(vshlq_s32(vmovl_s16(vget_low_s16(b0)), left), mb, sb, rb));
    s[1] = vaddq_s32(scale4(vshlq_s32(vmovl_s16(vget_high_s16(a0)), left), ma, sa, ra),
                     scale4(vshlq_s32(vmovl_s16(vget_high_s16(b0)), left), mb, sb, rb));
    s[2] = vaddq_s32(scale4(vshlq_s32(vmovl_s16(vget_low_s16(a1)), left), ma, sa, ra),
                     scale4(vshlq_s32(vmovl_s16(vget_low_s16(b1)), left), mb, sb, rb));
    s[3] = vaddq_s32(scale4(vshlq_s32(vmovl_s16(vget_high_s16(a1)), left), ma, sa, ra),
                     scale4(vshlq_s32(vmovl_s16(vget_high_s16(b1)), left), mb, sb, rb));
    int16x4_t n[4];
    for (int i = 0; i < 4; i++) n[i] = vqmovn_s32(scale4(s[i], mo, so, ro));
    const int16x8_t zo = vdupq_n_s16((int16_t)p->output_zero_point);
    const int16x8_t y0 = vqaddq_s16(vcombine_s16(n[0], n[1]), zo), y1 = vqaddq_s16(vcombine_s16(n[2], n[3]), zo);
    const int8x16_t y = vcombine_s8(vqmovn_s16(y0), vqmovn_s16(y1));
    return vminq_s8(vmaxq_s8(y, vdupq_n_s8((int8_t)p->clamp_min)), vdupq_n_s8((int8_t)p->clamp_max));
}

static inline __attribute__((always_inline)) void add_all(const int8_t *a, const int8_t *b, int8_t *out, long count,
                                                          const quanta_add *params, int ra, int rb, int ro) {
    // A local copy: int8 stores may alias *params, so its fields would be read (and
    // broadcast) again after every store.
    const quanta_add local = *params;
    const quanta_add *p = &local;
    long i = 0;
    for (; i + 16 <= count; i += 16) vst1q_s8(out + i, add16(vld1q_s8(a + i), vld1q_s8(b + i), p, ra, rb, ro));
    if (i < count) {
        // The last 1...15 lanes through a copy (out may be a or b: no overlapping redo).
        int8_t ta[16] = {0}, tb[16] = {0}, to[16];
        for (long j = 0; j < count - i; j++) { ta[j] = a[i + j]; tb[j] = b[i + j]; }
        vst1q_s8(to, add16(vld1q_s8(ta), vld1q_s8(tb), p, ra, rb, ro));
        for (long j = 0; j < count - i; j++) out[i + j] = to[j];
    }
}

void quanta_add_run(const int8_t *a, const int8_t *b, int8_t *out, long count, const quanta_add *p) {
    const int ra = p->input1_shift < 0, rb = p->input2_shift < 0, ro = p->output_shift < 0;
    if (ra && rb && ro) {
        add_all(a, b, out, count, p, 1, 1, 1);
    } else {
        add_all(a, b, out, count, p, ra, rb, ro);
    }
}
#endif
