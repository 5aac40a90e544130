// Int8 average pooling, every target: per output pixel the window's taps inside the input
// summed per channel in int32 (64 channels at a time, loops clang vectorizes: NEON on ARM,
// SSE on x86; not unrolled, for code size), then TFLite's rounding division by the tap
// count and the clamp.
#include "quanta_kernels.h"
#include "pool-window.h"

enum { QUANTA_POOL_CHANNELS = 64 };

void quanta_average_pool(const quanta_pool *p) {
    const long c = p->channels;
    int32_t acc[QUANTA_POOL_CHANNELS];
    for (long b = 0; b < p->batches; b++) {
        const int8_t *image = p->input + b * p->input_h * p->input_w * c;
        for (long oy = 0; oy < p->output_h; oy++) {
            long y0, y1;
            quanta_pool_span(oy * p->stride_h - p->pad_top, p->kernel_h, p->input_h, &y0, &y1);
            for (long ox = 0; ox < p->output_w; ox++) {
                long x0, x1;
                quanta_pool_span(ox * p->stride_w - p->pad_left, p->kernel_w, p->input_w, &x0, &x1);
                const int32_t count = (int32_t)((y1 - y0) * (x1 - x0)), half = count / 2;
                int8_t *o = p->output + ((b * p->output_h + oy) * p->output_w + ox) * c;
                for (long c0 = 0; c0 < c; c0 += QUANTA_POOL_CHANNELS) {
                    const long n = c - c0 < QUANTA_POOL_CHANNELS ? c - c0 : QUANTA_POOL_CHANNELS;
#pragma clang loop unroll(disable) interleave_count(1)
                    for (long j = 0; j < n; j++) acc[j] = 0;
                    for (long y = y0; y < y1; y++) {
                        for (long x = x0; x < x1; x++) {
                            const int8_t *t = image + (y * p->input_w + x) * c + c0;
#pragma clang loop unroll(disable) interleave_count(1)
                            for (long j = 0; j < n; j++) acc[j] += t[j];
                        }
                    }
#pragma clang loop unroll(disable) vectorize(disable)
                    for (long j = 0; j < n; j++) {
                        // Round half away from zero (truncating division).
                        int32_t v = acc[j] > 0 ? (acc[j] + half) / count : (acc[j] - half) / count;
                        v = v < p->clamp_min ? p->clamp_min : v > p->clamp_max ? p->clamp_max : v;
                        o[c0 + j] = (int8_t)v;
                    }
                }
            }
        }
    }
}
