// Σ w[i]·(x[i] − zero_point) over n int8 values (one fully connected output before bias),
// NEON: 16 values per step, `smull` of 8 lanes into int16 (|w·x| <= 2^14 fits) and
// `sadalp` into int32 lanes; the zero point's term as zero_point·Σw, Σw by `saddlp` /
// `sadalp`. Exact for every int8 (no pair of products is summed in int16). The scalar tail
// and the lane order do not change the int32 sum (the loader bounds it).
#if defined(__ARM_NEON)
#include <arm_neon.h>
#include "quanta_kernels.h"

int32_t quanta_dot_s8(const int8_t *w, const int8_t *x, long n, int32_t zero_point) {
    int32x4_t products = vdupq_n_s32(0), weights = vdupq_n_s32(0);
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        const int8x16_t a = vld1q_s8(w + i), b = vld1q_s8(x + i);
        products = vpadalq_s16(products, vmull_s8(vget_low_s8(a), vget_low_s8(b)));
        products = vpadalq_s16(products, vmull_s8(vget_high_s8(a), vget_high_s8(b)));
        weights = vpadalq_s16(weights, vpaddlq_s8(a));
    }
    int32_t sum = vgetq_lane_s32(products, 0) + vgetq_lane_s32(products, 1) + vgetq_lane_s32(products, 2) + vgetq_lane_s32(products, 3);
    int32_t wsum = vgetq_lane_s32(weights, 0) + vgetq_lane_s32(weights, 1) + vgetq_lane_s32(weights, 2) + vgetq_lane_s32(weights, 3);
    for (; i < n; i++) {
        sum += (int32_t)w[i] * x[i];
        wsum += w[i];
    }
    return (int32_t)((uint32_t)sum - (uint32_t)zero_point * (uint32_t)wsum);
}
#endif
