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

#ifdef __cplusplus
}
#endif
#endif
