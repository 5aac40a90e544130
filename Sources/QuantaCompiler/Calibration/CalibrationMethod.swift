/// How an activation tensor's int8 range is chosen from its calibration statistics
/// (see docs/CALIBRATION.md). Every method returns a sub-range of the observed
/// `[min, max]`; quantization then widens it to contain zero.
public enum CalibrationMethod: Equatable, Hashable, Sendable {
    /// The observed minimum and maximum.
    case minmax
    /// Clip `(100 - p) / 2` percent of the values off each end (ONNX Runtime's
    /// asymmetric percentile), read from the histogram at bin resolution. `p` in (0, 100].
    case percentile(Double)
    /// The symmetric threshold `t` on |x| that minimizes the KL divergence between the
    /// clipped histogram and its 128-level quantization (TensorRT's entropy calibration),
    /// intersected with `[min, max]`.
    case entropy
    /// The `[lo, hi]` minimizing the expected squared error of int8 quantization with
    /// `Quantizer.chooseParameters(min: lo, max: hi)`, computed exactly from the histogram
    /// (values uniform within each bin: rounding error inside, clipping error outside).
    case mse

    public static let defaultPercentile = 99.99

    /// Parses a method name (`minmax`, `percentile`, `entropy`, `mse`); `percentile` is
    /// used by `percentile` only (default 99.99). Nil for an unknown name.
    public init?(name: String, percentile: Double? = nil) {
        switch name.lowercased() {
        case "minmax", "min-max", "min_max": self = .minmax
        case "percentile": self = .percentile(percentile ?? CalibrationMethod.defaultPercentile)
        case "entropy", "kl": self = .entropy
        case "mse": self = .mse
        default: return nil
        }
    }

    /// The name `init(name:)` accepts.
    public var name: String {
        switch self {
        case .minmax: return "minmax"
        case .percentile: return "percentile"
        case .entropy: return "entropy"
        case .mse: return "mse"
        }
    }

    /// Whether the method reads the histogram (all but `minmax`).
    public var needsHistogram: Bool { self != .minmax }
}
