import QuantaRuntime

/// Bounds on the sizes an ONNX model may state, checked where sizes enter the importer
/// (tensor dims, graph input shapes, Reshape targets), so that no shape arithmetic after
/// them can overflow: with every dimension at most 2^24 and every element count at most
/// 2^31, products of a few dimensions, strides and paddings stay far inside `Int`.
public enum ONNXLimits {
    /// Largest accepted dimension (the `.qmodel` format's limit).
    public static let maxDimension = ModelFormat.maxDimension
    /// Largest accepted element count of one tensor.
    public static let maxElementCount = 1 << 31
    /// Largest element count of a constant the importer computes itself (ConstantOfShape,
    /// Range, Expand, Tile, broadcasts, Concat, Gather of constants): 2^24 (64 MB of
    /// float), far below `maxElementCount`, checked before the result is allocated. Shape
    /// arithmetic and folded weights are orders of magnitude smaller; a 700-byte file must
    /// not make the importer allocate gigabytes.
    public static let maxFoldedElements = 1 << 24
    /// Largest pooling window (kh · kw) at import: the runtime's bound (the int32 sum of
    /// 2^22 int8 values stays below 2^29), checked before calibration runs the window.
    public static let maxPoolWindow = 1 << 22
    /// Largest float work of one calibration pass, in multiply-accumulates (or window
    /// elements) per sample, summed over the graph: 2^37 ≈ 1.4·10^11, 40× a 3.3 GMAC
    /// detector. Checked at import so that a tiny file cannot keep calibration busy for hours.
    public static let maxMACsPerSample = 1 << 37
    /// The default-domain opsets a model may declare: up to the newest the ONNX release of
    /// 2026 defines (onnx 1.23: opset 28). A later opset may change an op's meaning, so it
    /// is refused rather than read with today's rules (ONNX Runtime refuses opsets it does
    /// not know too).
    public static let opsets = 1...28

    /// The product of `dims`, or nil when a dimension is negative or above `maxDimension`
    /// or the product of the non-zero dimensions is above `maxElementCount` (so every
    /// partial product of `dims` is bounded as well, also when one dimension is 0).
    public static func elementCount<D: BinaryInteger>(_ dims: [D]) -> Int? {
        var nonZero = 1
        var hasZero = false
        for d in dims {
            guard let v = Int(exactly: d), v >= 0, v <= maxDimension else { return nil }
            if v == 0 { hasZero = true; continue }
            let (p, overflow) = nonZero.multipliedReportingOverflow(by: v)
            guard !overflow, p <= maxElementCount else { return nil }
            nonZero = p
        }
        return hasZero ? 0 : nonZero
    }

    /// `value` truncated toward zero, saturated at the `Int64` range; NaN is 0.
    public static func saturatingInt64(_ value: Float) -> Int64 {
        if value.isNaN { return 0 }
        if value >= 0x1p63 { return .max }
        if value <= -0x1p63 { return .min }
        return Int64(value)
    }

    /// Largest rank of a shape the importer reads from a constant (a Reshape, Expand or
    /// ConstantOfShape target): ONNX models use at most 8; a target of millions of values
    /// is refused before it is used (or printed in an error).
    public static let maxRank = 64

    /// `values` for an error message: at most 8 of them, then the count.
    static func short<T>(_ values: [T]) -> String {
        values.count <= 8 ? "\(values)" : "[" + values.prefix(8).map { "\($0)" }.joined(separator: ", ") + ", … (\(values.count) values)]"
    }
}
