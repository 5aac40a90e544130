/// Why a float graph could not be calibrated or quantized. `node` and `tensor` are the
/// names in the float graph.
public enum QuantizationError: Error, Equatable, CustomStringConvertible {
    case noCalibrationSamples
    /// `percentile` outside (0, 100].
    case invalidPercentile(Double)
    /// `histogramBins` odd or below 256.
    case invalidHistogramBins(Int)
    /// A calibration sample does not have one array per graph input.
    case sampleInputCount(sample: Int, expected: Int, actual: Int)
    /// A calibration sample's array for a graph input has the wrong element count.
    case sampleSize(sample: Int, input: String, expected: Int, actual: Int)
    /// The float reference produced NaN or infinity (`count` values over all samples).
    case nonFiniteActivation(tensor: String, count: Int)
    /// A tensor read by the graph has no calibration range (and no constant data).
    case missingRange(tensor: String)
    /// `ranges` passed to `ModelQuantizer` does not have one entry per tensor.
    case rangeCount(expected: Int, actual: Int)
    /// An int32 bias value `bias / (inputScale * weightScale[channel])` beyond Int32.
    case biasOverflow(node: String, channel: Int, value: Double)
    /// A requantization multiplier the int8 kernels cannot apply.
    case multiplierOutOfRange(node: String, what: String, value: Double)
    /// An op or attribute the int8 model cannot express.
    case unsupported(node: String, detail: String)

    public var description: String {
        switch self {
        case .noCalibrationSamples:
            return "no calibration samples"
        case .invalidPercentile(let p):
            return "percentile \(p) is outside (0, 100]"
        case .invalidHistogramBins(let n):
            return "histogram bin count \(n) must be even and at least 256"
        case .sampleInputCount(let s, let e, let a):
            return "calibration sample \(s): \(a) input arrays, the graph has \(e) inputs"
        case .sampleSize(let s, let input, let e, let a):
            return "calibration sample \(s), input '\(input)': \(a) values, expected \(e)"
        case .nonFiniteActivation(let t, let n):
            return "tensor '\(t)': the float model produced \(n) NaN or infinite values on the calibration samples"
        case .missingRange(let t):
            return "tensor '\(t)': no calibration range"
        case .rangeCount(let e, let a):
            return "\(a) activation ranges given for \(e) tensors"
        case .biasOverflow(let node, let c, let v):
            return "node '\(node)': bias of channel \(c) is \(v) in int32 units (input scale × weight scale is too small); it does not fit in int32"
        case .multiplierOutOfRange(let node, let what, let v):
            return "node '\(node)': \(what) multiplier \(v) cannot be represented by the int8 kernels"
        case .unsupported(let node, let detail):
            return "node '\(node)': \(detail)"
        }
    }
}
