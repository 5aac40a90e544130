#if !hasFeature(Embedded)  // host-side: see FloatReference.swift
extension FloatReference {
    /// Elementwise unary activation: `out[i] = kind.apply(in[i])` for `i < count`
    /// (relu, relu6, clip, hard-swish, hard-sigmoid, sigmoid, tanh, leaky relu, swish; see
    /// `UnaryActivation` for each formula).
    /// - Precondition: output and input are the same buffer (in place) or do not overlap.
    public static func activation(
        input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, count: Int,
        kind: UnaryActivation
    ) {
        for i in 0..<count { output[i] = kind.apply(input[i]) }
    }
}
#endif
