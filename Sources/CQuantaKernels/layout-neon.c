// Data movement and max pooling on int8 NHWC tensors, NEON (aarch64 and armv7): concat
// and channel slices as row copies (ldr q / str q, an overlapping last vector), channel
// shuffle of two groups as one st2 per 16 channel pairs, max pooling as smax over the
// window's taps, 16 channels per instruction.
#if defined(__ARM_NEON)
#include <arm_neon.h>
#include "pool-window.h"
#include "quanta_kernels.h"

/// Copies `bytes` (>= 1) from src to dst (no overlap).
static inline __attribute__((always_inline)) void copy_row(int8_t *dst, const int8_t *src, long bytes) {
    if (bytes >= 16) {
        long i = 0;
        for (; i + 32 <= bytes; i += 32) {
            int8x16_t a = vld1q_s8(src + i), b = vld1q_s8(src + i + 16);
            vst1q_s8(dst + i, a);
            vst1q_s8(dst + i + 16, b);
        }
        if (i + 16 <= bytes) {
            vst1q_s8(dst + i, vld1q_s8(src + i));
            i += 16;
        }
        if (i < bytes) vst1q_s8(dst + bytes - 16, vld1q_s8(src + bytes - 16));
    } else if (bytes >= 8) {
        vst1_s8(dst, vld1_s8(src));
        vst1_s8(dst + bytes - 8, vld1_s8(src + bytes - 8));
    } else {
        for (long i = 0; i < bytes; i++) dst[i] = src[i];
    }
}

void quanta_copy_rows(int8_t *dst, long dst_stride, const int8_t *src, long src_stride, long bytes, long rows) {
    if (bytes <= 0) return;
    if (dst_stride == bytes && src_stride == bytes) {
        copy_row(dst, src, bytes * rows);
        return;
    }
    // The row size decides the form once (channel slices and concat inputs are short rows).
    if (bytes >= 32) {
        for (long r = 0; r < rows; r++) {
            const int8_t *s = src + r * src_stride;
            int8_t *d = dst + r * dst_stride;
            for (long i = 0; i + 32 < bytes; i += 32) {
                int8x16_t a = vld1q_s8(s + i), b = vld1q_s8(s + i + 16);
                vst1q_s8(d + i, a);
                vst1q_s8(d + i + 16, b);
            }
            // The last 32 bytes, overlapping what the loop wrote (the same values).
            int8x16_t a = vld1q_s8(s + bytes - 32), b = vld1q_s8(s + bytes - 16);
            vst1q_s8(d + bytes - 32, a);
            vst1q_s8(d + bytes - 16, b);
        }
    } else if (bytes >= 16) {
        for (long r = 0; r < rows; r++) {
            const int8_t *s = src + r * src_stride;
            int8_t *d = dst + r * dst_stride;
            int8x16_t a = vld1q_s8(s), b = vld1q_s8(s + bytes - 16);
            vst1q_s8(d, a);
            vst1q_s8(d + bytes - 16, b);
        }
    } else {
        for (long r = 0; r < rows; r++) copy_row(dst + r * dst_stride, src + r * src_stride, bytes);
    }
}

/// One pixel's `per` channels of a and b interleaved into o: o[2j] = a[j], o[2j+1] = b[j].
static inline __attribute__((always_inline)) void interleave2_pixel(const int8_t *a, const int8_t *b, int8_t *o, long per) {
    if (per >= 16) {
        long j = 0;
        for (; j + 16 <= per; j += 16) {
            int8x16x2_t v = {{vld1q_s8(a + j), vld1q_s8(b + j)}};
            vst2q_s8(o + 2 * j, v);
        }
        if (j < per) {
            // The last 16 pairs again, overlapping: the same values, written twice.
            j = per - 16;
            int8x16x2_t v = {{vld1q_s8(a + j), vld1q_s8(b + j)}};
            vst2q_s8(o + 2 * j, v);
        }
    } else {
        for (long j = 0; j < per; j++) {
            o[2 * j] = a[j];
            o[2 * j + 1] = b[j];
        }
    }
}

void quanta_channel_shuffle2(const int8_t *input, int8_t *output, long per_group, long pixels) {
    const long c = 2 * per_group;
    for (long p = 0; p < pixels; p++) interleave2_pixel(input + p * c, input + p * c + per_group, output + p * c, per_group);
}

void quanta_interleave2(const int8_t *a, const int8_t *b, int8_t *output, long channels, long pixels) {
    for (long p = 0; p < pixels; p++) interleave2_pixel(a + p * channels, b + p * channels, output + 2 * p * channels, channels);
}

/// Max of the window's taps for 16 (or 8) channels from channel c0 of pixel window origin.
static inline __attribute__((always_inline)) int8x16_t max16(const quanta_pool *p, const int8_t *base, long y0, long y1,
                                                             long x0, long x1) {
    int8x16_t m = vdupq_n_s8(-128);
#pragma clang loop unroll(disable)
    for (long iy = y0; iy < y1; iy++) {
        const int8_t *row = base + iy * p->input_w * p->channels;
        // Not unrolled: windows are a few taps wide, and the unrolled copies (one per call
        // site and clamp form) were most of this file's 20 KB of code.
#pragma clang loop unroll(disable)
        for (long ix = x0; ix < x1; ix++) m = vmaxq_s8(m, vld1q_s8(row + ix * p->channels));
    }
    return m;
}

static inline __attribute__((always_inline)) int8x8_t max8(const quanta_pool *p, const int8_t *base, long y0, long y1,
                                                           long x0, long x1) {
    int8x8_t m = vdup_n_s8(-128);
#pragma clang loop unroll(disable)
    for (long iy = y0; iy < y1; iy++) {
        const int8_t *row = base + iy * p->input_w * p->channels;
#pragma clang loop unroll(disable)
        for (long ix = x0; ix < x1; ix++) m = vmax_s8(m, vld1_s8(row + ix * p->channels));
    }
    return m;
}

/// The pool; `clamp` (a constant at each call) is 0 when the clamp is the whole int8 range.
static inline __attribute__((always_inline)) void max_pool(const quanta_pool *p, int clamp);

void quanta_max_pool(const quanta_pool *p) {
    if (p->clamp_min <= -128 && p->clamp_max >= 127) {
        max_pool(p, 0);
    } else {
        max_pool(p, 1);
    }
}

static inline __attribute__((always_inline)) void max_pool(const quanta_pool *p, int clamp) {
    const long c = p->channels;
    const int8x16_t lo = vdupq_n_s8((int8_t)p->clamp_min), hi = vdupq_n_s8((int8_t)p->clamp_max);
    for (long b = 0; b < p->batches; b++) {
        const int8_t *image = p->input + b * p->input_h * p->input_w * c;
        for (long oy = 0; oy < p->output_h; oy++) {
            long y0, y1;
            quanta_pool_span(oy * p->stride_h - p->pad_top, p->kernel_h, p->input_h, &y0, &y1);
            for (long ox = 0; ox < p->output_w; ox++) {
                long x0, x1;
                quanta_pool_span(ox * p->stride_w - p->pad_left, p->kernel_w, p->input_w, &x0, &x1);
                int8_t *o = p->output + ((b * p->output_h + oy) * p->output_w + ox) * c;
                if (c >= 16 && y1 - y0 == 3 && x1 - x0 == 3) {
                    // A full 3×3 window (ShuffleNet's stem pool): nine loads, eight smax.
                    const long rs = p->input_w * c;
                    const int8_t *t = image + (y0 * p->input_w + x0) * c;
                    for (long c0 = 0; c0 < c; c0 += 16) {
                        if (c0 + 16 > c) c0 = c - 16;  // overlapping: the same values again
                        const int8_t *r = t + c0;
                        int8x16_t m = vmaxq_s8(vmaxq_s8(vld1q_s8(r), vld1q_s8(r + c)), vld1q_s8(r + 2 * c));
                        m = vmaxq_s8(m, vmaxq_s8(vmaxq_s8(vld1q_s8(r + rs), vld1q_s8(r + rs + c)), vld1q_s8(r + rs + 2 * c)));
                        m = vmaxq_s8(m, vmaxq_s8(vmaxq_s8(vld1q_s8(r + 2 * rs), vld1q_s8(r + 2 * rs + c)), vld1q_s8(r + 2 * rs + 2 * c)));
                        vst1q_s8(o + c0, clamp ? vminq_s8(vmaxq_s8(m, lo), hi) : m);
                    }
                } else if (c >= 16) {
                    long c0 = 0;
                    for (; c0 + 16 <= c; c0 += 16) {
                        vst1q_s8(o + c0, vminq_s8(vmaxq_s8(max16(p, image + c0, y0, y1, x0, x1), lo), hi));
                    }
                    if (c0 < c) {
                        c0 = c - 16;  // overlapping: the same values again
                        vst1q_s8(o + c0, vminq_s8(vmaxq_s8(max16(p, image + c0, y0, y1, x0, x1), lo), hi));
                    }
                } else if (c >= 8) {
                    vst1_s8(o, vmin_s8(vmax_s8(max8(p, image, y0, y1, x0, x1), vget_low_s8(lo)), vget_low_s8(hi)));
                    vst1_s8(o + c - 8, vmin_s8(vmax_s8(max8(p, image + c - 8, y0, y1, x0, x1), vget_low_s8(lo)), vget_low_s8(hi)));
                } else {
                    // Fewer than 8 channels: scalar (kept so: vectorized, this loop was 12 KB
                    // of code for a case no model of ours has).
#pragma clang loop vectorize(disable) interleave(disable)
                    for (long ch = 0; ch < c; ch++) {
                        int8_t m = -128;
                        for (long iy = y0; iy < y1; iy++) {
#pragma clang loop vectorize(disable) interleave(disable) unroll(disable)
                            for (long ix = x0; ix < x1; ix++) {
                                int8_t v = image[(iy * p->input_w + ix) * c + ch];
                                m = v > m ? v : m;
                            }
                        }
                        m = m < p->clamp_min ? (int8_t)p->clamp_min : m;
                        o[ch] = m > p->clamp_max ? (int8_t)p->clamp_max : m;
                    }
                }
            }
        }
    }
}
#endif
