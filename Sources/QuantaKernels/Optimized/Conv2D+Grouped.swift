/// Int8 grouped convolution (1 < groups < channels, e.g. ShuffleNet's grouped 1×1 and
/// 3×3). A 1×1 stride-1 unpadded grouped convolution is one `PointwiseGEMM` per group
/// reading the group's channel slice in place (`a = input + g·Ci`, row stride `C`) and
/// writing its output slice in place (row stride `O`): nothing is copied. Other grouped
/// geometries go through `Im2col` group by group.
///
/// Reference: `Int8Reference.conv2D`; same results bit for bit. Packed weights: as `Im2col`
/// (one GEMM block per group). Scratch: `scratchByteCount`.
public enum GroupedConv {
    /// Whether the group slices can be used in place (1×1, stride 1, no padding).
    @inlinable
    public static func isDirect(filter: FilterShape, parameters: Conv2DParameters) -> Bool {
        filter.kernelH == 1 && filter.kernelW == 1 && parameters.strideH == 1 && parameters.strideW == 1
            && parameters.padding == .zero
    }

    /// Scratch for any input size (the panel's full `panelRows(depth:)`).
    @inlinable
    public static func scratchByteCount(filter: FilterShape, parameters: Conv2DParameters) -> Int {
        isDirect(filter: filter, parameters: parameters)
            ? PointwiseGEMM.panelByteCount(depth: filter.inputChannelsPerGroup)
            : Im2col.scratchByteCount(filter: filter)
    }

    /// Scratch for this input: the direct form's GEMMs have one row per pixel, so the panel
    /// needs at most `n·h·w` rows.
    @inlinable
    public static func scratchByteCount(inputShape: TensorShape, filter: FilterShape, parameters: Conv2DParameters) -> Int {
        isDirect(filter: filter, parameters: parameters)
            ? PointwiseGEMM.panelByteCount(depth: filter.inputChannelsPerGroup, rows: inputShape.n * inputShape.h * inputShape.w)
            : Im2col.scratchByteCount(filter: filter)
    }

    /// Runs the grouped convolution (also correct for `groups == 1`).
    ///
    /// - Precondition: as `Im2col.run`.
    public static func run(
        input: UnsafePointer<Int8>, inputShape: TensorShape, inputZeroPoint: Int32,
        packed: UnsafeRawPointer, filter: FilterShape,
        output: UnsafeMutablePointer<Int8>, outputShape: TensorShape,
        parameters: Conv2DParameters, requantization: Requantization, scratch: UnsafeMutableRawPointer
    ) {
        guard isDirect(filter: filter, parameters: parameters) else {
            Im2col.run(input: input, inputShape: inputShape, inputZeroPoint: inputZeroPoint, packed: packed,
                       filter: filter, output: output, outputShape: outputShape, parameters: parameters,
                       requantization: requantization, scratch: scratch)
            return
        }
        groupGEMMs(input: input, inputShape: inputShape, inputZeroPoint: inputZeroPoint, packed: packed, filter: filter,
                   output: output, outputShape: outputShape, parameters: parameters, requantization: requantization, panel: scratch)
    }

    /// The direct form (`isDirect`) without scratch: one `PointwiseGEMM.runDirect` per
    /// group, reading the group's channel slice where it lies (`KernelVariant.directGEMM`).
    ///
    /// - Precondition: as `Im2col.run`; `isDirect`; an even number of input channels per group.
    public static func runDirect(
        input: UnsafePointer<Int8>, inputShape: TensorShape, inputZeroPoint: Int32,
        packed: UnsafeRawPointer, filter: FilterShape,
        output: UnsafeMutablePointer<Int8>, outputShape: TensorShape,
        parameters: Conv2DParameters, requantization: Requantization
    ) {
        precondition(isDirect(filter: filter, parameters: parameters) && filter.inputChannelsPerGroup % 2 == 0,
                     "GroupedConv.runDirect: not a 1×1 stride-1 unpadded convolution of even depth")
        groupGEMMs(input: input, inputShape: inputShape, inputZeroPoint: inputZeroPoint, packed: packed, filter: filter,
                   output: output, outputShape: outputShape, parameters: parameters, requantization: requantization, panel: nil)
    }

    /// The direct form's GEMMs, one per group on its channel slice in place: with the
    /// panel `PointwiseGEMM.run`, without it `PointwiseGEMM.runDirect`.
    private static func groupGEMMs(
        input: UnsafePointer<Int8>, inputShape: TensorShape, inputZeroPoint: Int32,
        packed: UnsafeRawPointer, filter: FilterShape,
        output: UnsafeMutablePointer<Int8>, outputShape: TensorShape,
        parameters: Conv2DParameters, requantization: Requantization, panel: UnsafeMutableRawPointer?
    ) {
        Im2col.checkGEMMShapes(inputShape: inputShape, inputZeroPoint: inputZeroPoint, filter: filter, outputShape: outputShape, parameters: parameters, requantization: requantization)
        let groups = parameters.groups
        let ci = filter.inputChannelsPerGroup
        let perGroup = filter.outputChannels / groups
        let blockBytes = PointwiseGEMM.packedByteCount(depth: ci, columns: perGroup)
        let pixels = inputShape.n * inputShape.h * inputShape.w
        for g in 0..<groups {
            let operands = GEMMOperands(
                rows: pixels, depth: ci, columns: perGroup, a: input + g * ci, aRowStride: inputShape.c,
                packed: packed + g * blockBytes, output: output + g * perGroup, outputRowStride: outputShape.c,
                requantization: requantization, channelOffset: g * perGroup, panel: panel)
            if panel == nil { PointwiseGEMM.runDirect(operands) } else { PointwiseGEMM.run(operands) }
        }
    }
}
