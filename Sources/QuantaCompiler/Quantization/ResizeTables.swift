import QuantaKernels

/// The per-axis tables of `Int8Reference.resizeBilinear`, computed at quantization time.
public enum ResizeTables {
    /// `[i0, i1, w1]` for each output index of an axis: `i0, i1` and the weight `w1` of `i1`
    /// from `transform.bilinearSource` (ONNX Runtime's coordinates), `w1` in Q10 rounded to
    /// nearest (`round(w1 · 1024)`, in `0...1024`).
    public static func bilinear(_ transform: ResizeCoordinateTransform, scale: Double, inputSize: Int, outputSize: Int) -> [Int32] {
        var table: [Int32] = []
        table.reserveCapacity(3 * outputSize)
        let one = Double(1 << Int8Reference.bilinearWeightBits)
        for x in 0..<outputSize {
            let s = transform.bilinearSource(x, scale: scale, inputSize: inputSize, outputSize: outputSize)
            table += [Int32(s.i0), Int32(s.i1), Int32((s.w1 * one).rounded(.toNearestOrAwayFromZero))]
        }
        return table
    }
}
