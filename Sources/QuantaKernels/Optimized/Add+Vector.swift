#if arch(arm64) || arch(arm)
import CQuantaKernels
#endif

/// Int8 elementwise add of two operands of the same shape, 8 lanes at a time
/// (`KernelVariant.elementwise`).
///
/// Reference: `Int8Reference.add` with `shape2 == shape1`; same results bit for bit. Each
/// of the three `MultiplyByQuantizedMultiplierSmallerThanOneExp` steps is
/// the target's 8-lane output stage (`Requantizer8`: AVX2 on x86_64, `RequantizationBlock8`
/// elsewhere) with one channel (shift ≤ 0, so no left shift): SRDHM, then RDBPOT, as
/// `FixedPoint`. The intermediate sum `a' + b'` cannot overflow: with
/// `leftShift ≤ 22`, `|(q - zp) · 2^leftShift| < 2^30` and SRDHM by a multiplier below
/// 2^31 does not grow it, so the wrapping vector add equals the reference's checked add.
///
/// `output` may alias `input1` or `input2` exactly (in place): each block of 8 is read
/// before it is written.
public enum VectorAdd {
    /// - Precondition: as `Int8Reference.add` (`0 <= leftShift <= 22`, shifts in -31...0).
    public static func run(
        input1: UnsafePointer<Int8>, input2: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int8>,
        count: Int, quantization q: AddQuantization
    ) {
        precondition(q.leftShift >= 0 && q.leftShift <= 22, "add: left shift outside 0...22")
        precondition(q.input1Shift <= 0 && q.input2Shift <= 0 && q.outputShift <= 0, "add: shifts must be <= 0")
        #if arch(arm64) || arch(arm)
        if q.input1ZeroPoint >= -128 && q.input1ZeroPoint <= 127 && q.input2ZeroPoint >= -128 && q.input2ZeroPoint <= 127
            && q.outputZeroPoint >= -128 && q.outputZeroPoint <= 127 && q.input1Multiplier >= 0 && q.input2Multiplier >= 0
            && q.outputMultiplier >= 0 && q.clampMin >= -128 && q.clampMin <= q.clampMax && q.clampMax <= 127 {
            // The NEON kernel (Sources/CQuantaKernels/add-neon.c), 16 lanes at a time.
            var p = quanta_add(
                input1_zero_point: q.input1ZeroPoint, input2_zero_point: q.input2ZeroPoint,
                output_zero_point: q.outputZeroPoint, left_shift: q.leftShift,
                input1_multiplier: q.input1Multiplier, input1_shift: q.input1Shift,
                input2_multiplier: q.input2Multiplier, input2_shift: q.input2Shift,
                output_multiplier: q.outputMultiplier, output_shift: q.outputShift,
                clamp_min: q.clampMin, clamp_max: q.clampMax)
            quanta_add_run(input1, input2, output, count, &p)
            return
        }
        let done = 0
        #elseif arch(x86_64) && QUANTA_AVX2
        let done = runAVX2(input1: input1, input2: input2, output: output, count: count, quantization: q)
        #else
        let done = 0
        #endif
        let vectorCount = count & ~7
        withUnsafePointer(to: (q.input1Multiplier, q.input2Multiplier, q.outputMultiplier)) { mp in
            withUnsafePointer(to: (q.input1Shift, q.input2Shift, q.outputShift)) { sp in
                let m = UnsafeRawPointer(mp).assumingMemoryBound(to: Int32.self)
                let s = UnsafeRawPointer(sp).assumingMemoryBound(to: Int32.self)
                // Intermediates are not clamped: the full int32 range, zero point 0.
                let scaleA = Requantizer8(
                    Requantization(multipliers: m, shifts: s, channelCount: 1, outputZeroPoint: 0,
                                   clampMin: Int32.min, clampMax: Int32.max), first: 0, count: 8, channelStride: 1)
                let scaleB = Requantizer8(
                    Requantization(multipliers: m + 1, shifts: s + 1, channelCount: 1, outputZeroPoint: 0,
                                   clampMin: Int32.min, clampMax: Int32.max), first: 0, count: 8, channelStride: 1)
                let scaleOut = Requantizer8(
                    Requantization(multipliers: m + 2, shifts: s + 2, channelCount: 1, outputZeroPoint: q.outputZeroPoint,
                                   clampMin: q.clampMin, clampMax: q.clampMax), first: 0, count: 8, channelStride: 1)
                let zpA = SIMD8<Int32>(repeating: q.input1ZeroPoint)
                let zpB = SIMD8<Int32>(repeating: q.input2ZeroPoint)
                let shift = SIMD8<Int32>(repeating: q.leftShift)
                var i = done
                while i < vectorCount {
                    let a = VectorMath.widen8(UnsafeRawPointer(input1 + i).loadUnaligned(as: SIMD8<Int8>.self))
                    let b = VectorMath.widen8(UnsafeRawPointer(input2 + i).loadUnaligned(as: SIMD8<Int8>.self))
                    let sum = scaleA.apply((a &- zpA) &<< shift) &+ scaleB.apply((b &- zpB) &<< shift)
                    VectorMath.store8(scaleOut.apply(sum), output + i, count: 8)
                    i += 8
                }
            }
        }
        if vectorCount < count {
            let tail = TensorShape(n: 1, h: 1, w: 1, c: count - vectorCount)
            Int8Reference.add(
                input1: input1 + vectorCount, shape1: tail, input2: input2 + vectorCount, shape2: tail,
                output: output + vectorCount, outputShape: tail, quantization: q)
        }
    }
}
