// The 8-lane float helpers of the host's float kernels (float-pointwise.c, float-depthwise.c,
// float-pooling.c): GCC vector types, which clang compiles to AVX2 on x86 (the package's
// -mavx2) and to NEON register pairs on aarch64. Every helper keeps the bits of the Swift
// it stands for (no arithmetic hidden in a broadcast or a select).
#ifndef QUANTA_FLOAT_VECTOR_H
#define QUANTA_FLOAT_VECTOR_H

#include <stdint.h>
#include <string.h>

typedef float quanta_v8f __attribute__((vector_size(32)));
typedef int32_t quanta_v8i __attribute__((vector_size(32)));

/// x in every lane (not `{0} + x`: that adds, turning -0 into +0).
static inline quanta_v8f splat8(float x) { return (quanta_v8f){x, x, x, x, x, x, x, x}; }

static inline quanta_v8f load8(const float *p) {
    quanta_v8f v;
    memcpy(&v, p, sizeof v);
    return v;
}

/// Loads the first `count` values (all 8 when count >= 8), the other lanes 0: reads only
/// the values it returns.
static inline quanta_v8f load8_part(const float *p, long count) {
    if (count >= 8) return load8(p);
    quanta_v8f v = splat8(0);
    for (long i = 0; i < count; i++) v[i] = p[i];
    return v;
}

/// The first `count` lanes of v at out (all 8 when count >= 8).
static inline void store8(float *out, quanta_v8f v, long count) {
    if (count >= 8) {
        memcpy(out, &v, sizeof v);
    } else {
        for (long i = 0; i < count; i++) out[i] = v[i];
    }
}

/// Lane by lane m ? yes : no (m: all ones or zero per lane, as a vector comparison gives).
static inline quanta_v8f select8(quanta_v8i m, quanta_v8f yes, quanta_v8f no) {
    return (quanta_v8f)(((quanta_v8i)yes & m) | ((quanta_v8i)no & ~m));
}

/// FloatClamp.apply lane by lane: t = lo >= v ? lo : v, then hi < t ? hi : t (the standard
/// library's max and min: the same bits for +-0 and NaN).
static inline quanta_v8f clamp8(quanta_v8f v, quanta_v8f lo, quanta_v8f hi) {
    const quanta_v8f t = select8((quanta_v8i)(lo >= v), lo, v);
    return select8((quanta_v8i)(hi < t), hi, t);
}

#endif
