// qs8 depthwise 3x3, 16 channels x one output row's interior pixels, NEON (aarch64 and
// armv7). Per pixel and 16 channels:
//     9 x ldr q                         the taps (three window rows, two column offsets)
//     smull/smull2 + smlal/smlal2       two taps' raw products summed in int16 (|w| <= 127:
//                                       a pair is within 2 * 128 * 127 = 32512)
//     saddw/saddw2                      each pair into the four int32 accumulators
//     the output stage (requantization-neon.h) and one str q
// The zero point is folded into the bias by the caller (DepthwiseConv.rows).
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

/// One pixel from nine tap pointers: the accumulators of 16 channels.
static inline __attribute__((always_inline)) void taps9(int32x4_t acc[4], const int8_t *const t[9], const int8x16_t w[9]) {
    pair(acc, vld1q_s8(t[0]), w[0], vld1q_s8(t[1]), w[1]);
    pair(acc, vld1q_s8(t[2]), w[2], vld1q_s8(t[3]), w[3]);
    pair(acc, vld1q_s8(t[4]), w[4], vld1q_s8(t[5]), w[5]);
    pair(acc, vld1q_s8(t[6]), w[6], vld1q_s8(t[7]), w[7]);
    single(acc, vld1q_s8(t[8]), w[8]);
}

/// The row; `left` (a constant at each call) says whether any shift is positive.
static inline __attribute__((always_inline)) void row16(const quanta_dwconv3x3 *d, const quanta_rq16 *q, int left) {
    int8x16_t w[9];
    for (int t = 0; t < 9; t++) w[t] = vld1q_s8(d->weights + t * d->weight_stride);
    const int32x4_t b0 = vld1q_s32(d->folded), b1 = vld1q_s32(d->folded + 4);
    const int32x4_t b2 = vld1q_s32(d->folded + 8), b3 = vld1q_s32(d->folded + 12);
    // A tap outside the input reads the zero point, whose product the folded bias cancels.
    int8_t zp[16];
    for (int i = 0; i < 16; i++) zp[i] = d->input_zero_point;
    const long c = d->channels, sw = d->stride_w;
    const long row_step = d->input_w * c;
    // Interior columns: ox in [x_begin, x_end) have their whole window inside the row.
    long x_begin = (d->pad_left + sw - 1) / sw;
    if (x_begin > d->output_w) x_begin = d->output_w;
    long last = d->input_w - 3 + d->pad_left;
    long x_end = last >= 0 ? last / sw + 1 : 0;
    if (x_end > d->output_w) x_end = d->output_w;
    if (x_end < x_begin) x_end = x_begin;
    int rows_inside = d->y0 >= 0 && d->y0 + 2 < d->input_h;
    if (!rows_inside) { x_begin = d->output_w; x_end = d->output_w; }
    for (long ox = 0; ox < d->output_w; ox++) {
        if (ox == x_begin) {
            // Interior: three row pointers advanced by the stride; no checks.
            const int8_t *r0 = d->input + d->y0 * row_step + (ox * sw - d->pad_left) * c;
            int8_t *out = d->output + ox * d->output_step;
            for (; ox < x_end; ox++) {
                const int8_t *r1 = r0 + row_step, *r2 = r1 + row_step;
                int32x4_t acc[4] = {b0, b1, b2, b3};
                pair(acc, vld1q_s8(r0), w[0], vld1q_s8(r0 + c), w[1]);
                pair(acc, vld1q_s8(r0 + 2 * c), w[2], vld1q_s8(r1), w[3]);
                pair(acc, vld1q_s8(r1 + c), w[4], vld1q_s8(r1 + 2 * c), w[5]);
                pair(acc, vld1q_s8(r2), w[6], vld1q_s8(r2 + c), w[7]);
                single(acc, vld1q_s8(r2 + 2 * c), w[8]);
                vst1q_s8(out, quanta_rq16_apply(q, acc, left));
                r0 += sw * c;
                out += d->output_step;
            }
            if (ox >= d->output_w) break;
        }
        const int8_t *t[9];
        const long x0 = ox * sw - d->pad_left;
        for (int ky = 0; ky < 3; ky++) {
            const long iy = d->y0 + ky;
            for (int kx = 0; kx < 3; kx++) {
                const long ix = x0 + kx;
                t[ky * 3 + kx] = iy < 0 || iy >= d->input_h || ix < 0 || ix >= d->input_w ? zp : d->input + (iy * d->input_w + ix) * c;
            }
        }
        int32x4_t acc[4] = {b0, b1, b2, b3};
        taps9(acc, t, w);
        vst1q_s8(d->output + ox * d->output_step, quanta_rq16_apply(q, acc, left));
    }
}

void quanta_dwconv3x3_row16(const quanta_dwconv3x3 *d) {
    const quanta_rq16 q = quanta_rq16_make(d->requantization, d->first_channel);
    if (q.shifts_left) {
        row16(d, &q, 1);
    } else {
        row16(d, &q, 0);
    }
}
#endif
