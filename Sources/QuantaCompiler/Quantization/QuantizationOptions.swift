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
    /// Round each weighted layer's per-channel multipliers to `ShortMultiplier`'s 32-bit
    /// form (at least `ShortMultiplier.minimumBits` significant bits; at most 0.1 % change),
    /// which the x86 kernels requantize in half the instructions. `false` keeps TFLite's
    /// `QuantizeMultiplier` values to the last of their 31 bits. Either way the int8
    /// reference and every kernel give the same bits for the file written.
    public var shortMultipliers: Bool = true
    /// Quantize the weights of every 1×1, stride-1, unpadded, ungrouped convolution so that
    /// each pair of adjacent input channels has `|w0| + |w1| ≤ 128`
    /// (`WeightQuantization.quantize(_:channels:perTensor:pairBound:)`), which lets the
    /// writer store them for the uint8 × int8 GEMM (`KernelVariant.pointwiseU8`, `vpmaddubsw`
    /// on x86: about 1.2× the int16 GEMM). Costs up to a bit of weight precision on those
    /// layers (scales up to 127/64 × wider where one pair holds both extremes; 0.1–0.5 dB
    /// of output SQNR on the MobileNetV2 models, docs/PERFORMANCE.md). Off by default: on
    /// ARM the int16 GEMM is the fast one.
    public var pairBoundedWeights: Bool = false
    /// Calibration samples whose float passes run at once, each on its own thread
    /// (`Calibrator.observe(samples:)`); the statistics are recorded in sample order, so
    /// the model is the same for any count. Default: the processors available, at most 8.
    public var calibrationWorkers: Int = Calibrator.defaultWorkers

    /// The method used when none is given: the best mean output SQNR and top-1 agreement
    /// of the four methods over five models (docs/CALIBRATION.md, `Tools/calibration-study`).
    public static let defaultMethodName = "minmax"

    public init(method: CalibrationMethod = .minmax, perTensorWeights: Bool = false, histogramBins: Int = TensorStatistics.defaultBinCount) {
        self.method = method
        self.perTensorWeights = perTensorWeights
        self.histogramBins = histogramBins
    }
}
