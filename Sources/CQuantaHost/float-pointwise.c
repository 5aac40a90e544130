// The float 1x1 convolution of calibration and `quanta eval` (FastFloatConv's pointwise
// case): 6 pixels x 16 output channels per tile, one rounded multiply and one rounded add
// per product in the reference's order (-ffp-contract=off: no fused multiply-add), so
// every output is FloatReference.conv2D's, bit for bit.
//
// Cache blocking: the pixels are taken in chunks whose activations fit the L2 cache; per
// chunk every 16-channel block of weights (contiguous, cin x 16 floats) is run over the
// chunk's 6-pixel groups. The weights stream once per chunk, the activations once per
// block from cache, instead of the whole weight matrix once per 6 pixels.
//
// AVX2 registers (16) on x86. An AVX-512 form (8 pixels x 32 channels in 16 zmm
// accumulators) was measured slower on Zen 4, which splits each 512-bit operation in two:
// 31-40 against 36-50 GMAC/s on MobileNetV2's 1x1 shapes. Not kept.
#include "quanta_host.h"
#include "float-vector.h"

/// Six output pixels against one 16-channel block of weights `w` (`[taps * cin][16]`):
/// pixel r's tap t reads cin values at first + r * pixel_step + offsets[t]; per output the
/// bias, then + x * w over the taps and their input channels in order; then the clamp, and
/// the `valid` (1...16) channels stored at out + r * cout.
static inline __attribute__((always_inline)) void tile6(const float *first, long pixel_step, const long *offsets, long taps, long cin, const float *w,
                         const float *bias, float *out, long cout, long valid, quanta_v8f lo, quanta_v8f hi) {
    const quanta_v8f b0 = load8(bias), b1 = load8(bias + 8);
    quanta_v8f c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1;
    quanta_v8f c30 = b0, c31 = b1, c40 = b0, c41 = b1, c50 = b0, c51 = b1;
    for (long t = 0; t < taps; t++) {
        const float *a0 = first + offsets[t], *a1 = a0 + pixel_step, *a2 = a1 + pixel_step;
        const float *a3 = a2 + pixel_step, *a4 = a3 + pixel_step, *a5 = a4 + pixel_step;
        for (long k = 0; k < cin; k++, w += 16) {
            const quanta_v8f w0 = load8(w), w1 = load8(w + 8);
            quanta_v8f x = splat8(a0[k]);
            c00 = c00 + x * w0; c01 = c01 + x * w1;
            x = splat8(a1[k]);
            c10 = c10 + x * w0; c11 = c11 + x * w1;
            x = splat8(a2[k]);
            c20 = c20 + x * w0; c21 = c21 + x * w1;
            x = splat8(a3[k]);
            c30 = c30 + x * w0; c31 = c31 + x * w1;
            x = splat8(a4[k]);
            c40 = c40 + x * w0; c41 = c41 + x * w1;
            x = splat8(a5[k]);
            c50 = c50 + x * w0; c51 = c51 + x * w1;
        }
    }
    const long first8 = valid < 8 ? valid : 8, second = valid - first8;
    store8(out, clamp8(c00, lo, hi), first8);
    store8(out + cout, clamp8(c10, lo, hi), first8);
    store8(out + 2 * cout, clamp8(c20, lo, hi), first8);
    store8(out + 3 * cout, clamp8(c30, lo, hi), first8);
    store8(out + 4 * cout, clamp8(c40, lo, hi), first8);
    store8(out + 5 * cout, clamp8(c50, lo, hi), first8);
    if (second > 0) {
        store8(out + 8, clamp8(c01, lo, hi), second);
        store8(out + cout + 8, clamp8(c11, lo, hi), second);
        store8(out + 2 * cout + 8, clamp8(c21, lo, hi), second);
        store8(out + 3 * cout + 8, clamp8(c31, lo, hi), second);
        store8(out + 4 * cout + 8, clamp8(c41, lo, hi), second);
        store8(out + 5 * cout + 8, clamp8(c51, lo, hi), second);
    }
}

/// One pixel against one block (the pixels after the last group of 6).
static inline void tile1(const float *a, long cin, const float *w, const float *bias, float *out, long valid,
                         quanta_v8f lo, quanta_v8f hi) {
    quanta_v8f c0 = load8(bias), c1 = load8(bias + 8);
    for (long k = 0; k < cin; k++, w += 16) {
        const quanta_v8f x = splat8(a[k]);
        c0 = c0 + x * load8(w);
        c1 = c1 + x * load8(w + 8);
    }
    const long first = valid < 8 ? valid : 8, second = valid - first;
    store8(out, clamp8(c0, lo, hi), first);
    if (second > 0) store8(out + 8, clamp8(c1, lo, hi), second);
}

void quanta_float_pointwise(const float *input, long pixels, long cin, const float *blocked, const float *bias,
                            long cout, float *output, float clamp_min, float clamp_max) {
    // About 96 KiB of activations per chunk (at least one group of 6).
    long chunk = (24576 / (cin > 0 ? cin : 1)) / 6 * 6;
    if (chunk < 6) chunk = 6;
    const quanta_v8f lo = splat8(clamp_min), hi = splat8(clamp_max);
    const long blocks = (cout + 15) / 16, no_offset = 0;
    for (long p0 = 0; p0 < pixels; p0 += chunk) {
        const long p1 = p0 + chunk < pixels ? p0 + chunk : pixels;
        for (long b = 0; b < blocks; b++) {
            const float *w = blocked + b * cin * 16;
            const float *bb = bias + b * 16;
            const long valid = cout - b * 16 < 16 ? cout - b * 16 : 16;
            long p = p0;
            for (; p + 6 <= p1; p += 6) tile6(input + p * cin, cin, &no_offset, 1, cin, w, bb, output + p * cout + b * 16, cout, valid, lo, hi);
            for (; p < p1; p++) tile1(input + p * cin, cin, w, bb, output + p * cout + b * 16, valid, lo, hi);
        }
    }
}

void quanta_float_conv_tile6(const float *first, long pixel_step, const long *offsets, long taps, long cin,
                             const float *blocked, const float *bias, long cout, float *output, float clamp_min,
                             float clamp_max) {
    const quanta_v8f lo = splat8(clamp_min), hi = splat8(clamp_max);
    const long blocks = (cout + 15) / 16, depth = taps * cin;
    for (long b = 0; b < blocks; b++) {
        const long valid = cout - b * 16 < 16 ? cout - b * 16 : 16;
        tile6(first, pixel_step, offsets, taps, cin, blocked + b * depth * 16, bias + b * 16, output + b * 16, cout, valid, lo, hi);
    }
}
