/// What `ModelQuantizer.quantize` does with a float graph and its calibration samples.
public struct QuantizationOptions: Equatable, Sendable {
    /// How activation ranges are chosen from the calibration statistics.
    public var method: CalibrationMethod
    /// One weight scale per weight tensor (the largest |w| of all channels) instead of one
    /// per output channel. The requantization arrays still hold one entry per channel
    /// (all equal).
    public var perTensorWeights: Bool
    /// Histogram bins per activation tensor (even, at least 256).
    public var histogramBins: Int
    /// Which convolution kernels the written model runs (`.fast`: the optimized variants,
    /// bit-identical to `.reference`).
    public var kernels: KernelSelection = .fast

    /// The method used when none is given: the best mean output SQNR and top-1 agreement
    /// of the four methods over five models (docs/CALIBRATION.md, `Tools/calibration-study`).
    public static let defaultMethodName = "minmax"

    public init(method: CalibrationMethod = .minmax, perTensorWeights: Bool = false, histogramBins: Int = TensorStatistics.defaultBinCount) {
        self.method = method
        self.perTensorWeights = perTensorWeights
        self.histogramBins = histogramBins
    }
}
