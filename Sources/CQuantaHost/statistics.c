// Calibration statistics and evaluation sums (see quanta_host.h). Built with
// -ffp-contract=off: no multiply-add is fused, so every float is the Swift code's.
// Calibration statistics loops: Results do not depend on how the
// compiler vectorizes them: min/max/counts are order-independent, and each value's bin is
// one division and floor in double, as TensorStatistics.absoluteBin computes it.
#include "quanta_host.h"
#include <math.h>

typedef float quanta_v8f __attribute__((ext_vector_type(8)));

/// The first zero of x[0 ..< n] (its sign), for the sign of a minimum or maximum that is 0:
/// value by value, `lo = v < lo ? v : lo` keeps the first of equal values, so a 0 minimum
/// has the sign of the first zero seen; the vector min/max may have taken another one.
static float first_zero(const float *x, long n) {
    for (long i = 0; i < n; i++)
        if (x[i] == 0.0f) return x[i];
    return 0.0f;
}

/// Whether x[0 ..< 64] are all finite (x - x is 0 only for a finite x).
static inline int block_finite(const float *x) {
    int all = 1;
    for (int k = 0; k < 64; k++) all &= (x[k] - x[k]) == 0.0f;
    return all;
}

/// Min, max and zero count of 64 finite values into the running vectors.
static inline void block_summary(const float *x, quanta_v8f *lo, quanta_v8f *hi, long *zeros) {
    long z = 0;
    for (int k = 0; k < 64; k += 8) {
        quanta_v8f v;
        __builtin_memcpy(&v, x + k, sizeof v);
        *lo = __builtin_elementwise_min(*lo, v);
        *hi = __builtin_elementwise_max(*hi, v);
    }
    for (int k = 0; k < 64; k++) z += x[k] == 0.0f;
    *zeros += z;
}

static inline void scalar_summary(float v, long *finite, long *zeros, float *lo, float *hi) {
    if (!isfinite(v)) return;
    *lo = v < *lo ? v : *lo;
    *hi = v > *hi ? v : *hi;
    (*finite)++;
    *zeros += v == 0.0f;
}

static quanta_float_summary finish(const float *x, long n, quanta_v8f vlo, quanta_v8f vhi, float lo, float hi,
                                   long finite, long zeros) {
    for (int k = 0; k < 8; k++) {
        lo = vlo[k] < lo ? vlo[k] : lo;
        hi = vhi[k] > hi ? vhi[k] : hi;
    }
    if (lo == 0.0f) lo = first_zero(x, n);
    if (hi == 0.0f) hi = first_zero(x, n);
    quanta_float_summary s = {finite, zeros, lo, hi};
    return s;
}

quanta_float_summary quanta_summarize(const float *x, long n) {
    long finite = 0, zeros = 0;
    float lo = INFINITY, hi = -INFINITY;
    quanta_v8f vlo = (quanta_v8f)INFINITY, vhi = (quanta_v8f)(-INFINITY);
    long i = 0;
    for (; i + 64 <= n; i += 64) {
        if (block_finite(x + i)) {
            block_summary(x + i, &vlo, &vhi, &zeros);
            finite += 64;
        } else {
            for (int k = 0; k < 64; k++) scalar_summary(x[i + k], &finite, &zeros, &lo, &hi);
        }
    }
    for (; i < n; i++) scalar_summary(x[i], &finite, &zeros, &lo, &hi);
    return finish(x, n, vlo, vhi, lo, hi, finite, zeros);
}

static inline long absolute_bin(double x, double width) {
    const double q = floor(x / width);
    if (q >= 0x1p60) return 1L << 60;
    if (q <= -0x1p60) return -(1L << 60);
    if (q != q) return 0;
    return (long)q;
}

/// The bins of 64 finite values, floor((double)x / width) - first, from the same division
/// and floor as absolute_bin (clamped to first +- 2^52 first: integers below 2^53, so the
/// subtraction is exact): with `clamp` (a constant at each call) held to 0...last, else -1
/// for a value outside the window.
static inline void block_bins(const float *x, double width, double offset, double top, int clamp, int idx[64]) {
    for (int k = 0; k < 64; k++) {
        double q = floor((double)x[k] / width);
        q = q < offset - 0x1p52 ? offset - 0x1p52 : q;
        q = q > offset + 0x1p52 ? offset + 0x1p52 : q;
        double r = q - offset;
        if (clamp) {
            r = r < 0 ? 0 : r;
            r = r > top ? top : r;
            idx[k] = (int)r;
        } else {
            idx[k] = r >= 0 && r <= top ? (int)r : -1;
        }
    }
}

void quanta_bin(const float *x, long n, double width, long first, long last, long *bins) {
    long i = 0;
    if (first < (1L << 51) && first > -(1L << 51)) {
        const double offset = (double)first, top = (double)last;
        int idx[64];
        for (; i + 64 <= n && block_finite(x + i); i += 64) {
            block_bins(x + i, width, offset, top, 1, idx);
            for (int k = 0; k < 64; k++) bins[idx[k]]++;
        }
    }
    for (; i < n; i++) {
        const float v = x[i];
        if (!isfinite(v)) continue;
        long b = absolute_bin((double)v, width) - first;
        b = b < 0 ? 0 : b;
        b = b > last ? last : b;
        bins[b]++;
    }
}

long quanta_observe_window(const float *x, long n, double width, long first, long last, long *bins,
                           quanta_float_summary *summary) {
    long finite = 0, zeros = 0, outside = 0;
    float lo = INFINITY, hi = -INFINITY;
    quanta_v8f vlo = (quanta_v8f)INFINITY, vhi = (quanta_v8f)(-INFINITY);
    const double offset = (double)first, top = (double)last;
    int idx[64];
    long i = 0;
    for (; i + 64 <= n; i += 64) {
        if (!block_finite(x + i)) {
            for (int k = 0; k < 64; k++) {
                const float v = x[i + k];
                if (!isfinite(v)) continue;
                scalar_summary(v, &finite, &zeros, &lo, &hi);
                const long b = absolute_bin((double)v, width) - first;
                if (b >= 0 && b <= last) bins[b]++; else outside++;
            }
            continue;
        }
        block_summary(x + i, &vlo, &vhi, &zeros);
        finite += 64;
        block_bins(x + i, width, offset, top, 0, idx);
        for (int k = 0; k < 64; k++) {
            if (idx[k] >= 0) bins[idx[k]]++; else outside++;
        }
    }
    for (; i < n; i++) {
        const float v = x[i];
        if (!isfinite(v)) continue;
        scalar_summary(v, &finite, &zeros, &lo, &hi);
        const long b = absolute_bin((double)v, width) - first;
        if (b >= 0 && b <= last) bins[b]++; else outside++;
    }
    *summary = finish(x, n, vlo, vhi, lo, hi, finite, zeros);
    return outside;
}

void quanta_bin_outside(const float *x, long n, double old_width, long old_first, long old_last,
                        double width, long first, long last, long *bins) {
    for (long i = 0; i < n; i++) {
        const float v = x[i];
        if (!isfinite(v)) continue;
        const long old = absolute_bin((double)v, old_width) - old_first;
        if (old >= 0 && old <= old_last) continue;
        long b = absolute_bin((double)v, width) - first;
        b = b < 0 ? 0 : b;
        b = b > last ? last : b;
        bins[b]++;
    }
}

typedef double quanta_v4d __attribute__((ext_vector_type(4)));
typedef long quanta_v4l __attribute__((ext_vector_type(4)));

/// The lane sums of quanta_agreement_sums.
typedef struct {
    quanta_v4d signal, noise, dot, approx_norm, abs_error, max_error;
} agreement_lanes;

/// Adds 4 (r, a) pairs to the lane sums.
static inline void agreement4(quanta_v4d r, quanta_v4d a, agreement_lanes *l) {
    const quanta_v4d d = r - a, e = __builtin_elementwise_abs(d);
    l->signal += r * r;
    l->noise += d * d;
    l->dot += r * a;
    l->approx_norm += a * a;
    l->abs_error += e;
    l->max_error = __builtin_elementwise_max(l->max_error, e);
}

static double lane_sum(quanta_v4d v) { return (v[0] + v[1]) + (v[2] + v[3]); }

/// The sums of two lane sets (even and odd groups of 4 values: two independent addition
/// chains, since one chain waits on the add latency), combined lane by lane, then across.
static quanta_agreement_sums agreement_finish(const agreement_lanes *l0, const agreement_lanes *l1, long n, long clipped) {
    quanta_agreement_sums s;
    s.signal = lane_sum(l0->signal + l1->signal);
    s.noise = lane_sum(l0->noise + l1->noise);
    s.dot = lane_sum(l0->dot + l1->dot);
    s.approx_norm = lane_sum(l0->approx_norm + l1->approx_norm);
    s.abs_error = lane_sum(l0->abs_error + l1->abs_error);
    const quanta_v4d mx = __builtin_elementwise_max(l0->max_error, l1->max_error);
    double m = mx[0];
    for (int k = 1; k < 4; k++) m = mx[k] > m ? mx[k] : m;
    s.max_error = m;
    s.count = n;
    s.clipped = clipped;
    return s;
}

/// 4 values of ref and their dequantized int8 counterparts, in double.
static inline void dequantized4(const float *ref, const int8_t *q, float scale, int32_t zero_point, quanta_v4d *r, quanta_v4d *a) {
    for (int k = 0; k < 4; k++) {
        (*r)[k] = (double)ref[k];
        (*a)[k] = (double)(scale * (float)((int32_t)q[k] - zero_point));
    }
}

static inline long clipped4(quanta_v4d r, double lo, double hi) {
    const quanta_v4l out = (r < lo) | (r > hi);
    return -(out[0] + out[1] + out[2] + out[3]);
}

quanta_agreement_sums quanta_agreement_int8(const float *ref, const int8_t *q, long n, float scale, int32_t zero_point) {
    agreement_lanes l0 = {0, 0, 0, 0, 0, 0}, l1 = {0, 0, 0, 0, 0, 0};
    const double lo = (double)scale * (-128.5 - zero_point), hi = (double)scale * (127.5 - zero_point);
    long clipped = 0;
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        quanta_v4d r0, a0, r1, a1;
        dequantized4(ref + i, q + i, scale, zero_point, &r0, &a0);
        dequantized4(ref + i + 4, q + i + 4, scale, zero_point, &r1, &a1);
        clipped += clipped4(r0, lo, hi) + clipped4(r1, lo, hi);
        agreement4(r0, a0, &l0);
        agreement4(r1, a1, &l1);
    }
    for (; i < n; i++) {
        quanta_v4d r = 0, a = 0;
        r[0] = (double)ref[i];
        a[0] = (double)(scale * (float)((int32_t)q[i] - zero_point));
        clipped += (r[0] < lo) | (r[0] > hi);
        agreement4(r, a, &l0);
    }
    return agreement_finish(&l0, &l1, n, clipped);
}

quanta_agreement_sums quanta_agreement_float(const float *ref, const float *approx, long n) {
    agreement_lanes l0 = {0, 0, 0, 0, 0, 0}, l1 = {0, 0, 0, 0, 0, 0};
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        quanta_v4d r0, a0, r1, a1;
        for (int k = 0; k < 4; k++) {
            r0[k] = (double)ref[i + k];
            a0[k] = (double)approx[i + k];
            r1[k] = (double)ref[i + 4 + k];
            a1[k] = (double)approx[i + 4 + k];
        }
        agreement4(r0, a0, &l0);
        agreement4(r1, a1, &l1);
    }
    for (; i < n; i++) {
        quanta_v4d r = 0, a = 0;
        r[0] = (double)ref[i];
        a[0] = (double)approx[i];
        agreement4(r, a, &l0);
    }
    return agreement_finish(&l0, &l1, n, 0);
}
