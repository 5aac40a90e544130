#if !hasFeature(Embedded)  // host-side: see FloatReference.swift
extension FloatReference {
    @usableFromInline
    static func elementwise(
        input1: UnsafePointer<Float>, shape1: TensorShape,
        input2: UnsafePointer<Float>, shape2: TensorShape,
        output: UnsafeMutablePointer<Float>, outputShape: TensorShape,
        clamp: FloatClamp, _ op: (Float, Float) -> Float
    ) {
        let i1 = BroadcastIndexer(shape1, output: outputShape)
        let i2 = BroadcastIndexer(shape2, output: outputShape)
        for b in 0..<outputShape.n {
            for y in 0..<outputShape.h {
                for x in 0..<outputShape.w {
                    for ch in 0..<outputShape.c {
                        let v = op(input1[i1.index(b, y, x, ch)], input2[i2.index(b, y, x, ch)])
                        output[outputShape.index(b, y, x, ch)] = clamp.apply(v)
                    }
                }
            }
        }
    }
}
#endif
