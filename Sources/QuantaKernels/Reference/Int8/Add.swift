extension Int8Reference {
    /// Int8 elementwise add (TFLite's `reference_integer_ops::Add`), with the second input
    /// broadcast:
    ///
    ///     a' = MBQMSmallerThanOneExp((a - zp1) * 2^leftShift, m1, s1)
    ///     b' = MBQMSmallerThanOneExp((b - zp2) * 2^leftShift, m2, s2)
    ///     out = clamp(zpOut + MBQMSmallerThanOneExp(a' + b', mOut, sOut), clampMin, clampMax)
    ///
    /// `shape2` is `shape1`, or broadcast along any axis where it is 1 (in particular
    /// `n×1×1×c`, a per-channel operand, and `1×1×1×1`, a scalar). The output has `shape1`.
    /// `output` may alias `input1` (in place); it may alias `input2` only when `shape2 == shape1`.
    ///
    /// - Precondition: `outputShape == shape1`; every axis of `shape2` is 1 or equal to
    ///   `shape1`'s; `0 <= leftShift <= 22` (so `255 * 2^leftShift` fits); shifts in -31...0.
    public static func add(
        input1: UnsafePointer<Int8>, shape1: TensorShape, input2: UnsafePointer<Int8>,
        shape2: TensorShape, output: UnsafeMutablePointer<Int8>, outputShape: TensorShape,
        quantization q: AddQuantization
    ) {
        precondition(outputShape == shape1, "add: output shape must equal the first input's")
        precondition(q.leftShift >= 0 && q.leftShift <= 22, "add: left shift outside 0...22")
        let broadcast = Broadcast(shape1, shape2)
        let factor = Int32(1) << q.leftShift
        for index in 0..<shape1.elementCount {
            let a = (Int32(input1[index]) - q.input1ZeroPoint) * factor
            let b = (Int32(input2[broadcast.secondIndex(index)]) - q.input2ZeroPoint) * factor
            let scaledA = FixedPoint.multiplyByQuantizedMultiplierSmallerThanOneExp(a, q.input1Multiplier, q.input1Shift)
            let scaledB = FixedPoint.multiplyByQuantizedMultiplierSmallerThanOneExp(b, q.input2Multiplier, q.input2Shift)
            let sum = FixedPoint.multiplyByQuantizedMultiplierSmallerThanOneExp(scaledA + scaledB, q.outputMultiplier, q.outputShift)
            output[index] = clampToInt8(Int64(sum) + Int64(q.outputZeroPoint), q.clampMin, q.clampMax)
        }
    }
}

/// Maps a linear NHWC index of the first (full) operand of a binary op to the linear
/// index of the second operand, which is broadcast along every axis where it is 1.
@usableFromInline
struct Broadcast {
    @usableFromInline let shape1: TensorShape
    @usableFromInline let shape2: TensorShape
    @usableFromInline let identical: Bool

    @inlinable
    init(_ shape1: TensorShape, _ shape2: TensorShape) {
        precondition(
            (shape2.n == shape1.n || shape2.n == 1) && (shape2.h == shape1.h || shape2.h == 1)
                && (shape2.w == shape1.w || shape2.w == 1) && (shape2.c == shape1.c || shape2.c == 1),
            "binary op: second input shape does not broadcast to the first")
        self.shape1 = shape1
        self.shape2 = shape2
        self.identical = shape1 == shape2
    }

    @inlinable
    func secondIndex(_ index: Int) -> Int {
        if identical { return index }
        let c = index % shape1.c
        let pixel = index / shape1.c
        let x = pixel % shape1.w
        let row = pixel / shape1.w
        let y = row % shape1.h
        let b = row / shape1.h
        return shape2.index(
            shape2.n == 1 ? 0 : b, shape2.h == 1 ? 0 : y, shape2.w == 1 ? 0 : x, shape2.c == 1 ? 0 : c)
    }
}
