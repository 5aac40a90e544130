// qs8 depthwise convolution of any kernel size up to 8x8 (MobileNetV3's and PP-LCNet's 5x5,
// dilated 3x3, 7x7), multiplier 1, any stride, dilation and padding, NEON (aarch64 and
// armv7): 16 channels x one output row at a time, taps in pairs of raw products summed in
// int16 and widened by saddw (dwconv-pairs-neon.h), TFLite's output stage. Per pixel and 16
// channels: kernel_h * kernel_w loads of the input and of the weights (the taps' weights do
// not all fit the registers), the products, and the output stage; the 5x5 form has its
// taps unrolled. The zero point is folded into the bias (a tap outside the input reads the
// zero point, whose product the folded bias cancels): an edge pixel's window is copied
// with the zero point in the taps outside, then takes the interior path.
#if defined(__ARM_NEON)
#include "dwconv-pairs-neon.h"

enum { QUANTA_DW_MAX_TAPS = 64 };

/// The accumulators of 16 channels of one interior pixel whose window starts at `first`:
/// tap (ky, kx) at first + ky * rs + kx * cs. `first` is made opaque to the compiler so that
/// it computes the row pointers per pixel rather than keeping a pointer per tap across the
/// row (25 pointers for 5x5, spilled).
static inline __attribute__((always_inline)) void dw_window(int32x4_t acc[4], const int8_t *first, long rs, long cs,
                                                            const int8x16_t *w, long kh, long kw) {
    __asm__("" : "+r"(first));
    if (kh == 5 && kw == 5) {
        // Unrolled: five row pointers, the column offsets cs ... 4 cs loop-invariant.
        const int8_t *r0 = first, *r1 = r0 + rs, *r2 = r1 + rs, *r3 = r2 + rs, *r4 = r3 + rs;
#define QUANTA_T(R, K) vld1q_s8(R + (K) * cs)
        pair(acc, QUANTA_T(r0, 0), w[0], QUANTA_T(r0, 1), w[1]);
        pair(acc, QUANTA_T(r0, 2), w[2], QUANTA_T(r0, 3), w[3]);
        pair(acc, QUANTA_T(r0, 4), w[4], QUANTA_T(r1, 0), w[5]);
        pair(acc, QUANTA_T(r1, 1), w[6], QUANTA_T(r1, 2), w[7]);
        pair(acc, QUANTA_T(r1, 3), w[8], QUANTA_T(r1, 4), w[9]);
        pair(acc, QUANTA_T(r2, 0), w[10], QUANTA_T(r2, 1), w[11]);
        pair(acc, QUANTA_T(r2, 2), w[12], QUANTA_T(r2, 3), w[13]);
        pair(acc, QUANTA_T(r2, 4), w[14], QUANTA_T(r3, 0), w[15]);
        pair(acc, QUANTA_T(r3, 1), w[16], QUANTA_T(r3, 2), w[17]);
        pair(acc, QUANTA_T(r3, 3), w[18], QUANTA_T(r3, 4), w[19]);
        pair(acc, QUANTA_T(r4, 0), w[20], QUANTA_T(r4, 1), w[21]);
        pair(acc, QUANTA_T(r4, 2), w[22], QUANTA_T(r4, 3), w[23]);
        single(acc, QUANTA_T(r4, 4), w[24]);
#undef QUANTA_T
        return;
    }
    // Any size: the taps in (ky, kx) order, paired across row ends.
    const int8_t *pending = 0;
    long pending_tap = 0;
    for (long ky = 0; ky < kh; ky++) {
        const int8_t *row = first + ky * rs;
        for (long kx = 0; kx < kw; kx++) {
            const long t = ky * kw + kx;
            if (pending) {
                pair(acc, vld1q_s8(pending), w[pending_tap], vld1q_s8(row + kx * cs), w[t]);
                pending = 0;
            } else {
                pending = row + kx * cs;
                pending_tap = t;
            }
        }
    }
    if (pending) single(acc, vld1q_s8(pending), w[pending_tap]);
}

/// One output row of one 16-channel block, `kh` x `kw` taps (dw_window unrolls the 5x5
/// window). Interior pixels (whole window inside the input) address their taps from
/// the window's first tap; the others run the same on a copy of their window in which the
/// taps outside the input hold the zero point.
static inline __attribute__((always_inline)) void dw_row(const quanta_dwconv *d, const int8_t *image, int8_t *out_row,
                                                         long y0, const int8x16_t *w, const int32x4_t b[4], const int8_t *zp,
                                                         const quanta_rq16 *q, long kh, long kw) {
    const long c = d->base.channels, sw = d->base.stride_w, dh = d->dilation_h, dw = d->dilation_w;
    const long row_step = d->base.input_w * c, ostep = d->base.output_step;
    const int left = q->right_only ? 0 : q->shifts_left ? 1 : 2;
    const int rows_inside = y0 >= 0 && y0 + (kh - 1) * dh < d->base.input_h;
    // Output columns whose window lies inside the row: x_begin ..< x_end.
    long x_begin = (d->base.pad_left + sw - 1) / sw;
    if (x_begin > d->base.output_w) x_begin = d->base.output_w;
    const long last = d->base.input_w - 1 - (kw - 1) * dw + d->base.pad_left;
    long x_end = last >= 0 ? last / sw + 1 : 0;
    if (x_end > d->base.output_w) x_end = d->base.output_w;
    if (x_end < x_begin || !rows_inside) x_end = x_begin;
    // An edge pixel's window copied with the zero point outside the input: the interior
    // path then runs on it (taps 16 bytes apart, rows kw taps apart).
    int8_t window[16 * QUANTA_DW_MAX_TAPS] __attribute__((aligned(16)));
    const int8x16_t zpv = vld1q_s8(zp);
    for (long ox = 0; ox < d->base.output_w; ox++) {
        const long x0 = ox * sw - d->base.pad_left;
        if (ox == x_begin && x_end > x_begin) {
            const int8_t *first = image + y0 * row_step + x0 * c;
            int8_t *out = out_row + ox * ostep;
#pragma clang loop unroll(disable)
            for (; ox < x_end; ox++, first += sw * c, out += ostep) {
                int32x4_t acc[4] = {b[0], b[1], b[2], b[3]};
                dw_window(acc, first, dh * row_step, dw * c, w, kh, kw);
                vst1q_s8(out, quanta_rq16_apply(q, acc, left));
            }
            if (ox >= d->base.output_w) break;
        }
        const long x1 = ox * sw - d->base.pad_left;
        int8_t *slot = window;
        for (long ky = 0; ky < kh; ky++) {
            const long iy = y0 + ky * dh;
            const int row_inside = iy >= 0 && iy < d->base.input_h;
            const int8_t *row = image + iy * row_step;
            for (long kx = 0; kx < kw; kx++, slot += 16) {
                const long ix = x1 + kx * dw;
                vst1q_s8(slot, row_inside && ix >= 0 && ix < d->base.input_w ? vld1q_s8(row + ix * c) : zpv);
            }
        }
        int32x4_t acc[4] = {b[0], b[1], b[2], b[3]};
        dw_window(acc, window, 16 * kw, 16, w, kh, kw);
        vst1q_s8(out_row + ox * ostep, quanta_rq16_apply(q, acc, left));
    }
}

void quanta_dwconv_run(const quanta_dwconv *d) {
    const long kh = d->kernel_h, kw = d->kernel_w, taps = kh * kw, c = d->base.channels;
    int8_t zp[16];
    for (int i = 0; i < 16; i++) zp[i] = d->base.input_zero_point;
    const int16x8_t zp16 = vdupq_n_s16(d->base.input_zero_point);
    int8x16_t w[QUANTA_DW_MAX_TAPS];
    for (long c0 = 0; c0 < c; c0 += 16) {
        // A last partial block is computed as the last 16 channels (channels >= 16).
        if (c0 + 16 > c) c0 = c - 16;
        const quanta_rq16 q = quanta_rq16_make(d->base.requantization, c0);
        // folded = bias - zp * sum of the taps' weights (|sum| <= 64 * 127: int16).
        int16x8_t sum_lo = vdupq_n_s16(0), sum_hi = vdupq_n_s16(0);
        for (long t = 0; t < taps; t++) {
            w[t] = vld1q_s8(d->base.weights + t * d->base.weight_stride + c0);
            sum_lo = vaddw_s8(sum_lo, vget_low_s8(w[t]));
            sum_hi = vaddw_s8(sum_hi, vget_high_s8(w[t]));
        }
        const int32_t *bias = d->base.bias + c0;
        const int32x4_t b[4] = {
            vsubq_s32(vld1q_s32(bias), vmull_s16(vget_low_s16(sum_lo), vget_low_s16(zp16))),
            vsubq_s32(vld1q_s32(bias + 4), vmull_s16(vget_high_s16(sum_lo), vget_high_s16(zp16))),
            vsubq_s32(vld1q_s32(bias + 8), vmull_s16(vget_low_s16(sum_hi), vget_low_s16(zp16))),
            vsubq_s32(vld1q_s32(bias + 12), vmull_s16(vget_high_s16(sum_hi), vget_high_s16(zp16))),
        };
        for (long n = 0; n < d->base.batches; n++) {
            const int8_t *image = d->base.input + n * d->base.input_h * d->base.input_w * c + c0;
            for (long oy = 0; oy < d->base.output_h; oy++) {
                int8_t *out_row = d->base.output + (n * d->base.output_h + oy) * d->base.output_w * d->base.output_step + c0;
                const long y0 = oy * d->base.stride_h - d->base.pad_top;
                dw_row(d, image, out_row, y0, w, b, zp, &q, kh, kw);
            }
        }
    }
}
#endif
