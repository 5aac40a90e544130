extension Layout {
    /// Nearest-neighbour upsampling by integer factors: every input pixel is copied to its
    /// `factorH × factorW` block, `out[b, y, x, c] = in[b, y / factorH, x / factorW, c]`
    /// (ONNX Resize nearest with integer scales in the `asymmetric`+`floor`,
    /// `half_pixel`/`pytorch_half_pixel`+`round_prefer_*` and `tf_half_pixel_for_nn`+`floor`
    /// conventions, which all agree there; Upsample nearest). A pure copy: exact for float
    /// and int8; no arithmetic per element.
    ///
    /// - Precondition: factors >= 1; `outputShape` is `inputShape` with `h *= factorH`,
    ///   `w *= factorW`; no overlap.
    public static func upsampleNearest<T>(
        input: UnsafePointer<T>, inputShape: TensorShape, output: UnsafeMutablePointer<T>,
        outputShape: TensorShape, factorH: Int, factorW: Int
    ) {
        precondition(factorH >= 1 && factorW >= 1, "upsampleNearest: factor below 1")
        precondition(outputShape == TensorShape(
            n: inputShape.n, h: inputShape.h * factorH, w: inputShape.w * factorW, c: inputShape.c),
                     "upsampleNearest: output shape is not the upsampled input shape")
        let c = inputShape.c
        for b in 0..<outputShape.n {
            for y in 0..<outputShape.h {
                for x in 0..<outputShape.w {
                    let from = inputShape.index(b, y / factorH, x / factorW, 0)
                    let to = outputShape.index(b, y, x, 0)
                    for ch in 0..<c { output[to + ch] = input[from + ch] }
                }
            }
        }
    }
}
