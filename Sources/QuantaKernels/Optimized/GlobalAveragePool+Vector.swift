/// Int8 global average pooling with the channel sums taken 16 channels at a time
/// (`KernelVariant.elementwise` on a `globalAveragePool` record).
///
/// Reference: `Int8Reference.globalAveragePool`; same results bit for bit. The sum of a
/// channel is `Σ in - count · inputZeroPoint` in wrapping int32, equal to the reference's
/// `Σ (in - inputZeroPoint)` (which fits in int32 by its precondition `H·W·255 < 2^31`);
/// the rescale, rounded division and clamp are `Int8Reference.globalAverage`, per channel.
/// Pixels are read in memory order (NHWC), so each input byte is loaded once.
public enum VectorGlobalAveragePool {
    /// - Precondition: as `Int8Reference.globalAveragePool`.
    public static func run(
        input: UnsafePointer<Int8>, inputShape: TensorShape, inputZeroPoint: Int32,
        output: UnsafeMutablePointer<Int8>, outputZeroPoint: Int32, multiplier: Int32, shift: Int32
    ) {
        let pixels = inputShape.h * inputShape.w
        precondition(pixels > 0, "globalAveragePool: empty input")
        let channels = inputShape.c
        let count = Int32(pixels)
        let offset = count &* inputZeroPoint
        for b in 0..<inputShape.n {
            let image = input + b * pixels * channels
            let out = output + b * channels
            var c0 = 0
            while c0 + 16 <= channels {
                var sum = SIMD16<Int32>()
                var p = image + c0
                for _ in 0..<pixels {
                    sum &+= VectorMath.widen(VectorMath.widen(UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Int8>.self)))
                    p += channels
                }
                for i in 0..<16 {
                    out[c0 + i] = Int8Reference.globalAverage(
                        sum: sum[i] &- offset, count: count, outputZeroPoint: outputZeroPoint,
                        multiplier: multiplier, shift: shift)
                }
                c0 += 16
            }
            for c in c0..<channels {
                var sum: Int32 = 0
                var p = image + c
                for _ in 0..<pixels {
                    sum &+= Int32(p.pointee)
                    p += channels
                }
                out[c] = Int8Reference.globalAverage(
                    sum: sum &- offset, count: count, outputZeroPoint: outputZeroPoint,
                    multiplier: multiplier, shift: shift)
            }
        }
    }
}
