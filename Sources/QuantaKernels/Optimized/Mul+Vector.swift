/// Int8 elementwise multiply with the second operand of the first's shape or a per-channel
/// gate `n×1×1×c` (squeeze-excite), 8 channels at a time (`KernelVariant.elementwise` on a
/// `mul` record).
///
/// Reference: `Int8Reference.mul`; same results bit for bit. Each product
/// `(a - zp1) · (b - zp2)` is at most 255² in magnitude, exact in int32 lanes; the
/// rescale is the target's 8-lane output stage (`Requantizer8`) with the one multiplier
/// and shift, which is `FixedPoint.multiplyByQuantizedMultiplier` lane by lane, then the
/// zero point and the clamp as the reference. Channel tails run `Int8Reference.mul` per element.
///
/// `output` may alias `input1` exactly (in place), or `input2` when the shapes are equal:
/// each block of 8 is read before it is written.
public enum VectorMul {
    /// Whether `run` takes these operand shapes: equal, or `shape2 == n×1×1×c` of `shape1`.
    @inlinable
    public static func applies(shape1: TensorShape, shape2: TensorShape) -> Bool {
        shape2 == shape1 || shape2 == TensorShape(n: shape1.n, h: 1, w: 1, c: shape1.c)
    }

    /// - Precondition: `applies(shape1:shape2:)`; the quantization as `Int8Reference.mul`.
    public static func run(
        input1: UnsafePointer<Int8>, shape1: TensorShape, input2: UnsafePointer<Int8>, shape2: TensorShape,
        output: UnsafeMutablePointer<Int8>, quantization q: MulQuantization
    ) {
        precondition(applies(shape1: shape1, shape2: shape2), "mul: the vector kernel needs equal shapes or an n×1×1×c gate")
        let channels = shape1.c
        let pixels = shape1.h * shape1.w
        let gate = shape2 != shape1
        let vectorChannels = channels & ~7
        withUnsafePointer(to: q.multiplier) { m in
            withUnsafePointer(to: q.shift) { s in
                let scale = Requantizer8(
                    Requantization(multipliers: m, shifts: s, channelCount: 1, outputZeroPoint: q.outputZeroPoint,
                                   clampMin: q.clampMin, clampMax: q.clampMax), first: 0, count: 8, channelStride: 1)
                let zp1 = SIMD8<Int32>(repeating: q.input1ZeroPoint)
                let zp2 = SIMD8<Int32>(repeating: q.input2ZeroPoint)
                for b in 0..<shape1.n {
                    let image = b * pixels * channels
                    for p in 0..<pixels {
                        let row = image + p * channels
                        let second = gate ? b * channels : row
                        var c = 0
                        while c < vectorChannels {
                            let x = VectorMath.widen8(UnsafeRawPointer(input1 + row + c).loadUnaligned(as: SIMD8<Int8>.self))
                            let y = VectorMath.widen8(UnsafeRawPointer(input2 + second + c).loadUnaligned(as: SIMD8<Int8>.self))
                            VectorMath.store8(scale.apply((x &- zp1) &* (y &- zp2)), output + row + c, count: 8)
                            c += 8
                        }
                        while c < channels {
                            output[row + c] = Int8Reference.mul(input1[row + c], input2[second + c], q)
                            c += 1
                        }
                    }
                }
            }
        }
    }
}
