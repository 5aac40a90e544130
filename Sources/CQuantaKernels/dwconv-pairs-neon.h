// The depthwise kernels' products (dwconv-3x3-neon.c, dwconv-neon.c): two taps' raw int8
// products summed exactly in int16 (|w| <= 127: a pair is within 2 * 128 * 127 = 32512),
// then widened into four int32 accumulators of 16 channels with saddw/saddw2.
#ifndef QUANTA_DWCONV_PAIRS_NEON_H
#define QUANTA_DWCONV_PAIRS_NEON_H

#if defined(__ARM_NEON)
#include "requantization-neon.h"

static inline __attribute__((always_inline)) void pair(int32x4_t acc[4], int8x16_t x0, int8x16_t w0, int8x16_t x1, int8x16_t w1) {
    int16x8_t lo = vmlal_s8(vmull_s8(vget_low_s8(x0), vget_low_s8(w0)), vget_low_s8(x1), vget_low_s8(w1));
#if defined(__aarch64__)
    int16x8_t hi = vmlal_high_s8(vmull_high_s8(x0, w0), x1, w1);
    acc[1] = vaddw_high_s16(acc[1], lo);
    acc[3] = vaddw_high_s16(acc[3], hi);
#else
    int16x8_t hi = vmlal_s8(vmull_s8(vget_high_s8(x0), vget_high_s8(w0)), vget_high_s8(x1), vget_high_s8(w1));
    acc[1] = vaddw_s16(acc[1], vget_high_s16(lo));
    acc[3] = vaddw_s16(acc[3], vget_high_s16(hi));
#endif
    acc[0] = vaddw_s16(acc[0], vget_low_s16(lo));
    acc[2] = vaddw_s16(acc[2], vget_low_s16(hi));
}

static inline __attribute__((always_inline)) void single(int32x4_t acc[4], int8x16_t x0, int8x16_t w0) {
    int16x8_t lo = vmull_s8(vget_low_s8(x0), vget_low_s8(w0));
#if defined(__aarch64__)
    int16x8_t hi = vmull_high_s8(x0, w0);
    acc[1] = vaddw_high_s16(acc[1], lo);
    acc[3] = vaddw_high_s16(acc[3], hi);
#else
    int16x8_t hi = vmull_s8(vget_high_s8(x0), vget_high_s8(w0));
    acc[1] = vaddw_s16(acc[1], vget_high_s16(lo));
    acc[3] = vaddw_s16(acc[3], vget_high_s16(hi));
#endif
    acc[0] = vaddw_s16(acc[0], vget_low_s16(lo));
    acc[2] = vaddw_s16(acc[2], vget_low_s16(hi));
}

#endif
#endif
