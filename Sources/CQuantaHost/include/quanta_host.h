// Host-side (calibration) loops of QuantaCompiler that Swift's generic SIMD code compiles
// poorly (element-wise conversions through generic FixedWidthInteger paths): plain C that
// clang vectorizes. Not part of the runtime: the Embedded builds never compile it.
#ifndef QUANTA_HOST_H
#define QUANTA_HOST_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Over x[0 ..< n]: the number of finite values, of values exactly 0 (either sign), and the
/// smallest and largest finite value (+inf / -inf when none is finite).
typedef struct quanta_float_summary {
    long finite;
    long zeros;
    float lo;
    float hi;
} quanta_float_summary;

quanta_float_summary quanta_summarize(const float *x, long n);

/// For each finite x[i]: bins[clamp(floor((double)x[i] / width) - first, 0, last)] += 1,
/// with floor((double)x / width) saturated to +-2^60 first (TensorStatistics.absoluteBin);
/// non-finite values are skipped. Exact for any first; in vectorized blocks of 64 finite
/// values when |first| < 2^51 (the common case).
void quanta_bin(const float *x, long n, double width, long first, long last, long *bins);

/// One pass over x[0 ..< n] for a histogram whose window already exists: the summary
/// (as quanta_summarize, written to *summary) and every finite value whose bin
/// floor((double)x / width) - first lies in 0...last counted in bins. Returns how many
/// finite values lay outside the window (not counted: the caller grows the window, then
/// counts them with quanta_bin_outside). Needs |first| < 2^51.
long quanta_observe_window(const float *x, long n, double width, long first, long last, long *bins,
                           quanta_float_summary *summary);

/// Counts the finite values of x that lay outside the old window (old_width, old_first,
/// old_last, as quanta_observe_window saw it) into bins of the current window, as quanta_bin
/// would.
void quanta_bin_outside(const float *x, long n, double old_width, long old_first, long old_last,
                        double width, long first, long last, long *bins);

/// Sums for the agreement of an approximation with a reference (quanta eval): Σ r², Σ (r-a)²,
/// Σ r·a, Σ a², Σ |r - a|, max |r - a| in double, the element count, and (int8 only) how
/// many reference values lie beyond the int8 grid by more than half a step (they saturate).
typedef struct quanta_agreement_sums {
    double signal;
    double noise;
    double dot;
    double approx_norm;
    double abs_error;
    double max_error;
    long count;
    long clipped;
} quanta_agreement_sums;

/// The sums over ref[0 ..< n] against q[i] dequantized (scale * (float)(q - zero_point), in
/// float as Quantizer.dequantize), each in four interleaved double lanes added at the end;
/// `clipped` counts r < scale * (-128.5 - zero_point) or r > scale * (127.5 - zero_point).
quanta_agreement_sums quanta_agreement_int8(const float *ref, const int8_t *q, long n, float scale, int32_t zero_point);

/// The same sums against float values.
quanta_agreement_sums quanta_agreement_float(const float *ref, const float *approx, long n);

/// The float 1x1 convolution (stride 1, no padding, groups 1) of FastFloatConv, bit-identical
/// to FloatReference.conv2D: output[p][oc] = clamp(bias[oc] + sum over i in order of
/// input[p][i] * w[i][oc]), each product and each sum rounded to float (no fused multiply-add),
/// clamp as FloatClamp.apply (min(max(x, clamp_min), clamp_max) with the standard library's
/// NaN and +-0 rules). `blocked`: per 16 output channels `[cin][16]` (zeros past cout);
/// `bias`: cout rounded up to 16 values. input is pixels x cin, output pixels x cout.
void quanta_float_pointwise(const float *input, long pixels, long cin, const float *blocked, const float *bias,
                            long cout, float *output, float clamp_min, float clamp_max);

/// Six output pixels of a groups-1 convolution whose windows lie inside the input, every
/// output channel: pixel r's tap t reads cin values at first + r * pixel_step + offsets[t];
/// per output the bias, then + x * w over the taps in order and each tap's input channels in
/// order (FloatReference.conv2D's sums, bit for bit), then the clamp. `blocked`: per 16 output
/// channels `[taps * cin][16]`; output pixel r at output + r * cout.
void quanta_float_conv_tile6(const float *first, long pixel_step, const long *offsets, long taps, long cin,
                             const float *blocked, const float *bias, long cout, float *output, float clamp_min,
                             float clamp_max);

/// A depthwise layer's geometry for quanta_float_depthwise (NHWC, channels = input =
/// output channels; weights `[ky][kx][weight_stride]`).
typedef struct quanta_float_conv_geometry {
    long batches, input_h, input_w, channels, output_h, output_w;
    long kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
    long weight_stride;
} quanta_float_conv_geometry;

/// The float depthwise convolution (multiplier 1) of FastFloatConv, bit-identical to
/// FloatReference.conv2D: per output pixel and channel the bias, then + x * w for each tap
/// inside the input in (ky, kx) order, each product and sum rounded to float, then the clamp
/// as quanta_float_pointwise. `bias` and each weight row hold channels rounded up to 8
/// values. Returns 0, or -1 when its tap list cannot be allocated.
int quanta_float_depthwise(const float *input, const quanta_float_conv_geometry *geometry, const float *weights,
                           const float *bias, float *output, float clamp_min, float clamp_max);

/// A pooling layer's geometry for quanta_float_pool (NHWC, channels in = out).
typedef struct quanta_float_pool_geometry {
    long batches, input_h, input_w, channels, output_h, output_w;
    long kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left;
} quanta_float_pool_geometry;

/// FloatReference.maxPool (max != 0) or averagePool, bit for bit: per output the taps inside
/// the input in (ky, kx) order — the maximum as Swift's max (x >= best ? x : best, from
/// -inf), or the sum from 0 divided by the count of those taps — then the clamp as
/// quanta_float_pointwise. Returns 0, or -1 when a window lies wholly in the padding.
int quanta_float_pool(const float *input, const quanta_float_pool_geometry *geometry, int max, float *output,
                      float clamp_min, float clamp_max);

/// FloatReference.globalAveragePool, bit for bit: per batch and channel the pixels summed in
/// order from 0, divided by the pixel count.
void quanta_float_global_average_pool(const float *input, long batches, long pixels, long channels, float *output);

/// FloatReference.add (multiply == 0) or mul over outer x inner values, bit for bit:
/// output[o][i] = clamp(a[o][i] op b[o][i]), or b[i] when b_per_channel (one row of `inner`
/// values broadcast over `outer`); clamp as quanta_float_pointwise.
void quanta_float_elementwise(const float *a, const float *b, long outer, long inner, int b_per_channel, int multiply,
                              float *output, float clamp_min, float clamp_max);

/// The activations quanta_float_activation computes (the rest — sigmoid, tanh, swish —
/// call expf/tanhf and stay on FloatReference.activation).
enum {
    QUANTA_ACTIVATION_CLIP = 0,        // min(max(x, a), b): relu (0, +inf), relu6 (0, 6), clip
    QUANTA_ACTIVATION_HARD_SWISH = 1,  // x * min(max(x + 3, 0), 6) / 6
    QUANTA_ACTIVATION_HARD_SIGMOID = 2,  // max(0, min(1, a * x + b))
    QUANTA_ACTIVATION_LEAKY_RELU = 3,  // x >= 0 ? x : a * x
};

/// UnaryActivation.apply over x[0 ..< n], bit for bit: the same operations in the same order
/// per value, Swift's max/min as selects (max(x, y) = y >= x ? y : x, min(x, y) = y < x ? y :
/// x: the same bits for +-0 and NaN), no fused multiply-add. Output may be the input.
void quanta_float_activation(const float *input, float *output, long n, int kind, float a, float b);

#ifdef __cplusplus
}
#endif
#endif
