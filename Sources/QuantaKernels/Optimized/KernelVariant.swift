/// Which int8 convolution kernel runs a layer. Chosen once, at quantization time, by
/// `choose`, stored in the model (raw value), and switched on by the interpreter through
/// `OptimizedConv2D.run`. Every variant gives `Int8Reference.conv2D`'s results bit for bit.
///
/// Each variant has its packed-weights layout (`packedWeightsByteCount`, `OptimizedConv2D.packWeights`,
/// the same bytes on every architecture) and its scratch size (`scratchBytes`), so the
/// planner can place the scratch in the arena. Raw values are part of the model format.
@frozen
public enum KernelVariant: UInt8, Equatable, Hashable, Sendable, CaseIterable {
    /// `Int8Reference.conv2D` (plain loops). No packed weights, no scratch.
    case reference = 0
    /// 1×1, stride 1, no padding, groups 1: `PointwiseGEMM` over all pixels.
    case pointwise = 1
    /// 1 < groups < channels: `GroupedConv` (1×1 in place per group, else im2col per group).
    case grouped = 2
    /// Groups 1, any other geometry: `Im2col` + `PointwiseGEMM`.
    case im2col = 3
    /// Depthwise (groups == channels), any kernel, stride, dilation, multiplier: `DepthwiseConv.run`.
    case depthwise = 4
    /// Depthwise 3×3, stride 1 or 2, dilation 1: `DepthwiseConv.run3x3`.
    case depthwise3x3 = 5
    /// Not a convolution: a vectorized add of two operands of the same shape (`VectorAdd`),
    /// mul of same-shape operands or by a per-channel gate (`VectorMul`), or global average
    /// pooling (`VectorGlobalAveragePool`). No packed weights, no scratch.
    case elementwise = 6
    /// As `.pointwise`, for weights whose pairs fit (`PointwiseU8GEMM.pairsFit`): the
    /// uint8 × int8 GEMM `PointwiseU8GEMM` (`vpmaddubsw` on x86). `choose` never picks it;
    /// the compiler upgrades a `.pointwise` layer whose weights fit (`upgradedForWeights`).
    case pointwiseU8 = 7
    /// A 1×1, stride 1, unpadded convolution of any groups but depthwise (one `PointwiseGEMM`
    /// per group, as `.pointwise` / `.grouped`), with an even number of input channels per
    /// group, reading its input where it lies: no scratch (`PointwiseGEMM.runDirect`).
    /// `choose` never picks it; the memory passes do where a GEMM panel would raise the
    /// arena's peak (`MemoryPasses.scratchFreePeak`). Packed weights as `.pointwise`.
    case directGEMM = 8
    /// As `.im2col` (any geometry and groups), without arena scratch: the im2col rows are
    /// gathered a tile at a time into a fixed buffer on the stack (`Im2col.directTileBytes`)
    /// and multiplied by `PointwiseGEMM.runDirect`. Needs a depth (`kH·kW·Ci`, rounded up to
    /// even) of at most `Im2col.directTileBytes`. `choose` never picks it; the memory passes
    /// do where the im2col buffer would raise the arena's peak (a stem convolution). Packed
    /// weights as `.im2col`.
    case im2colDirect = 9
    /// Fully connected layers only: requantized in double as LiteRT's reference kernel
    /// (`Int8Reference.fullyConnectedScaled`); the multipliers constant holds one IEEE double
    /// per output, the shifts constant is empty, the weights are plain `[out][in]`. Written
    /// for the fully connected layers of imported `.tflite` models; never for a convolution.
    case doubleScaled = 10
    /// Softmax only: LiteRT's int8 softmax on x86 (`optimized_ops::Softmax` with its float
    /// exponential table; `Int8Reference.softmaxFloatTable`). The table constant holds
    /// 256 IEEE floats `expf(-inputScale·d)`, then the output scale (float bits) and the
    /// output zero point. Written for imported `.tflite` models.
    case floatTable = 11
    /// Softmax records only: log-softmax (`Int8Reference.logSoftmax`) with the float table
    /// of `.floatTable`; the constant holds the 256 floats, then the input scale, the output
    /// scale (float bits) and the output zero point.
    case logFloatTable = 12

    /// Whether this variant's packed weights are `PointwiseGEMM` blocks (one per group),
    /// whose weights the loader holds to -127...127 (`PointwiseGEMM.firstMinimumWeight`).
    public var packsGEMMWeights: Bool {
        self == .pointwise || self == .grouped || self == .im2col || self == .directGEMM || self == .im2colDirect
    }

    /// The variant for a convolution with these shapes (the compiler calls this once per
    /// layer). Falls back to `.reference` when the input zero point is outside int8 (the
    /// optimized kernels pad with it as an int8 value and keep `in - zp` in int16) or the
    /// shapes are inconsistent.
    public static func choose(
        inputShape: TensorShape, filter: FilterShape, parameters: Conv2DParameters, inputZeroPoint: Int32
    ) -> KernelVariant {
        let groups = parameters.groups
        guard inputZeroPoint >= -128 && inputZeroPoint <= 127,
              groups >= 1, filter.inputChannelsPerGroup >= 1, filter.outputChannels >= 1,
              filter.outputChannels % groups == 0, inputShape.c == groups * filter.inputChannelsPerGroup,
              parameters.strideH >= 1, parameters.strideW >= 1, parameters.dilationH >= 1, parameters.dilationW >= 1
        else { return .reference }
        if groups == inputShape.c && groups > 1 {
            if filter.kernelH == 3 && filter.kernelW == 3 && parameters.dilationH == 1 && parameters.dilationW == 1
                && parameters.strideH <= 2 && parameters.strideW <= 2 {
                return .depthwise3x3
            }
            return .depthwise
        }
        if groups > 1 { return .grouped }
        if GroupedConv.isDirect(filter: filter, parameters: parameters) { return .pointwise }
        return .im2col
    }

    /// `.pointwiseU8` for a `.pointwise` layer whose `n` rows of `k` weights (OHWI, row
    /// stride `k`) fit `PointwiseU8GEMM.pairsFit`; `self` otherwise.
    public func upgradedForWeights(_ weights: UnsafePointer<Int8>, depth k: Int, columns n: Int) -> KernelVariant {
        self == .pointwise && PointwiseU8GEMM.pairsFit(weights: weights, weightRowStride: k, depth: k, columns: n) ? .pointwiseU8 : self
    }

    /// Bytes of arena scratch this variant needs for the layer. The GEMM panel of the
    /// pointwise and direct grouped forms holds `min(PointwiseGEMM.panelRows(depth:), n·h·w)`
    /// rows (one GEMM row per pixel of `inputShape`).
    public func scratchBytes(inputShape: TensorShape, filter: FilterShape, parameters: Conv2DParameters) -> Int {
        switch self {
        case .reference, .depthwise, .depthwise3x3, .elementwise, .directGEMM, .im2colDirect, .doubleScaled, .floatTable, .logFloatTable: return 0
        case .pointwise:
            return PointwiseGEMM.panelByteCount(depth: filter.inputChannelsPerGroup, rows: inputShape.n * inputShape.h * inputShape.w)
        case .pointwiseU8:
            return PointwiseU8GEMM.panelByteCount(depth: filter.inputChannelsPerGroup, rows: inputShape.n * inputShape.h * inputShape.w)
        case .grouped: return GroupedConv.scratchByteCount(inputShape: inputShape, filter: filter, parameters: parameters)
        case .im2col: return Im2col.scratchByteCount(filter: filter)
        }
    }

    /// Bytes of this variant's packed weights (0 for `.reference`, which reads the OHWI weights).
    public func packedWeightsByteCount(inputShape: TensorShape, filter: FilterShape, parameters: Conv2DParameters) -> Int {
        switch self {
        case .reference, .elementwise, .doubleScaled, .floatTable, .logFloatTable: return 0
        case .pointwise, .grouped, .im2col, .directGEMM, .im2colDirect:
            return Im2col.packedByteCount(filter: filter, groups: parameters.groups)
        case .pointwiseU8: return PointwiseU8GEMM.packedByteCount(depth: filter.inputChannelsPerGroup, columns: filter.outputChannels)
        case .depthwise, .depthwise3x3: return DepthwiseConv.packedByteCount(channels: inputShape.c, filter: filter)
        }
    }

    /// Whether this variant computes a convolution of these shapes (the runtime checks a
    /// stored variant with this at load): `.reference` always; the others need an int8
    /// input zero point and consistent channel counts, and
    /// - `.pointwise`, `.pointwiseU8`: groups 1, 1×1, stride 1, no padding;
    /// - `.grouped`, `.im2col`: any geometry and groups (`.grouped` 1 < groups);
    /// - `.depthwise`: groups == channels, one input channel per group;
    /// - `.depthwise3x3`: as `.depthwise`, 3×3, strides 1...2, dilation 1;
    /// - `.directGEMM`: 1×1, stride 1, no padding, an even number of input channels per group;
    /// - `.im2colDirect`: any geometry and groups, `kH·kW·Ci` rounded up to even at most
    ///   `Im2col.directTileBytes`.
    public func applies(
        inputShape: TensorShape, filter: FilterShape, parameters: Conv2DParameters, inputZeroPoint: Int32
    ) -> Bool {
        if self == .reference { return true }
        let groups = parameters.groups
        guard inputZeroPoint >= -128 && inputZeroPoint <= 127,
              groups >= 1, filter.inputChannelsPerGroup >= 1, filter.outputChannels >= 1,
              filter.outputChannels % groups == 0, inputShape.c == groups * filter.inputChannelsPerGroup,
              filter.kernelH >= 1, filter.kernelW >= 1,
              parameters.strideH >= 1, parameters.strideW >= 1, parameters.dilationH >= 1, parameters.dilationW >= 1
        else { return false }
        let depthwise = groups == inputShape.c && filter.inputChannelsPerGroup == 1
        switch self {
        case .reference: return true
        case .elementwise, .doubleScaled, .floatTable, .logFloatTable: return false
        case .pointwise, .pointwiseU8: return groups == 1 && GroupedConv.isDirect(filter: filter, parameters: parameters)
        case .grouped: return groups > 1
        case .directGEMM:
            return GroupedConv.isDirect(filter: filter, parameters: parameters) && filter.inputChannelsPerGroup % 2 == 0
        case .im2col: return true
        case .im2colDirect:
            let (taps, o1) = filter.kernelH.multipliedReportingOverflow(by: filter.kernelW)
            let (depth, o2) = taps.multipliedReportingOverflow(by: filter.inputChannelsPerGroup)
            return !o1 && !o2 && Im2col.directTileRows(depth: depth) >= 1
        case .depthwise: return depthwise
        case .depthwise3x3:
            return depthwise && filter.kernelH == 3 && filter.kernelW == 3 && parameters.dilationH == 1
                && parameters.dilationW == 1 && parameters.strideH <= 2 && parameters.strideW <= 2
        }
    }

    /// A fully connected layer (`inputCount` → `outputCount`, weights `[out][in]`) runs as
    /// `.pointwise`: one `PointwiseGEMM` with a row per batch, depth `inputCount`; its
    /// packed weights (`PointwiseGEMM.pack`, row stride `inputCount`) and panel scratch,
    /// computed with overflow checks (nil beyond `Int32.max`). The panel holds at most
    /// `batch` rows (one per batch item; the default: any batch).
    public static func fullyConnectedByteCounts(inputCount: Int, outputCount: Int, batch: Int = Int.max) -> (packedWeights: Int, scratch: Int)? {
        guard inputCount >= 1, outputCount >= 1, inputCount <= Int(Int32.max), outputCount <= Int(Int32.max) else { return nil }
        let kPad = (Int64(inputCount) + 1) & ~1
        let nPad = (Int64(outputCount) + 7) & ~7
        let (packed, overflow) = nPad.multipliedReportingOverflow(by: 4 + kPad)
        let panel = min(PointwiseGEMM.panelRows(depth: Int64(inputCount)), Int64(max(batch, 1))) * kPad * 2
        guard !overflow, packed <= Int64(Int32.max), panel <= Int64(Int32.max) else { return nil }
        return (Int(packed), Int(panel))
    }

    /// `packedWeightsByteCount` and `scratchBytes` computed with overflow checks (also
    /// where `Int` has 32 bits), nil when either exceeds `Int32.max`: for validating
    /// untrusted shapes before the unchecked formulas run. Same values as those two.
    /// - Precondition: `applies(...)` for these shapes.
    public func checkedByteCounts(
        inputShape: TensorShape, filter: FilterShape, parameters: Conv2DParameters
    ) -> (packedWeights: Int, scratch: Int)? {
        func mul(_ a: Int64, _ b: Int64) -> Int64? {
            let (r, o) = a.multipliedReportingOverflow(by: b)
            return o ? nil : r
        }
        let limit = Int64(Int32.max)
        let groups = Int64(parameters.groups)
        let taps = mul(Int64(filter.kernelH), Int64(filter.kernelW))
        guard let taps, let depth = mul(taps, Int64(filter.inputChannelsPerGroup)), depth <= limit else { return nil }
        let kPad = (depth + 1) & ~1
        let kQuad = (depth + 3) & ~3
        let fullPanel = PointwiseGEMM.panelRows(depth: depth) * kPad * 2
        // The direct GEMM forms have one panel row per input pixel.
        let pixels = mul(Int64(inputShape.n), Int64(inputShape.h)).flatMap { mul($0, Int64(inputShape.w)) } ?? Int64.max
        let directPanel = min(PointwiseGEMM.panelRows(depth: depth), max(pixels, 1)) * kPad * 2
        let packed: Int64?
        let scratch: Int64?
        switch self {
        case .reference, .elementwise, .doubleScaled, .floatTable, .logFloatTable:
            packed = 0
            scratch = 0
        case .pointwise, .grouped, .im2col, .directGEMM, .im2colDirect:
            let columns = (Int64(filter.outputChannels) / groups + 7) & ~7
            packed = mul(columns, 4 + kPad).flatMap { mul($0, groups) }
            let im2col = mul(Int64(Im2col.chunkRows), depth).map { $0 + fullPanel }
            switch self {
            case .pointwise: scratch = directPanel
            case .directGEMM, .im2colDirect: scratch = 0
            case .grouped: scratch = GroupedConv.isDirect(filter: filter, parameters: parameters) ? directPanel : im2col
            default: scratch = im2col
            }
        case .pointwiseU8:
            packed = mul((Int64(filter.outputChannels) + 7) & ~7, 4 + kQuad)
            scratch = min(PointwiseGEMM.panelRows(depth: depth), max(pixels, 1)) * kQuad
        case .depthwise, .depthwise3x3:
            let channels = Int64(inputShape.c)
            let multiplier = Int64(filter.outputChannels) / max(channels, 1)
            packed = mul(multiplier * ((channels + 15) & ~15), 4 + taps)
            scratch = 0
        }
        guard let packed, let scratch, packed <= limit, scratch <= limit else { return nil }
        return (Int(packed), Int(scratch))
    }
}
