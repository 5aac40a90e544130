// Quanta's NEON kernels (Sources/CQuantaKernels): C with arm_neon.h intrinsics, for the
// inner loops that Swift's portable SIMD types do not compile to the instructions they
// need (8-bit widening multiply-accumulates, sdot by lane, saturating narrows).
//
// Compiled for aarch64 and armv7 (NEON); on other architectures the sources compile to
// nothing and Swift never calls these functions (QuantaKernels calls them only under
// `#if arch(arm64) || arch(arm)`). No allocation, no libc beyond getauxval (aarch64).
// Every kernel gives `Int8Reference`'s results bit for bit; each function says its
// contract. docs/PERFORMANCE-KERNELS.md lists the instructions each inner loop compiles to.
#ifndef QUANTA_KERNELS_H
#define QUANTA_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// TFLite's per-channel output stage: channel c uses multipliers[c] and shifts[c]
/// (channel_count 1: entry 0 for every channel): SRDHM, rounding divide by a power of two
/// (round half away from zero), + zero_point, clamp to clamp_min...clamp_max (within int8).
typedef struct quanta_requantization {
    const int32_t *multipliers;
    const int32_t *shifts;
    long channel_count;
    int32_t zero_point;
    int32_t clamp_min;
    int32_t clamp_max;
} quanta_requantization;

/// The operands of one int8 GEMM in PointwiseGEMM's packed layout (see
/// Conv2D+Pointwise.swift):
///     out[p, n] = requantize(foldedBias[n] + sum_k a[p, k] * w[n, k], channel channel_offset + n)
/// for p < rows, n < columns, k < depth. `packed` holds int32 foldedBias[nPad] then the
/// weights as [nPad/8][kPad/2][8][2] (kPad = depth rounded up to 2, nPad = columns
/// rounded up to 8).
typedef struct quanta_gemm {
    const int8_t *a;
    long a_stride;
    const void *packed;
    int8_t *out;
    long out_stride;
    quanta_requantization requantization;
    long channel_offset;
    long rows;
    long depth;
    long columns;
    /// Scratch the kernel may overwrite (PointwiseGEMM's panel: `panel_bytes` bytes, no
    /// overlap with a or out), or NULL. The sdot kernel keeps a block's zipped weights there.
    void *panel;
    long panel_bytes;
} quanta_gemm;

/// The GEMM with the best kernel this CPU runs: `quanta_gemm_neondot` where the CPU has the
/// dot product extension (AT_HWCAP ASIMDDP, read once), else `quanta_gemm_neon_mlal`.
/// Same precondition as `quanta_gemm_neon_mlal`.
void quanta_gemm_neon(const quanta_gemm *g);

/// Armv8.0 / armv7 NEON kernel: tiles of 4 rows x 16 channels, 8-bit products widened
/// (smull/smlal into int16 slots, two products per slot) and accumulated pairwise into
/// int32 (sadalp). Reads only a[p * a_stride ..< p * a_stride + depth] for p < rows.
/// Precondition: no packed weight is -128 (then |a*w0 + a'*w1| <= 2 * 128 * 127 fits
/// int16; the loader rejects such files, `weightOutOfRange`), rows >= 0, depth >= 1,
/// columns >= 1, shifts in -31...31.
void quanta_gemm_neon_mlal(const quanta_gemm *g);

/// Dot-product kernel (aarch64 with ASIMDDP only; SIGILL elsewhere): tiles of 8 rows x 8
/// channels of `sdot` by lane; where the CPU also has I8MM, the depth is at least 8 and
/// the panel holds a block's weights in 8-k chunks, full 8-row tiles of `smmla` (2 x 2
/// outputs x 8 k per instruction). Exact for any int8 weights. Reads as `quanta_gemm_neon_mlal`.
void quanta_gemm_neondot(const quanta_gemm *g);

/// x86_64: the GEMM with AVX-512 VNNI (`vpdpbusd`), when this CPU and its OS have it
/// (cpuid, xgetbv; read once) and QUANTA_ISA is not "avx2": then computes the whole GEMM
/// (reading A where it lies; `panel` unused) and returns 1; else returns 0 and does nothing.
/// Same results as Int8Reference.conv2D for any int8 operands; depth at most 2048.
int quanta_gemm_vnni(const quanta_gemm *g);

/// Whether quanta_gemm_vnni runs on this CPU (1) or declines (0).
int quanta_x86_has_vnni(void);

/// Tests: level 0 keeps quanta_gemm_vnni off, 1 lets it run where the CPU has VNNI, -1
/// returns to QUANTA_ISA and the CPU.
void quanta_x86_force_isa(int level);

/// Depthwise 3x3 (dilation 1, depth multiplier 1, strides stride_h/stride_w >= 1, any
/// padding) of an NHWC int8 tensor of at least 16 channels, 16 at a time (a last partial
/// block as the last 16 channels, overlapping the block before; no overlap of output and
/// input):
///     output[n, oy, ox, c] = requantize(bias[c] + sum_{ky,kx} w[ky*3+kx][c]
///         * (x(n, oy * stride_h - pad_top + ky, ox * stride_w - pad_left + kx)[c] - zp))
/// with the taps outside the input left out (they read zp, whose product the bias folded
/// with -zp * sum w cancels), w[t] = weights + t * weight_stride (DepthwiseConv's packed
/// taps), channel c requantized with channel c of `r`. Output pixels are output_step
/// bytes apart (the channel count). Reads only bytes inside the input.
/// Precondition: weights in -127...127 (two raw products are summed in int16).
typedef struct quanta_dwconv3x3 {
    const int8_t *input;
    long batches, input_h, input_w, channels;
    int8_t *output;
    long output_h, output_w, output_step;
    long stride_h, stride_w, pad_top, pad_left;
    const int8_t *weights;
    long weight_stride;
    const int32_t *bias;
    const quanta_requantization *requantization;
    int8_t input_zero_point;
} quanta_dwconv3x3;

void quanta_dwconv3x3_run(const quanta_dwconv3x3 *d);

/// Depthwise of any kernel up to 64 taps (kernel_h * kernel_w <= 64), dilation_h/_w >= 1,
/// the rest as quanta_dwconv3x3 (`base`: its kernel is kernel_h x kernel_w, tap t = ky *
/// kernel_w + kx at weights + t * weight_stride, input x(oy * stride_h - pad_top + ky *
/// dilation_h, ox * stride_w - pad_left + kx * dilation_w)). Same contract and precondition.
typedef struct quanta_dwconv {
    quanta_dwconv3x3 base;
    long kernel_h, kernel_w, dilation_h, dilation_w;
} quanta_dwconv;

void quanta_dwconv_run(const quanta_dwconv *d);

/// rows x `bytes` copied: dst + r * dst_stride <- src + r * src_stride (no overlap):
/// concat (into a channel slice of each output pixel) and channel slices.
void quanta_copy_rows(int8_t *dst, long dst_stride, const int8_t *src, long src_stride, long bytes, long rows);

/// Channel shuffle of two groups: output[p, 2j + g] = input[p, g * per_group + j].
void quanta_channel_shuffle2(const int8_t *input, int8_t *output, long per_group, long pixels);

/// Two tensors of `channels` channels interleaved (a concat followed by a shuffle of two
/// groups): output[p, 2j] = a[p, j], output[p, 2j + 1] = b[p, j]. No overlap.
void quanta_interleave2(const int8_t *a, const int8_t *b, int8_t *output, long channels, long pixels);

/// Max pooling (NHWC, padding taps skipped; every window holds at least one input pixel,
/// which the loader checks), output clamped to clamp_min...clamp_max:
/// Int8Reference.maxPool bit for bit.
typedef struct quanta_pool {
    const int8_t *input;
    int8_t *output;
    long batches, input_h, input_w, channels, output_h, output_w;
    long kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left;
    int32_t clamp_min, clamp_max;
} quanta_pool;

void quanta_max_pool(const quanta_pool *p);

/// Average pooling (NHWC, every target, not NEON-only): per output the taps inside the
/// input summed in int32, avg = sum > 0 ? (sum + count/2) / count : (sum - count/2) / count
/// (truncating division), clamped to clamp_min...clamp_max: Int8Reference.averagePool bit
/// for bit. Precondition: every window holds an input pixel (the loader checks), fewer
/// than 2^24 taps per window (the int32 sums), no overlap of input and output.
void quanta_average_pool(const quanta_pool *p);

/// A planar float32 tensor (`planes` planes of `plane_size` values: NCHW for one image)
/// quantized into interleaved int8 (NHWC): dst[p * planes + c] = Quantizer.quantize(
/// src[c * plane_size + p]) = clamp(round_half_away(x / scale) + zero_point, -128, 127),
/// NaN -> zero_point. Precondition: scale > 0.
void quanta_quantize_planes(const float *src, long planes, long plane_size, int8_t *dst, float scale, int32_t zero_point);

/// TFLite's int8 add of two same-shape operands (Int8Reference.add bit for bit), count
/// lanes; out may be a or b exactly (in place). Precondition: 0 <= left_shift <= 22,
/// shifts <= 0, multipliers >= 0, zero points and clamps within int8.
typedef struct quanta_add {
    int32_t input1_zero_point, input2_zero_point, output_zero_point, left_shift;
    int32_t input1_multiplier, input1_shift, input2_multiplier, input2_shift;
    int32_t output_multiplier, output_shift, clamp_min, clamp_max;
} quanta_add;

void quanta_add_run(const int8_t *a, const int8_t *b, int8_t *out, long count, const quanta_add *p);

/// Σ w[i]·(x[i] − zero_point) over n int8 values, wrapping in int32 (NEON; ARM only).
/// Precondition: the exact sum fits in int32 (the loader's accumulator bound).
int32_t quanta_dot_s8(const int8_t *w, const int8_t *x, long n, int32_t zero_point);

/// 1 when the CPU has the dot product instructions (aarch64 AT_HWCAP ASIMDDP), else 0.
int quanta_cpu_has_dotprod(void);
/// Whether this CPU has the int8 matrix multiply (Armv8.6 I8MM: `smmla`; AT_HWCAP2), read once.
int quanta_cpu_has_i8mm(void);

#ifdef __cplusplus
}
#endif

#endif
