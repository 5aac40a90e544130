// qs8 depthwise 3x3, 16 channels x one output row's interior pixels, NEON (aarch64 and
// armv7). Per pixel and 16 channels:
//     9 x ldr q                         the taps (three window rows, two column offsets)
//     smull/smull2 + smlal/smlal2       two taps' raw products summed in int16 (|w| <= 127:
//                                       a pair is within 2 * 128 * 127 = 32512)
//     saddw/saddw2                      each pair into the four int32 accumulators
//     the output stage (requantization-neon.h) and one str q
// The zero point is folded into the bias by the caller (DepthwiseConv.rows).
#if defined(__ARM_NEON)
#include "dwconv-pairs-neon.h"

/// One pixel from nine tap pointers: the accumulators of 16 channels.
static inline __attribute__((always_inline)) void taps9(int32x4_t acc[4], const int8_t *const t[9], const int8x16_t w[9]) {
    pair(acc, vld1q_s8(t[0]), w[0], vld1q_s8(t[1]), w[1]);
    pair(acc, vld1q_s8(t[2]), w[2], vld1q_s8(t[3]), w[3]);
    pair(acc, vld1q_s8(t[4]), w[4], vld1q_s8(t[5]), w[5]);
    pair(acc, vld1q_s8(t[6]), w[6], vld1q_s8(t[7]), w[7]);
    single(acc, vld1q_s8(t[8]), w[8]);
}

/// One output row of one 16-channel block; `left` (a constant at each call) picks the
/// output stage (quanta_rq16_apply).
static inline __attribute__((always_inline)) void row16(const quanta_dwconv3x3 *d, const int8_t *image, int8_t *out_row,
                                                        long y0, const int8x16_t w[9], const int32x4_t b[4],
                                                        const int8_t *zp, const quanta_rq16 *q, int left) {
    const long c = d->channels, sw = d->stride_w;
    const long row_step = d->input_w * c;
    // Interior columns: ox in [x_begin, x_end) have their whole window inside the row.
    long x_begin = (d->pad_left + sw - 1) / sw;
    if (x_begin > d->output_w) x_begin = d->output_w;
    long last = d->input_w - 3 + d->pad_left;
    long x_end = last >= 0 ? last / sw + 1 : 0;
    if (x_end > d->output_w) x_end = d->output_w;
    if (x_end < x_begin) x_end = x_begin;
    const int rows_inside = y0 >= 0 && y0 + 2 < d->input_h;
    // The window's three input rows (NULL outside the input), for the edge columns.
    const int8_t *row_base[3];
    for (int ky = 0; ky < 3; ky++) row_base[ky] = y0 + ky >= 0 && y0 + ky < d->input_h ? image + (y0 + ky) * row_step : 0;
    for (long ox = 0; ox < d->output_w; ox++) {
        if (ox == x_begin && !rows_inside) {
            // Interior columns of a row whose window has a row outside the input (top or
            // bottom padding): that row's pointer stays on the zero-point vector (column
            // and pixel steps 0), the others advance as in the interior.
            const int8_t *r[3];
            long cs[3], adv[3];
            for (int ky = 0; ky < 3; ky++) {
                const long iy = y0 + ky;
                const int inside = iy >= 0 && iy < d->input_h;
                r[ky] = inside ? image + iy * row_step + (ox * sw - d->pad_left) * c : zp;
                cs[ky] = inside ? c : 0;
                adv[ky] = inside ? sw * c : 0;
            }
            int8_t *out = out_row + ox * d->output_step;
#pragma clang loop unroll(disable)
            for (; ox < x_end; ox++) {
                int32x4_t acc[4] = {b[0], b[1], b[2], b[3]};
                pair(acc, vld1q_s8(r[0]), w[0], vld1q_s8(r[0] + cs[0]), w[1]);
                pair(acc, vld1q_s8(r[0] + 2 * cs[0]), w[2], vld1q_s8(r[1]), w[3]);
                pair(acc, vld1q_s8(r[1] + cs[1]), w[4], vld1q_s8(r[1] + 2 * cs[1]), w[5]);
                pair(acc, vld1q_s8(r[2]), w[6], vld1q_s8(r[2] + cs[2]), w[7]);
                single(acc, vld1q_s8(r[2] + 2 * cs[2]), w[8]);
                vst1q_s8(out, quanta_rq16_apply(q, acc, left));
                r[0] += adv[0];
                r[1] += adv[1];
                r[2] += adv[2];
                out += d->output_step;
            }
            if (ox >= d->output_w) break;
        } else if (ox == x_begin) {
            // Interior: three row pointers advanced by the stride; no checks. Not unrolled:
            // two pixels at once need more than the 32 vector registers (9 weights, 4 bias,
            // the output stage's constants, 8 accumulators) and spilled.
            const int8_t *r0 = image + y0 * row_step + (ox * sw - d->pad_left) * c;
            int8_t *out = out_row + ox * d->output_step;
#pragma clang loop unroll(disable)
            for (; ox < x_end; ox++) {
                const int8_t *r1 = r0 + row_step, *r2 = r1 + row_step;
                int32x4_t acc[4] = {b[0], b[1], b[2], b[3]};
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
        // Edge: tap pointers; a tap outside the input reads the zero point, whose product
        // the folded bias cancels.
        const int8_t *t[9];
        const long x0 = ox * sw - d->pad_left;
        for (int kx = 0; kx < 3; kx++) {
            const long ix = x0 + kx;
            const int col_inside = ix >= 0 && ix < d->input_w;
            for (int ky = 0; ky < 3; ky++) t[ky * 3 + kx] = col_inside && row_base[ky] ? row_base[ky] + ix * c : zp;
        }
        int32x4_t acc[4] = {b[0], b[1], b[2], b[3]};
        taps9(acc, t, w);
        vst1q_s8(out_row + ox * d->output_step, quanta_rq16_apply(q, acc, left));
    }
}

void quanta_dwconv3x3_run(const quanta_dwconv3x3 *d) {
    int8_t zp[16];
    for (int i = 0; i < 16; i++) zp[i] = d->input_zero_point;
    const int16x8_t zp16 = vdupq_n_s16(d->input_zero_point);
    for (long c0 = 0; c0 < d->channels; c0 += 16) {
        // A last partial block is computed as the last 16 channels (channels >= 16): the
        // channels it shares with the block before get the same values again.
        if (c0 + 16 > d->channels) c0 = d->channels - 16;
        const quanta_rq16 q = quanta_rq16_make(d->requantization, c0);
        int8x16_t w[9];
        // folded = bias - zp * sum of the taps' weights (|sum| <= 9 * 127).
        int16x8_t sum_lo = vdupq_n_s16(0), sum_hi = vdupq_n_s16(0);
        for (int t = 0; t < 9; t++) {
            w[t] = vld1q_s8(d->weights + t * d->weight_stride + c0);
            sum_lo = vaddw_s8(sum_lo, vget_low_s8(w[t]));
            sum_hi = vaddw_s8(sum_hi, vget_high_s8(w[t]));
        }
        const int32_t *bias = d->bias + c0;
        int32x4_t b[4] = {
            vsubq_s32(vld1q_s32(bias), vmull_s16(vget_low_s16(sum_lo), vget_low_s16(zp16))),
            vsubq_s32(vld1q_s32(bias + 4), vmull_s16(vget_high_s16(sum_lo), vget_high_s16(zp16))),
            vsubq_s32(vld1q_s32(bias + 8), vmull_s16(vget_low_s16(sum_hi), vget_low_s16(zp16))),
            vsubq_s32(vld1q_s32(bias + 12), vmull_s16(vget_high_s16(sum_hi), vget_high_s16(zp16))),
        };
        for (long n = 0; n < d->batches; n++) {
            const int8_t *image = d->input + n * d->input_h * d->input_w * d->channels + c0;
            for (long oy = 0; oy < d->output_h; oy++) {
                int8_t *out_row = d->output + (n * d->output_h + oy) * d->output_w * d->output_step + c0;
                const long y0 = oy * d->stride_h - d->pad_top;
                if (q.right_only) {
                    row16(d, image, out_row, y0, w, b, zp, &q, 0);
                } else if (q.shifts_left) {
                    row16(d, image, out_row, y0, w, b, zp, &q, 1);
                } else {
                    row16(d, image, out_row, y0, w, b, zp, &q, 2);
                }
            }
        }
    }
}
#endif
