// float32 -> int8 quantization of a model input, NEON: q = clamp(round_half_away(x / scale)
// + zero_point, -128, 127), NaN -> zero_point, as Quantizer.quantize. The division is
// IEEE (fdiv, correctly rounded: the same quotient as Swift's `/`); fcvtas rounds half away
// from zero and saturates, so infinities saturate as in Swift. armv7 NEON has neither a
// vector divide nor fcvtas: it takes the scalar loop.
#if defined(__ARM_NEON)
#include <arm_neon.h>
#include "quanta_kernels.h"

static inline int8_t quantize1(float x, float scale, int32_t zp) {
    float s = __builtin_roundf(x / scale);  // half away from zero
    if (s != s) {  // NaN
        return (int8_t)(zp < -128 ? -128 : zp > 127 ? 127 : zp);
    }
    float shifted = s + (float)zp;
    if (shifted <= -128.0f) return -128;
    if (shifted >= 127.0f) return 127;
    return (int8_t)shifted;
}

#if defined(__aarch64__)
/// 16 quantized values of src[0..<16]; `zp` the zero point in every int16 lane. The zero
/// point is added after the narrowing to int16 (saturating): the same int8 as adding it
/// in int32, since a value beyond int16 stays beyond int8 after adding |zp| <= 128.
static inline __attribute__((always_inline)) int8x16_t quantize16(const float *src, float32x4_t scale, int16x8_t zp) {
    int32x4_t q[4];
    for (int i = 0; i < 4; i++) q[i] = vcvtaq_s32_f32(vdivq_f32(vld1q_f32(src + 4 * i), scale));
    int16x8_t lo = vqaddq_s16(vcombine_s16(vqmovn_s32(q[0]), vqmovn_s32(q[1])), zp);
    int16x8_t hi = vqaddq_s16(vcombine_s16(vqmovn_s32(q[2]), vqmovn_s32(q[3])), zp);
    return vcombine_s8(vqmovn_s16(lo), vqmovn_s16(hi));
}
#endif

void quanta_quantize_planes(const float *src, long planes, long plane_size, int8_t *dst, float scale, int32_t zero_point) {
    long p = 0;
#if defined(__aarch64__)
    // fcvtas gives 0 for NaN: + zero_point, saturated, is Swift's NaN result too. (A zero
    // point outside int8, which no valid model has, takes the scalar loop.)
    const float32x4_t s = vdupq_n_f32(scale);
    const int16x8_t zp = vdupq_n_s16((int16_t)zero_point);
    if (zero_point < -128 || zero_point > 127) {
        // the scalar loop below
    } else if (planes == 3) {
        for (; p + 16 <= plane_size; p += 16) {
            int8x16x3_t v = {{quantize16(src + p, s, zp), quantize16(src + plane_size + p, s, zp),
                              quantize16(src + 2 * plane_size + p, s, zp)}};
            vst3q_s8(dst + 3 * p, v);
        }
    } else if (planes == 1) {
        for (; p + 16 <= plane_size; p += 16) vst1q_s8(dst + p, quantize16(src + p, s, zp));
    } else {
        for (; p + 16 <= plane_size; p += 16) {
            for (long c = 0; c < planes; c++) {
                int8_t t[16];
                vst1q_s8(t, quantize16(src + c * plane_size + p, s, zp));
                for (int i = 0; i < 16; i++) dst[(p + i) * planes + c] = t[i];
            }
        }
    }
#endif
    for (; p < plane_size; p++) {
        for (long c = 0; c < planes; c++) dst[p * planes + c] = quantize1(src[c * plane_size + p], scale, zero_point);
    }
}
#endif
