/// How `Layout.borderPad` fills the padding: from the input's own border pixels.
public enum BorderPadMode: Int, Equatable, Hashable, Sendable {
    /// ONNX `reflect` (numpy `reflect`, TFLite MIRROR_PAD `REFLECT`): the input mirrored
    /// about its first/last row or column, which is not repeated (`[a b c]` padded by 2 on
    /// the left is `[c b a b c]`). Needs every pad smaller than the padded dimension.
    case reflect = 0
    /// ONNX `edge` (numpy `edge`): the first/last row or column repeated.
    case edge = 1
}

extension Layout {
    /// Spatial padding whose values come from the input (`mode`): for output position
    /// `(y, x)` with `iy = y - top`, `ix = x - left`, the input pixel at
    /// `(source(iy, h), source(ix, w))`, where for `edge` `source(i, n) = clamp(i, 0, n - 1)`
    /// and for `reflect` `source(i, n) = -i` when `i < 0`, `2(n - 1) - i` when `i >= n`.
    /// A pure copy: exact for float and for int8 (input and output share quantization).
    ///
    /// - Precondition: `outputShape` is `inputShape` with `h += top + bottom`,
    ///   `w += left + right`; input H, W >= 1; for `reflect` every pad is below the
    ///   dimension it pads (`top, bottom < h`, `left, right < w`); no overlap.
    public static func borderPad<T>(
        input: UnsafePointer<T>, inputShape: TensorShape, output: UnsafeMutablePointer<T>,
        outputShape: TensorShape, padding: Padding, mode: BorderPadMode
    ) {
        precondition(outputShape == TensorShape(
            n: inputShape.n, h: inputShape.h + padding.top + padding.bottom,
            w: inputShape.w + padding.left + padding.right, c: inputShape.c),
                     "borderPad: output shape is not the padded input shape")
        precondition(inputShape.h >= 1 && inputShape.w >= 1, "borderPad: empty input")
        if mode == .reflect {
            precondition(padding.top < inputShape.h && padding.bottom < inputShape.h
                && padding.left < inputShape.w && padding.right < inputShape.w,
                         "borderPad: reflect pad not below the padded dimension")
        }
        for b in 0..<outputShape.n {
            for y in 0..<outputShape.h {
                let iy = borderSource(y - padding.top, inputShape.h, mode)
                for x in 0..<outputShape.w {
                    let ix = borderSource(x - padding.left, inputShape.w, mode)
                    let from = inputShape.index(b, iy, ix, 0)
                    let to = outputShape.index(b, y, x, 0)
                    for ch in 0..<outputShape.c { output[to + ch] = input[from + ch] }
                }
            }
        }
    }

    /// The input index that padded index `i` (possibly outside `0..<n`) reads.
    @inlinable
    static func borderSource(_ i: Int, _ n: Int, _ mode: BorderPadMode) -> Int {
        if i >= 0 && i < n { return i }
        switch mode {
        case .edge: return i < 0 ? 0 : n - 1
        case .reflect: return i < 0 ? -i : 2 * (n - 1) - i
        }
    }
}
