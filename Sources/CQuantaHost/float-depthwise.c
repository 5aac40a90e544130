// The float depthwise convolution (multiplier 1) of calibration and `quanta eval`
// (FastFloatConv's depthwise case), NHWC: per output pixel its taps inside the input in
// (ky, kx) order, then 32, 8 or fewer channels at a time, each lane summing its bias and
// then its taps with one rounded multiply and one rounded add per product
// (-ffp-contract=off): FloatReference.conv2D's values, bit for bit.
#include "quanta_host.h"
#include "float-vector.h"

#include <stdlib.h>

/// Channels c0 ..< c of one pixel: taps[t] is the offset of tap t's input pixel, rows[t]
/// the offset of its weight row.
static inline void dw_pixel(const float *input, const long *taps, const long *rows, long count, const float *w,
                            const float *bias, long c, float *out, quanta_v8f lo, quanta_v8f hi) {
    long c0 = 0;
    for (; c0 + 32 <= c; c0 += 32) {
        quanta_v8f a0 = load8(bias + c0), a1 = load8(bias + c0 + 8);
        quanta_v8f a2 = load8(bias + c0 + 16), a3 = load8(bias + c0 + 24);
        for (long t = 0; t < count; t++) {
            const float *x = input + taps[t] + c0, *k = w + rows[t] + c0;
            a0 = a0 + load8(x) * load8(k);
            a1 = a1 + load8(x + 8) * load8(k + 8);
            a2 = a2 + load8(x + 16) * load8(k + 16);
            a3 = a3 + load8(x + 24) * load8(k + 24);
        }
        store8(out + c0, clamp8(a0, lo, hi), 8);
        store8(out + c0 + 8, clamp8(a1, lo, hi), 8);
        store8(out + c0 + 16, clamp8(a2, lo, hi), 8);
        store8(out + c0 + 24, clamp8(a3, lo, hi), 8);
    }
    for (; c0 + 8 <= c; c0 += 8) {
        quanta_v8f a = load8(bias + c0);
        for (long t = 0; t < count; t++) a = a + load8(input + taps[t] + c0) * load8(w + rows[t] + c0);
        store8(out + c0, clamp8(a, lo, hi), 8);
    }
    if (c0 < c) {
        // Fewer than 8 channels: the missing lanes read 0 and are not stored (the weights
        // and bias are padded to a multiple of 8).
        const long left = c - c0;
        quanta_v8f a = load8(bias + c0);
        for (long t = 0; t < count; t++) {
            a = a + load8_part(input + taps[t] + c0, left) * load8(w + rows[t] + c0);
        }
        store8(out + c0, clamp8(a, lo, hi), left);
    }
}

/// Output pixels ox0 ..< ox1 of row oy of a 3x3 layer whose windows lie inside the input:
/// per 8 channels the nine weights held in registers while the row is walked. The same sums
/// in the same order as dw_pixel with all nine taps.
static void dw_row3x3(const float *image, const quanta_float_conv_geometry *g, long oy, long ox0, long ox1,
                      const float *w, const float *bias, float *out_row, quanta_v8f lo, quanta_v8f hi) {
    const long c = g->channels, ws = g->weight_stride;
    const long row = g->input_w * c, dx = g->dilation_w * c, dy = g->dilation_h * row, step = g->stride_w * c;
    const float *first = image + (oy * g->stride_h - g->pad_top) * row + (ox0 * g->stride_w - g->pad_left) * c;
    long c0 = 0;
    for (; c0 + 8 <= c; c0 += 8) {
        const quanta_v8f k0 = load8(w + c0), k1 = load8(w + ws + c0), k2 = load8(w + 2 * ws + c0);
        const quanta_v8f k3 = load8(w + 3 * ws + c0), k4 = load8(w + 4 * ws + c0), k5 = load8(w + 5 * ws + c0);
        const quanta_v8f k6 = load8(w + 6 * ws + c0), k7 = load8(w + 7 * ws + c0), k8 = load8(w + 8 * ws + c0);
        const quanta_v8f b = load8(bias + c0);
        const float *x = first + c0;
        float *out = out_row + ox0 * c + c0;
        for (long ox = ox0; ox < ox1; ox++, x += step, out += c) {
            quanta_v8f a = b;
            a = a + load8(x) * k0;
            a = a + load8(x + dx) * k1;
            a = a + load8(x + 2 * dx) * k2;
            a = a + load8(x + dy) * k3;
            a = a + load8(x + dy + dx) * k4;
            a = a + load8(x + dy + 2 * dx) * k5;
            a = a + load8(x + 2 * dy) * k6;
            a = a + load8(x + 2 * dy + dx) * k7;
            a = a + load8(x + 2 * dy + 2 * dx) * k8;
            store8(out, clamp8(a, lo, hi), 8);
        }
    }
    if (c0 < c) {
        // The last channels (fewer than 8): the pixel path, taps in the same order.
        long taps[9], rows[9];
        for (long t = 0; t < 9; t++) {
            taps[t] = (t / 3) * dy + (t % 3) * dx;
            rows[t] = t * ws;
        }
        for (long ox = ox0; ox < ox1; ox++) {
            const float *x = first + (ox - ox0) * step;
            float *out = out_row + ox * c;
            quanta_v8f a = load8(bias + c0);
            for (long t = 0; t < 9; t++) a = a + load8_part(x + taps[t] + c0, c - c0) * load8(w + rows[t] + c0);
            store8(out + c0, clamp8(a, lo, hi), c - c0);
        }
    }
}

int quanta_float_depthwise(const float *input, const quanta_float_conv_geometry *g, const float *weights,
                           const float *bias, float *output, float clamp_min, float clamp_max) {
    const long taps_max = g->kernel_h * g->kernel_w;
    long *taps = malloc(2 * (size_t)(taps_max > 0 ? taps_max : 1) * sizeof(long));
    if (!taps) return -1;
    long *rows = taps + taps_max;
    const quanta_v8f lo = splat8(clamp_min), hi = splat8(clamp_max);
    const long c = g->channels;
    // Output columns whose window lies inside the row: x_begin ..< x_end (3x3 fast path).
    long x_begin = (g->pad_left + g->stride_w - 1) / g->stride_w;
    if (x_begin > g->output_w) x_begin = g->output_w;
    const long last = g->input_w - 1 - (g->kernel_w - 1) * g->dilation_w + g->pad_left;
    long x_end = last >= 0 ? last / g->stride_w + 1 : 0;
    if (x_end > g->output_w) x_end = g->output_w;
    if (x_end < x_begin) x_end = x_begin;
    const int square3 = g->kernel_h == 3 && g->kernel_w == 3;
    for (long b = 0; b < g->batches; b++) {
        const float *image = input + b * g->input_h * g->input_w * c;
        for (long oy = 0; oy < g->output_h; oy++) {
            float *out_row = output + (b * g->output_h + oy) * g->output_w * c;
            const long y0 = oy * g->stride_h - g->pad_top;
            const int rows_inside = y0 >= 0 && y0 + (g->kernel_h - 1) * g->dilation_h < g->input_h;
            for (long ox = 0; ox < g->output_w; ox++) {
                if (square3 && rows_inside && ox == x_begin && x_end > x_begin) {
                    dw_row3x3(image, g, oy, x_begin, x_end, weights, bias, out_row, lo, hi);
                    ox = x_end - 1;
                    continue;
                }
                long count = 0;
                for (long ky = 0; ky < g->kernel_h; ky++) {
                    const long iy = y0 + ky * g->dilation_h;
                    if (iy < 0 || iy >= g->input_h) continue;
                    for (long kx = 0; kx < g->kernel_w; kx++) {
                        const long ix = ox * g->stride_w - g->pad_left + kx * g->dilation_w;
                        if (ix < 0 || ix >= g->input_w) continue;
                        taps[count] = (iy * g->input_w + ix) * c;
                        rows[count] = (ky * g->kernel_w + kx) * g->weight_stride;
                        count++;
                    }
                }
                dw_pixel(image, taps, rows, count, weights, bias, c, out_row + ox * c, lo, hi);
            }
        }
    }
    free(taps);
    return 0;
}
