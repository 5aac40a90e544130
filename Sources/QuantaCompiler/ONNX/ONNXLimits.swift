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
}
