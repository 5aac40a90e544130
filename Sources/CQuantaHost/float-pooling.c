// Float pooling, elementwise add/mul and the activations without libm, of calibration and
// `quanta eval`, NHWC, 8 values at a time: the same operations in the same order per value
// as FloatReference's averagePool / maxPool / globalAveragePool / add / mul / activation
// (-ffp-contract=off), so the same bits.
#include "quanta_host.h"

#include <string.h>

typedef float quanta_p8f __attribute__((vector_size(32)));
typedef int32_t quanta_p8i __attribute__((vector_size(32)));

static inline quanta_p8f p_load(const float *p) {
    quanta_p8f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline quanta_p8f p_splat(float x) { return (quanta_p8f){x, x, x, x, x, x, x, x}; }

static inline quanta_p8f p_select(quanta_p8i m, quanta_p8f yes, quanta_p8f no) {
    return (quanta_p8f)(((quanta_p8i)yes & m) | ((quanta_p8i)no & ~m));
}

/// FloatClamp.apply: Swift's max(x, lo) = lo >= x ? lo : x, then min(t, hi) = hi < t ? hi : t.
static inline quanta_p8f p_clamp(quanta_p8f v, quanta_p8f lo, quanta_p8f hi) {
    const quanta_p8f t = p_select((quanta_p8i)(lo >= v), lo, v);
    return p_select((quanta_p8i)(hi < t), hi, t);
}

/// Loads `count` (< 8) values, the other lanes 0.
static inline quanta_p8f p_load_part(const float *p, long count) {
    quanta_p8f v = p_splat(0);
    for (long i = 0; i < count; i++) v[i] = p[i];
    return v;
}

static inline void p_store(float *out, quanta_p8f v, long count) {
    if (count >= 8) {
        memcpy(out, &v, sizeof v);
    } else {
        for (long i = 0; i < count; i++) out[i] = v[i];
    }
}

int quanta_float_pool(const float *input, const quanta_float_pool_geometry *g, int max, float *output, float clamp_min,
                      float clamp_max) {
    const quanta_p8f lo = p_splat(clamp_min), hi = p_splat(clamp_max);
    const long c = g->channels;
    for (long b = 0; b < g->batches; b++) {
        for (long oy = 0; oy < g->output_h; oy++) {
            for (long ox = 0; ox < g->output_w; ox++) {
                const long y0 = oy * g->stride_h - g->pad_top, x0 = ox * g->stride_w - g->pad_left;
                const long ky0 = y0 < 0 ? -y0 : 0, ky1 = g->input_h - y0 < g->kernel_h ? g->input_h - y0 : g->kernel_h;
                const long kx0 = x0 < 0 ? -x0 : 0, kx1 = g->input_w - x0 < g->kernel_w ? g->input_w - x0 : g->kernel_w;
                if (ky1 <= ky0 || kx1 <= kx0) return -1;  // a window wholly in the padding
                const float count = (float)((ky1 - ky0) * (kx1 - kx0));
                float *out = output + ((b * g->output_h + oy) * g->output_w + ox) * c;
                for (long c0 = 0; c0 < c; c0 += 8) {
                    const long n = c - c0 < 8 ? c - c0 : 8;
                    quanta_p8f acc = p_splat(max ? -__builtin_inff() : 0.0f);
                    for (long ky = ky0; ky < ky1; ky++) {
                        const float *row = input + ((b * g->input_h + y0 + ky) * g->input_w + x0) * c + c0;
                        for (long kx = kx0; kx < kx1; kx++) {
                            const quanta_p8f x = n == 8 ? p_load(row + kx * c) : p_load_part(row + kx * c, n);
                            // Swift's max(best, x) = x >= best ? x : best.
                            acc = max ? p_select((quanta_p8i)(x >= acc), x, acc) : acc + x;
                        }
                    }
                    if (!max) acc = acc / p_splat(count);
                    p_store(out + c0, p_clamp(acc, lo, hi), n);
                }
            }
        }
    }
    return 0;
}

void quanta_float_global_average_pool(const float *input, long batches, long pixels, long channels, float *output) {
    const float count = (float)pixels;
    for (long b = 0; b < batches; b++) {
        const float *image = input + b * pixels * channels;
        for (long c0 = 0; c0 < channels; c0 += 8) {
            const long n = channels - c0 < 8 ? channels - c0 : 8;
            quanta_p8f sum = p_splat(0);
            for (long p = 0; p < pixels; p++) {
                const float *x = image + p * channels + c0;
                sum = sum + (n == 8 ? p_load(x) : p_load_part(x, n));
            }
            p_store(output + b * channels + c0, sum / p_splat(count), n);
        }
    }
}

void quanta_float_elementwise(const float *a, const float *b, long outer, long inner, int b_per_channel, int multiply,
                              float *output, float clamp_min, float clamp_max) {
    const quanta_p8f lo = p_splat(clamp_min), hi = p_splat(clamp_max);
    for (long o = 0; o < outer; o++) {
        const float *x = a + o * inner, *y = b_per_channel ? b : b + o * inner;
        float *out = output + o * inner;
        for (long i = 0; i < inner; i += 8) {
            const long n = inner - i < 8 ? inner - i : 8;
            const quanta_p8f u = n == 8 ? p_load(x + i) : p_load_part(x + i, n);
            const quanta_p8f v = n == 8 ? p_load(y + i) : p_load_part(y + i, n);
            p_store(out + i, p_clamp(multiply ? u * v : u + v, lo, hi), n);
        }
    }
}

void quanta_float_activation(const float *input, float *output, long n, int kind, float a, float b) {
    const quanta_p8f va = p_splat(a), vb = p_splat(b), zero = p_splat(0), one = p_splat(1);
    const quanta_p8f three = p_splat(3), six = p_splat(6);
    for (long i = 0; i < n; i += 8) {
        const long count = n - i < 8 ? n - i : 8;
        const quanta_p8f x = count == 8 ? p_load(input + i) : p_load_part(input + i, count);
        quanta_p8f y;
        switch (kind) {
        case QUANTA_ACTIVATION_CLIP:  // min(max(x, a), b)
            y = p_clamp(x, va, vb);
            break;
        case QUANTA_ACTIVATION_HARD_SWISH: {  // x * min(max(x + 3, 0), 6) / 6
            const quanta_p8f u = x + three;
            const quanta_p8f m = p_select((quanta_p8i)(zero >= u), zero, u);
            const quanta_p8f t = p_select((quanta_p8i)(six < m), six, m);
            y = x * t / six;
            break;
        }
        case QUANTA_ACTIVATION_HARD_SIGMOID: {  // max(0, min(1, a * x + b))
            const quanta_p8f v = va * x + vb;
            const quanta_p8f w = p_select((quanta_p8i)(v < one), v, one);
            y = p_select((quanta_p8i)(w >= zero), w, zero);
            break;
        }
        default:  // QUANTA_ACTIVATION_LEAKY_RELU: x >= 0 ? x : a * x
            y = p_select((quanta_p8i)(x >= zero), x, va * x);
            break;
        }
        p_store(output + i, y, count);
    }
}
