extension Int8Reference {
    /// Int8 elementwise multiply (TFLite's `reference_integer_ops::Mul`), with the second
    /// input broadcast (squeeze-excite gates are `n×1×1×c`):
    ///
    ///     out = clamp(zpOut + MBQM((a - zp1) * (b - zp2), multiplier, shift), clampMin, clampMax)
    ///
    /// `shape2` is `shape1`, or broadcast along any axis where it is 1 (`n×1×1×c`,
    /// `1×1×1×1`). The output has `shape1`. `output` may alias `input1`; it may alias
    /// `input2` only when `shape2 == shape1`.
    ///
    /// - Precondition: `outputShape == shape1`; every axis of `shape2` is 1 or equal to
    ///   `shape1`'s; shift in -31...31.
    public static func mul(
        input1: UnsafePointer<Int8>, shape1: TensorShape, input2: UnsafePointer<Int8>,
        shape2: TensorShape, output: UnsafeMutablePointer<Int8>, outputShape: TensorShape,
        quantization q: MulQuantization
    ) {
        precondition(outputShape == shape1, "mul: output shape must equal the first input's")
        let broadcast = Broadcast(shape1, shape2)
        for index in 0..<shape1.elementCount {
            output[index] = mul(input1[index], input2[broadcast.secondIndex(index)], q)
        }
    }

    /// One output of `mul`: `clamp(zpOut + MBQM((a - zp1) * (b - zp2), multiplier, shift))`.
    @inlinable
    public static func mul(_ a: Int8, _ b: Int8, _ q: MulQuantization) -> Int8 {
        let product = (Int32(a) - q.input1ZeroPoint) * (Int32(b) - q.input2ZeroPoint)
        let scaled = FixedPoint.multiplyByQuantizedMultiplier(product, q.multiplier, q.shift)
        return clampToInt8(Int64(scaled) + Int64(q.outputZeroPoint), q.clampMin, q.clampMax)
    }
}
