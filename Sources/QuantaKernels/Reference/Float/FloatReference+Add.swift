#if !hasFeature(Embedded)  // host-side: see FloatReference.swift
extension FloatReference {
    /// Elementwise add with broadcasting: `out = clamp(a + b)`.
    ///
    /// `shape2` equals `shape1`, or is `n×1×1×c` (per-channel), or `1×1×1×1` (scalar); more
    /// generally every dimension of either input equals `outputShape`'s or is 1.
    /// - Precondition: the shapes broadcast to `outputShape`. The output may alias an
    ///   input whose shape equals `outputShape` (each element is read before it is written).
    public static func add(
        input1: UnsafePointer<Float>, shape1: TensorShape,
        input2: UnsafePointer<Float>, shape2: TensorShape,
        output: UnsafeMutablePointer<Float>, outputShape: TensorShape, clamp: FloatClamp
    ) {
        elementwise(input1: input1, shape1: shape1, input2: input2, shape2: shape2,
                    output: output, outputShape: outputShape, clamp: clamp) { $0 + $1 }
    }
}
#endif
