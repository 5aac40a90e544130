extension Int8Reference {
    /// Fractional bits of the bilinear weights (TFLite's `ResizeBilinearInteger` uses 10).
    public static let bilinearWeightBits = 10

    /// Bilinear resize of int8 values in TFLite's fixed-point scheme (`ResizeBilinearInteger`):
    /// input and output share scale and zero point, the raw values are interpolated with
    /// Q10 weights and the Q20 sum is rounded half away from zero:
    ///
    ///     acc = in[y0,x0]·(1024-wy)(1024-wx) + in[y0,x1]·(1024-wy)·wx
    ///         + in[y1,x0]·wy·(1024-wx)       + in[y1,x1]·wy·wx          (|acc| < 2^27)
    ///     out = (acc + (acc > 0 ? 2^19 : -2^19)) / 2^20                 (truncating division)
    ///
    /// so the result is in the range of its four inputs. The per-axis tables are computed at
    /// quantization time from `ResizeCoordinateTransform.bilinearSource`, the weight rounded to
    /// the nearest multiple of 2^-10 (TFLite instead rounds the scale to Q10 and multiplies it
    /// by the index, which drifts by up to `index / 2048` pixels).
    ///
    /// `rows` holds `3 · outputShape.h` values `[y0, y1, wy]` per output row, `columns`
    /// `3 · outputShape.w` values `[x0, x1, wx]` per output column.
    ///
    /// - Precondition: N and C of input and output agree; every `y0, y1` in `0..<inputShape.h`,
    ///   `x0, x1` in `0..<inputShape.w`, weights in `0...1024` (checked when a model is
    ///   loaded); no overlap.
    public static func resizeBilinear(
        input: UnsafePointer<Int8>, inputShape: TensorShape, output: UnsafeMutablePointer<Int8>,
        outputShape: TensorShape, rows: UnsafePointer<Int32>, columns: UnsafePointer<Int32>
    ) {
        precondition(inputShape.n == outputShape.n && inputShape.c == outputShape.c, "resizeBilinear: N or C differ")
        let one: Int32 = 1 << 10
        let half: Int32 = 1 << 19
        for b in 0..<outputShape.n {
            for y in 0..<outputShape.h {
                let y0 = Int(rows[3 * y]), y1 = Int(rows[3 * y + 1]), wy = rows[3 * y + 2]
                precondition(y0 >= 0 && y0 < inputShape.h && y1 >= 0 && y1 < inputShape.h && wy >= 0 && wy <= one,
                             "resizeBilinear: row table out of range")
                for x in 0..<outputShape.w {
                    let x0 = Int(columns[3 * x]), x1 = Int(columns[3 * x + 1]), wx = columns[3 * x + 2]
                    precondition(x0 >= 0 && x0 < inputShape.w && x1 >= 0 && x1 < inputShape.w && wx >= 0 && wx <= one,
                                 "resizeBilinear: column table out of range")
                    let w00 = (one - wy) * (one - wx), w01 = (one - wy) * wx
                    let w10 = wy * (one - wx), w11 = wy * wx
                    let p00 = inputShape.index(b, y0, x0, 0), p01 = inputShape.index(b, y0, x1, 0)
                    let p10 = inputShape.index(b, y1, x0, 0), p11 = inputShape.index(b, y1, x1, 0)
                    let to = outputShape.index(b, y, x, 0)
                    for ch in 0..<outputShape.c {
                        let acc = Int32(input[p00 + ch]) &* w00 &+ Int32(input[p01 + ch]) &* w01
                            &+ Int32(input[p10 + ch]) &* w10 &+ Int32(input[p11 + ch]) &* w11
                        output[to + ch] = Int8((acc &+ (acc > 0 ? half : -half)) / (1 << 20))
                    }
                }
            }
        }
    }
}
