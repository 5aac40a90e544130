/// The shape of a fused inverted-residual block (MobileNetV2):
///
///     x (n×H×W×Cin) ─ expand 1×1 ─▶ E (n×H×W×Ce) ─ depthwise kh×kw ─▶ D (n×Ho×Wo×Ce)
///       ─ project 1×1 ─▶ P (n×Ho×Wo×Cout) [─ add x ─▶ y]
///
/// `E` and `D` are never stored whole: `InvertedResidual.run` keeps a ring of
/// `ringRows` rows of `E`, one row of `D`, and with a residual one row of `P`, in scratch.
@frozen
public struct InvertedResidualGeometry: Equatable, Sendable {
    public var inputShape: TensorShape
    public var expandedChannels: Int
    public var outputChannels: Int
    /// kernelH, kernelW of the depthwise stage (multiplier 1).
    public var kernelH: Int
    public var kernelW: Int
    /// The depthwise stage's stride, dilation and padding (`groups == expandedChannels`).
    public var depthwise: Conv2DParameters
    /// `y = add(x, P)` (or `add(P, x)`); needs `outputShape == inputShape`.
    public var hasResidual: Bool

    @inlinable
    public init(
        inputShape: TensorShape, expandedChannels: Int, outputChannels: Int, kernelH: Int, kernelW: Int,
        depthwise: Conv2DParameters, hasResidual: Bool
    ) {
        self.inputShape = inputShape
        self.expandedChannels = expandedChannels
        self.outputChannels = outputChannels
        self.kernelH = kernelH
        self.kernelW = kernelW
        self.depthwise = depthwise
        self.hasResidual = hasResidual
    }

    @inlinable public var expandFilter: FilterShape {
        FilterShape(outputChannels: expandedChannels, kernelH: 1, kernelW: 1, inputChannelsPerGroup: inputShape.c)
    }
    @inlinable public var depthwiseFilter: FilterShape {
        FilterShape(outputChannels: expandedChannels, kernelH: kernelH, kernelW: kernelW, inputChannelsPerGroup: 1)
    }
    @inlinable public var projectFilter: FilterShape {
        FilterShape(outputChannels: outputChannels, kernelH: 1, kernelW: 1, inputChannelsPerGroup: expandedChannels)
    }
    /// Shape of `E`.
    @inlinable public var expandedShape: TensorShape {
        TensorShape(n: inputShape.n, h: inputShape.h, w: inputShape.w, c: expandedChannels)
    }
    /// Shape of `D`.
    @inlinable public var depthwiseShape: TensorShape { depthwise.outputShape(input: expandedShape, filter: depthwiseFilter) }
    /// Shape of `P` and of the block's output.
    @inlinable public var outputShape: TensorShape {
        let d = depthwiseShape
        return TensorShape(n: d.n, h: d.h, w: d.w, c: outputChannels)
    }

    /// Rows of `E` kept (the window): the depthwise kernel's height `dilationH*(kernelH-1) + 1`, at most `H`.
    @inlinable public var ringRows: Int { min(depthwise.dilationH * (kernelH - 1) + 1, inputShape.h) }
    @inlinable public var ringBytes: Int { ringRows * inputShape.w * expandedChannels }
    /// One row of `D`.
    @inlinable public var depthwiseRowBytes: Int { depthwiseShape.w * expandedChannels }
    /// One row of `P` (only with a residual; without one the project stage writes `y` directly).
    @inlinable public var projectRowBytes: Int { hasResidual ? depthwiseShape.w * outputChannels : 0 }
    /// Scratch of `run` without the GEMM panel: window of `E` rows, then the `D` row, then
    /// the `P` row (the panel, `InvertedResidual.panelBytes`, follows).
    @inlinable public var scratchBytes: Int { ringBytes + depthwiseRowBytes + projectRowBytes }

    /// Whether the geometry is one `run` accepts: 1 ≤ every size, depthwise window inside
    /// the padded input, residual only when the output shape equals the input shape.
    public var isValid: Bool {
        guard inputShape.n >= 1, inputShape.h >= 1, inputShape.w >= 1, inputShape.c >= 1, expandedChannels >= 1,
              outputChannels >= 1, kernelH >= 1, kernelW >= 1, depthwise.strideH >= 1, depthwise.strideW >= 1,
              depthwise.dilationH >= 1, depthwise.dilationW >= 1, depthwise.groups == expandedChannels,
              depthwise.padding.top >= 0, depthwise.padding.left >= 0, depthwise.padding.bottom >= 0,
              depthwise.padding.right >= 0
        else { return false }
        let d = depthwiseShape
        guard d.h >= 1, d.w >= 1 else { return false }
        // Every output row's window holds at least one input row.
        guard depthwise.padding.top <= depthwise.dilationH * (kernelH - 1),
              (d.h - 1) * depthwise.strideH - depthwise.padding.top <= inputShape.h - 1
        else { return false }
        return !hasResidual || outputShape == inputShape
    }

    /// The last row of `x` that output row `oy` reads (through `E`), clamped to the input.
    @inlinable
    public func lastInputRow(forOutputRow oy: Int) -> Int {
        min(inputShape.h - 1, oy * depthwise.strideH - depthwise.padding.top + depthwise.dilationH * (kernelH - 1))
    }

    /// Whether `y` may start at the same byte as `x` (the block runs in place): no output
    /// row is written over input bytes that a later step still reads. Needs the output no
    /// larger than the input; then it suffices that after output row `oy` (batch item 0)
    /// the row ends at or before the first input row still to be read — row
    /// `lastInputRow(oy) + 1` through `E`, and row `oy + 1` for the residual.
    public var canRunInPlace: Bool {
        guard isValid, outputShape.elementCount <= inputShape.elementCount else { return false }
        let out = outputShape
        let outRow = out.w * out.c, inRow = inputShape.w * inputShape.c
        var consumed = 0
        for oy in 0..<out.h {
            consumed = max(consumed, lastInputRow(forOutputRow: oy) + 1)
            var needed = consumed
            if hasResidual { needed = min(needed, oy + 1) }
            if (oy + 1) * outRow > needed * inRow { return false }
        }
        return true
    }
}

/// The constants of one stage of a fused block: int8 weights (OHWI; unused by an optimized
/// variant), int32 bias (or nil), the requantization to the stage's output (its zero point
/// and fused clamp), and the stage's kernel variant with its packed weights (as
/// `OptimizedConv2D.run`).
@frozen
public struct FusedStage {
    public var weights: UnsafePointer<Int8>
    public var bias: UnsafePointer<Int32>?
    public var requantization: Requantization
    public var variant: KernelVariant
    public var packedWeights: UnsafeRawPointer?

    @inlinable
    public init(
        weights: UnsafePointer<Int8>, bias: UnsafePointer<Int32>?, requantization: Requantization,
        variant: KernelVariant = .reference, packedWeights: UnsafeRawPointer? = nil
    ) {
        self.weights = weights
        self.bias = bias
        self.requantization = requantization
        self.variant = variant
        self.packedWeights = packedWeights
    }
}

/// Residual add of a fused block: TFLite's int8 add of the block input and `P`.
@frozen
public struct FusedResidual {
    public var quantization: AddQuantization
    /// The block input is the add's first operand (else `P` is).
    public var blockInputFirst: Bool

    @inlinable
    public init(quantization: AddQuantization, blockInputFirst: Bool) {
        self.quantization = quantization
        self.blockInputFirst = blockInputFirst
    }
}

/// Expand 1×1 → depthwise → project 1×1 (→ residual add) a row at a time, bit for bit equal
/// to running `Int8Reference.conv2D` three times (and `Int8Reference.add`) on whole tensors:
/// every element of `E`, `D` and `P` is computed by the same formula and requantized to the
/// same int8 value as unfused; the tensors are just never stored whole. Each stage runs its
/// `KernelVariant` through `OptimizedConv2D.run` (all variants give the reference's bits).
///
/// For each output row `oy`: the window of `E` rows keeps exactly the rows its depthwise
/// window reads (clipped to the input), contiguous — rows that left it are dropped by a
/// move to the front, new rows are expanded from `x` in one call (each row of `E` is
/// computed once). Row `oy` of `D` is a one-row depthwise convolution over the window (the
/// clipped rows as padding), then projected straight into `y` — or, with a residual, into
/// the `P` row and added to row `oy` of `x` into `y`.
public enum InvertedResidual {
    /// Bytes of GEMM panel the expand and project variants need (0 for the reference).
    public static func panelBytes(geometry g: InvertedResidualGeometry, expand: KernelVariant, project: KernelVariant) -> Int {
        let row = TensorShape(n: 1, h: 1, w: g.inputShape.w, c: g.inputShape.c)
        let dRow = TensorShape(n: 1, h: 1, w: g.depthwiseShape.w, c: g.expandedChannels)
        return max(
            expand.scratchBytes(inputShape: row, filter: g.expandFilter, parameters: Conv2DParameters()),
            project.scratchBytes(inputShape: dRow, filter: g.projectFilter, parameters: Conv2DParameters()))
    }

    /// - Precondition: `geometry.isValid`; `input` holds `inputShape`, `output` `outputShape`
    ///   bytes; `scratch` holds `geometry.scratchBytes + panelBytes(...)` and overlaps
    ///   neither; `output` does not overlap `input` unless it starts at the same byte and
    ///   `geometry.canRunInPlace`. Zero points: `inputZeroPoint` of `x`;
    ///   `expand.requantization.outputZeroPoint` is `E`'s (the depthwise input's),
    ///   `depthwise.requantization.outputZeroPoint` is `D`'s (the project input's). Each
    ///   stage's variant applies to its shapes and carries its packed weights. The
    ///   accumulator bounds of `Int8Reference.conv2D` hold for each stage.
    @inlinable
    public static func run(
        geometry g: InvertedResidualGeometry, input: UnsafePointer<Int8>, inputZeroPoint: Int32,
        expand: FusedStage, depthwise: FusedStage, project: FusedStage, residual: FusedResidual?,
        output: UnsafeMutablePointer<Int8>, scratch: UnsafeMutablePointer<Int8>
    ) {
        let inShape = g.inputShape
        let outShape = g.outputShape
        let dwShape = g.depthwiseShape
        let ce = g.expandedChannels
        let eRowBytes = inShape.w * ce
        let inRowBytes = inShape.w * inShape.c
        let outRowBytes = outShape.w * outShape.c
        let window = scratch
        let dRow = scratch + g.ringBytes
        let pRow = dRow + g.depthwiseRowBytes
        let panel = UnsafeMutableRawPointer(pRow + g.projectRowBytes)
        let projectRowIn = TensorShape(n: 1, h: 1, w: dwShape.w, c: ce)
        let projectRowOut = TensorShape(n: 1, h: 1, w: dwShape.w, c: outShape.c)
        let pointwise = Conv2DParameters()
        let span = g.depthwise.dilationH * (g.kernelH - 1)
        let eZeroPoint = expand.requantization.outputZeroPoint
        let dZeroPoint = depthwise.requantization.outputZeroPoint

        for b in 0..<inShape.n {
            let x = input + b * inShape.h * inRowBytes
            let y = output + b * outShape.h * outRowBytes
            var windowFirst = 0, windowCount = 0
            for oy in 0..<outShape.h {
                let top = oy * g.depthwise.strideH - g.depthwise.padding.top
                let first = max(0, top), last = min(inShape.h - 1, top + span)
                RowWindow.slide(window: window, rowBytes: eRowBytes, first: &windowFirst, count: &windowCount, to: first)
                let newFirst = windowFirst + windowCount
                if newFirst <= last {
                    let rows = last - newFirst + 1
                    OptimizedConv2D.run(
                        variant: expand.variant, input: x + newFirst * inRowBytes,
                        inputShape: TensorShape(n: 1, h: rows, w: inShape.w, c: inShape.c), inputZeroPoint: inputZeroPoint,
                        weights: expand.weights, filter: g.expandFilter, bias: expand.bias,
                        output: window + windowCount * eRowBytes, outputShape: TensorShape(n: 1, h: rows, w: inShape.w, c: ce),
                        parameters: pointwise, requantization: expand.requantization,
                        packedWeights: expand.packedWeights, scratch: panel)
                    windowCount += rows
                }
                var rowParameters = g.depthwise
                rowParameters.strideH = 1
                rowParameters.padding.top = first - top
                rowParameters.padding.bottom = top + span - last
                OptimizedConv2D.run(
                    variant: depthwise.variant, input: UnsafePointer(window),
                    inputShape: TensorShape(n: 1, h: windowCount, w: inShape.w, c: ce), inputZeroPoint: eZeroPoint,
                    weights: depthwise.weights, filter: g.depthwiseFilter, bias: depthwise.bias,
                    output: dRow, outputShape: projectRowIn, parameters: rowParameters,
                    requantization: depthwise.requantization, packedWeights: depthwise.packedWeights, scratch: nil)
                let yRow = y + oy * outRowBytes
                OptimizedConv2D.run(
                    variant: project.variant, input: UnsafePointer(dRow), inputShape: projectRowIn,
                    inputZeroPoint: dZeroPoint, weights: project.weights, filter: g.projectFilter, bias: project.bias,
                    output: residual == nil ? yRow : pRow, outputShape: projectRowOut, parameters: pointwise,
                    requantization: project.requantization, packedWeights: project.packedWeights, scratch: panel)
                if let residual {
                    let xRow = x + oy * inRowBytes
                    Int8Reference.add(
                        input1: residual.blockInputFirst ? xRow : UnsafePointer(pRow), shape1: projectRowOut,
                        input2: residual.blockInputFirst ? UnsafePointer(pRow) : xRow, shape2: projectRowOut,
                        output: yRow, outputShape: projectRowOut, quantization: residual.quantization)
                }
            }
        }
    }
}
