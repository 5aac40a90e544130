// Float pooling, elementwise add/mul and the activations without libm, of calibration and
// `quanta eval`, NHWC, 8 values at a time: the same operations in the same order per value
// as FloatReference's averagePool / maxPool / globalAveragePool / add / mul / activation
// (-ffp-contract=off), so the same bits.
#include "quanta_host.h"
#include "float-vector.h"

int quanta_float_pool(const float *input, const quanta_float_pool_geometry *g, int max, float *output, float clamp_min,
                      float clamp_max) {
    const quanta_v8f lo = splat8(clamp_min), hi = splat8(clamp_max);
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
                    quanta_v8f acc = splat8(max ? -__builtin_inff() : 0.0f);
                    for (long ky = ky0; ky < ky1; ky++) {
                        const float *row = input + ((b * g->input_h + y0 + ky) * g->input_w + x0) * c + c0;
                        for (long kx = kx0; kx < kx1; kx++) {
                            const quanta_v8f x = load8_part(row + kx * c, n);
                            // Swift's max(best, x) = x >= best ? x : best.
                            acc = max ? select8((quanta_v8i)(x >= acc), x, acc) : acc + x;
                        }
                    }
                    if (!max) acc = acc / splat8(count);
                    store8(out + c0, clamp8(acc, lo, hi), n);
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
            quanta_v8f sum = splat8(0);
            for (long p = 0; p < pixels; p++) {
                const float *x = image + p * channels + c0;
                sum = sum + load8_part(x, n);
            }
            store8(output + b * channels + c0, sum / splat8(count), n);
        }
    }
}

void quanta_float_elementwise(const float *a, const float *b, long outer, long inner, int b_per_channel, int multiply,
                              float *output, float clamp_min, float clamp_max) {
    const quanta_v8f lo = splat8(clamp_min), hi = splat8(clamp_max);
    for (long o = 0; o < outer; o++) {
        const float *x = a + o * inner, *y = b_per_channel ? b : b + o * inner;
        float *out = output + o * inner;
        for (long i = 0; i < inner; i += 8) {
            const long n = inner - i < 8 ? inner - i : 8;
            const quanta_v8f u = load8_part(x + i, n);
            const quanta_v8f v = load8_part(y + i, n);
            store8(out + i, clamp8(multiply ? u * v : u + v, lo, hi), n);
        }
    }
}

void quanta_float_activation(const float *input, float *output, long n, int kind, float a, float b) {
    const quanta_v8f va = splat8(a), vb = splat8(b), zero = splat8(0), one = splat8(1);
    const quanta_v8f three = splat8(3), six = splat8(6);
    for (long i = 0; i < n; i += 8) {
        const long count = n - i < 8 ? n - i : 8;
        const quanta_v8f x = load8_part(input + i, count);
        quanta_v8f y;
        switch (kind) {
        case QUANTA_ACTIVATION_CLIP:  // min(max(x, a), b)
            y = clamp8(x, va, vb);
            break;
        case QUANTA_ACTIVATION_HARD_SWISH: {  // x * min(max(x + 3, 0), 6) / 6
            const quanta_v8f u = x + three;
            const quanta_v8f m = select8((quanta_v8i)(zero >= u), zero, u);
            const quanta_v8f t = select8((quanta_v8i)(six < m), six, m);
            y = x * t / six;
            break;
        }
        case QUANTA_ACTIVATION_HARD_SIGMOID: {  // max(0, min(1, a * x + b))
            const quanta_v8f v = va * x + vb;
            const quanta_v8f w = select8((quanta_v8i)(v < one), v, one);
            y = select8((quanta_v8i)(w >= zero), w, zero);
            break;
        }
        default:  // QUANTA_ACTIVATION_LEAKY_RELU: x >= 0 ? x : a * x
            y = select8((quanta_v8i)(x >= zero), x, va * x);
            break;
        }
        store8(output + i, y, count);
    }
}
