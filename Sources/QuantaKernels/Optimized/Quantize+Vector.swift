#if arch(arm64) || arch(arm)
import CQuantaKernels
#endif

/// Float32 → int8 quantization of a model input, vectorized: `Quantizer.quantize` bit for
/// bit (NEON `fdiv` + `fcvtas` on aarch64, 16 values per step, three planes stored
/// interleaved by `st3`; the scalar loop elsewhere).
public enum VectorQuantize {
    /// `dst[p * planes + c] = Quantizer.quantize(src[c * planeSize + p], q)` for
    /// `p < planeSize`, `c < planes`: one planar (NCHW) image into interleaved (NHWC) int8;
    /// with `planes == 1` a plain array. `src` holds little-endian float32 at 4-byte
    /// alignment.
    /// - Precondition: `q.scale > 0`; `src` 4-byte aligned; no overlap.
    public static func planes(_ src: UnsafePointer<Float>, planes: Int, planeSize: Int, into dst: UnsafeMutablePointer<Int8>,
                              _ q: QuantizationParameters) {
        precondition(planes >= 1 && planeSize >= 0 && q.scale > 0, "VectorQuantize.planes: bad operands")
        #if arch(arm64) || arch(arm)
        quanta_quantize_planes(src, planes, planeSize, dst, q.scale, q.zeroPoint)
        #else
        for p in 0..<planeSize {
            for c in 0..<planes { dst[p * planes + c] = Quantizer.quantize(src[c * planeSize + p], q) }
        }
        #endif
    }
}
