// The host's float kernels (Sources/CQuantaHost: float-pointwise.c, float-depthwise.c,
// float-pooling.c) on a fixed set of pseudo-random cases, one FNV-1a hash of the output
// bytes per kernel family. Tools/check-float-kernels runs it natively (x86_64, where the
// XCTests check the same kernels bit for bit against the Swift reference) and under
// qemu-aarch64 (where clang compiles the same vector code to NEON): equal hashes mean the
// aarch64 build gives the reference's bits too.
#include "quanta_host.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 0x5D072026u;

static uint32_t next32(void) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(state >> 32);
}

/// Uniform in [-scale, scale), with a NaN, a -0 and an infinity now and then.
static float value(float scale) {
    const uint32_t r = next32();
    if (r % 997 == 0) return -0.0f;
    if (r % 1499 == 0) return __builtin_nanf("");
    if (r % 2003 == 0) return (r & 1) ? __builtin_inff() : -__builtin_inff();
    return scale * ((float)(next32() >> 8) / 8388608.0f - 1.0f);
}

static float *values(long n, float scale) {
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    for (long i = 0; i < n; i++) p[i] = value(scale);
    return p;
}

/// FNV-1a over the floats' bits, every NaN as 0x7FC00000: a NaN that an operation makes
/// (inf - inf, 0 * inf) has the sign bit set on x86 and clear on ARM (each CPU's default
/// NaN; the Swift reference makes the same on each), and NaN payloads are not what this
/// check compares.
static uint64_t fnv(uint64_t h, const float *data, long bytes) {
    for (long i = 0; i < bytes / 4; i++) {
        uint32_t bits;
        memcpy(&bits, data + i, 4);
        if (data[i] != data[i]) bits = 0x7FC00000u;
        for (int k = 0; k < 4; k++) h = (h ^ ((bits >> (8 * k)) & 0xFF)) * 1099511628211ULL;
    }
    return h;
}

int main(void) {
    uint64_t hp = 14695981039346656037ULL, hc = hp, hd = hp, hpool = hp, he = hp, ha = hp;
    // 1x1: pixel counts over chunks and tails, depths and channel counts around the blocks.
    const long shapes[][3] = {{1, 3, 5}, {7, 16, 16}, {13, 33, 17}, {200, 600, 40}, {97, 1000, 23}, {64, 8, 9}};
    for (int s = 0; s < 6; s++) {
        const long p = shapes[s][0], cin = shapes[s][1], cout = shapes[s][2], blocks = (cout + 15) / 16;
        float *x = values(p * cin, 3), *w = values(blocks * cin * 16, 1), *b = values(blocks * 16, 1);
        float *y = malloc((size_t)(p * cout) * sizeof(float));
        quanta_float_pointwise(x, p, cin, w, b, cout, y, s % 2 ? 0.0f : -__builtin_inff(), s % 2 ? 6.0f : __builtin_inff());
        hp = fnv(hp, y, p * cout * 4);
        // The same weights as a 6-pixel K x K tile: 4 taps of cin / 4 channels.
        if (cin % 4 == 0 && p >= 6 * 4) {
            const long offsets[4] = {0, cin / 4, 7 * cin, 7 * cin + cin / 4};
            float *z = malloc((size_t)(6 * cout) * sizeof(float));
            quanta_float_conv_tile6(x, cin / 4, offsets, 4, cin / 4, w, b, cout, z, -1.0f, 1.0f);
            hc = fnv(hc, z, 6 * cout * 4);
            free(z);
        }
        free(x); free(w); free(b); free(y);
    }
    // Depthwise: 3x3 (the row path), 5x5, strides, dilation, padding, channel tails.
    const long dw[][7] = {{9, 11, 37, 3, 1, 1, 1}, {12, 10, 16, 3, 2, 1, 1}, {8, 21, 48, 3, 1, 2, 2}, {14, 14, 24, 5, 1, 1, 2},
                          {9, 9, 5, 5, 2, 1, 2}};
    for (int s = 0; s < 5; s++) {
        quanta_float_conv_geometry g;
        g.batches = 1 + s % 2; g.input_h = dw[s][0]; g.input_w = dw[s][1]; g.channels = dw[s][2];
        g.kernel_h = g.kernel_w = dw[s][3]; g.stride_h = g.stride_w = dw[s][4];
        g.dilation_h = g.dilation_w = dw[s][5]; g.pad_top = g.pad_left = dw[s][6];
        const long span = (g.kernel_h - 1) * g.dilation_h + 1;
        g.output_h = (g.input_h + 2 * g.pad_top - span) / g.stride_h + 1;
        g.output_w = (g.input_w + 2 * g.pad_left - span) / g.stride_w + 1;
        g.weight_stride = (g.channels + 7) & ~7L;
        float *x = values(g.batches * g.input_h * g.input_w * g.channels, 3);
        float *w = values(g.kernel_h * g.kernel_w * g.weight_stride, 1), *b = values(g.weight_stride, 1);
        const long n = g.batches * g.output_h * g.output_w * g.channels;
        float *y = malloc((size_t)n * sizeof(float));
        if (quanta_float_depthwise(x, &g, w, b, y, 0.0f, 6.0f) != 0) return 2;
        hd = fnv(hd, y, n * 4);
        free(x); free(w); free(b); free(y);
        // Pooling over the same input: max and average with this case's window.
        quanta_float_pool_geometry pg = {g.batches, g.input_h, g.input_w, g.channels, 0, 0, 2 + s % 2, 2 + s % 2,
                                         1 + s % 2, 1 + s % 2, s % 2, s % 2};
        pg.output_h = (pg.input_h + 2 * pg.pad_top - pg.kernel_h) / pg.stride_h + 1;
        pg.output_w = (pg.input_w + 2 * pg.pad_left - pg.kernel_w) / pg.stride_w + 1;
        float *xp = values(pg.batches * pg.input_h * pg.input_w * pg.channels, 4);
        const long m = pg.batches * pg.output_h * pg.output_w * pg.channels;
        float *yp = malloc((size_t)m * sizeof(float));
        for (int max = 0; max < 2; max++) {
            if (quanta_float_pool(xp, &pg, max, yp, -1.0f, 3.0f) != 0) return 3;
            hpool = fnv(hpool, yp, m * 4);
        }
        float *gap = malloc((size_t)(pg.batches * pg.channels) * sizeof(float));
        quanta_float_global_average_pool(xp, pg.batches, pg.input_h * pg.input_w, pg.channels, gap);
        hpool = fnv(hpool, gap, pg.batches * pg.channels * 4);
        free(xp); free(yp); free(gap);
    }
    // Elementwise and activations.
    for (int s = 0; s < 4; s++) {
        const long outer = 3 + s, inner = 5 + 7 * s;
        float *a = values(outer * inner, 5), *b = values(outer * inner, 5), *y = malloc((size_t)(outer * inner) * sizeof(float));
        quanta_float_elementwise(a, b, outer, inner, s % 2, s / 2, y, s % 2 ? 0.0f : -__builtin_inff(), 6.0f);
        he = fnv(he, y, outer * inner * 4);
        for (int kind = 0; kind < 4; kind++) {
            quanta_float_activation(a, y, outer * inner, kind, kind == 0 ? -1.5f : 0.2f, kind == 0 ? 0.25f : 0.5f);
            ha = fnv(ha, y, outer * inner * 4);
        }
        free(a); free(b); free(y);
    }
    printf("pointwise %016llx\nconv_tile6 %016llx\ndepthwise %016llx\npooling %016llx\nelementwise %016llx\nactivation %016llx\n",
           (unsigned long long)hp, (unsigned long long)hc, (unsigned long long)hd, (unsigned long long)hpool,
           (unsigned long long)he, (unsigned long long)ha);
    return 0;
}
