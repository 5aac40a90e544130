/// The shape of a fused inverted-residual block (MobileNetV2), or of a stem conv with the
/// depthwise-separable block after it (MobileNetV1/V2's first layers):
///
///     x (n×H×W×Cin) ─ expand (1×1, or any kh×kw conv, groups 1) ─▶ E (n×He×We×Ce)
///       ─ depthwise kh×kw ─▶ D (n×Ho×Wo×Ce) ─ project 1×1 ─▶ P (n×Ho×Wo×Cout) [─ add x ─▶ y]
///
/// `E` and `D` are never stored whole: `InvertedResidual.run` keeps a window of
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
    /// The expand stage's kernel (1×1 in an inverted residual).
    public var expandKernelH: Int
    public var expandKernelW: Int
    /// The expand stage's stride and padding (dilation 1, groups 1).
    public var expand: Conv2DParameters

    @inlinable
    public init(
        inputShape: TensorShape, expandedChannels: Int, outputChannels: Int, kernelH: Int, kernelW: Int,
        depthwise: Conv2DParameters, hasResidual: Bool,
        expandKernelH: Int = 1, expandKernelW: Int = 1, expand: Conv2DParameters = Conv2DParameters()
    ) {
        self.inputShape = inputShape
        self.expandedChannels = expandedChannels
        self.outputChannels = outputChannels
        self.kernelH = kernelH
        self.kernelW = kernelW
        self.depthwise = depthwise
        self.hasResidual = hasResidual
        self.expandKernelH = expandKernelH
        self.expandKernelW = expandKernelW
        self.expand = expand
    }

    @inlinable public var expandFilter: FilterShape {
        FilterShape(outputChannels: expandedChannels, kernelH: expandKernelH, kernelW: expandKernelW, inputChannelsPerGroup: inputShape.c)
    }
    @inlinable public var depthwiseFilter: FilterShape {
        FilterShape(outputChannels: expandedChannels, kernelH: kernelH, kernelW: kernelW, inputChannelsPerGroup: 1)
    }
    @inlinable public var projectFilter: FilterShape {
        FilterShape(outputChannels: outputChannels, kernelH: 1, kernelW: 1, inputChannelsPerGroup: expandedChannels)
    }
    /// Shape of `E`.
    @inlinable public var expandedShape: TensorShape { expand.outputShape(input: inputShape, filter: expandFilter) }
    /// Shape of `D`.
    @inlinable public var depthwiseShape: TensorShape { depthwise.outputShape(input: expandedShape, filter: depthwiseFilter) }
    /// Shape of `P` and of the block's output.
    @inlinable public var outputShape: TensorShape {
        let d = depthwiseShape
        return TensorShape(n: d.n, h: d.h, w: d.w, c: outputChannels)
    }

    /// Rows of `E` kept (the window): the depthwise kernel's height `dilationH*(kernelH-1) + 1`, at most `He`.
    @inlinable public var ringRows: Int { min(depthwise.dilationH * (kernelH - 1) + 1, expandedShape.h) }
    @inlinable public var ringBytes: Int { ringRows * expandedShape.w * expandedChannels }
    /// One row of `D`.
    @inlinable public var depthwiseRowBytes: Int { depthwiseShape.w * expandedChannels }
    /// One row of `P` (only with a residual; without one the project stage writes `y` directly).
    @inlinable public var projectRowBytes: Int { hasResidual ? depthwiseShape.w * outputChannels : 0 }
    /// Scratch of `run` without the stage kernels' own scratch: window of `E` rows, then the
    /// `D` row, then the `P` row (`InvertedResidual.panelBytes` follow).
    @inlinable public var scratchBytes: Int { ringBytes + depthwiseRowBytes + projectRowBytes }

    /// Whether the geometry is one `run` accepts: 1 ≤ every size, every window (expand and
    /// depthwise) holds at least one row of its input, residual only when the output shape
    /// equals the input shape.
    public var isValid: Bool {
        guard inputShape.n >= 1, inputShape.h >= 1, inputShape.w >= 1, inputShape.c >= 1, expandedChannels >= 1,
              outputChannels >= 1, kernelH >= 1, kernelW >= 1, depthwise.strideH >= 1, depthwise.strideW >= 1,
              depthwise.dilationH >= 1, depthwise.dilationW >= 1, depthwise.groups == expandedChannels,
              depthwise.padding.top >= 0, depthwise.padding.left >= 0, depthwise.padding.bottom >= 0,
              depthwise.padding.right >= 0,
              expandKernelH >= 1, expandKernelW >= 1, expand.strideH >= 1, expand.strideW >= 1,
              expand.dilationH == 1, expand.dilationW == 1, expand.groups == 1,
              expand.padding.top >= 0, expand.padding.left >= 0, expand.padding.bottom >= 0, expand.padding.right >= 0
        else { return false }
        let e = expandedShape
        guard e.h >= 1, e.w >= 1 else { return false }
        let d = depthwiseShape
        guard d.h >= 1, d.w >= 1 else { return false }
        // Every window holds at least one row of its input.
        guard depthwise.padding.top <= depthwise.dilationH * (kernelH - 1),
              (d.h - 1) * depthwise.strideH - depthwise.padding.top <= e.h - 1,
              expand.padding.top <= expandKernelH - 1,
              (e.h - 1) * expand.strideH - expand.padding.top <= inputShape.h - 1
        else { return false }
        return !hasResidual || outputShape == inputShape
    }

    /// The last row of `E` that output row `oy` reads, clamped to `E`.
    @inlinable
    public func lastExpandedRow(forOutputRow oy: Int) -> Int {
        min(expandedShape.h - 1, oy * depthwise.strideH - depthwise.padding.top + depthwise.dilationH * (kernelH - 1))
    }

    /// The rows of `x` that rows `first...last` of `E` read, clamped to the input.
    @inlinable
    public func inputRows(forExpandedRows first: Int, _ last: Int) -> ClosedRange<Int> {
        let top = first * expand.strideH - expand.padding.top
        let bottom = last * expand.strideH - expand.padding.top + expandKernelH - 1
        return max(0, top)...min(inputShape.h - 1, bottom)
    }

    /// The last row of `x` that output row `oy` reads (through `E`), clamped to the input.
    @inlinable
    public func lastInputRow(forOutputRow oy: Int) -> Int {
        let e = lastExpandedRow(forOutputRow: oy)
        return inputRows(forExpandedRows: e, e).upperBound
    }

    /// Whether `y` may start at the same byte as `x` (the block runs in place): no output
    /// row is written over input bytes that a later step still reads. Needs the output no
    /// larger than the input; then it suffices that after output row `oy` (batch item 0)
    /// the row ends at or before the first input row still to be read — row
    /// `lastInputRow(oy) + 1` through `E` (rows before it may still be read when the expand
    /// windows overlap: the first row the next `E` row reads), and row `oy + 1` for the residual.
    public var canRunInPlace: Bool {
        guard isValid, outputShape.elementCount <= inputShape.elementCount else { return false }
        let out = outputShape
        let outRow = out.w * out.c, inRow = inputShape.w * inputShape.c
        var lastE = -1
        for oy in 0..<out.h {
            lastE = max(lastE, lastExpandedRow(forOutputRow: oy))
            // The first input row any later step reads: the next E row's first input row.
            var needed = lastE + 1 < expandedShape.h
                ? inputRows(forExpandedRows: lastE + 1, lastE + 1).lowerBound : inputShape.h
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
    /// Bytes of GEMM panel the expand and project variants need (0 for the reference): the
    /// project stage runs on one row of `D`; the expand stage computes at most `ringRows`
    /// rows of `E` per call, which read at most `(ringRows - 1)·strideH + expandKernelH`
    /// rows of `x` (a GEMM panel needs at most one row per pixel of its call).
    public static func panelBytes(geometry g: InvertedResidualGeometry, expand: KernelVariant, project: KernelVariant) -> Int {
        let inputRows = (g.ringRows - 1) * g.expand.strideH + g.expandKernelH
        let row = TensorShape(n: 1, h: inputRows, w: g.inputShape.w, c: g.inputShape.c)
        let dRow = TensorShape(n: 1, h: 1, w: g.depthwiseShape.w, c: g.expandedChannels)
        return max(
            expand.scratchBytes(inputShape: row, filter: g.expandFilter, parameters: g.expand),
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
        let eShape = g.expandedShape
        let outShape = g.outputShape
        let dwShape = g.depthwiseShape
        let ce = g.expandedChannels
        let eRowBytes = eShape.w * ce
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
        // On AVX2 the 3×3 depthwise kernel reads its rows through pointers: the window is then
        // a ring (row e of E in slot e % ringRows, each row expanded once into its slot), with
        // no moves of the rows kept. The rows are expanded at the same output rows as below.
        #if arch(x86_64) && QUANTA_AVX2
        let ring = depthwise.variant == .depthwise3x3 && ce >= 16 && g.kernelH == 3 && g.kernelW == 3
            && g.depthwise.strideH == g.depthwise.strideW
            && (depthwise.packedWeights.map { DepthwiseAVX2.fits(packed: $0, channels: ce, requantization: depthwise.requantization) } ?? false)
        #else
        let ring = false
        #endif

        /// Rows `from...to` of E (of image `x`) into `destination`: a convolution over the
        /// input rows they read, the clipped rows as padding.
        @inline(__always) func expandRows(_ x: UnsafePointer<Int8>, _ from: Int, _ to: Int, into destination: UnsafeMutablePointer<Int8>) {
            let inputTop = from * g.expand.strideH - g.expand.padding.top
            let inputBottom = to * g.expand.strideH - g.expand.padding.top + g.expandKernelH - 1
            let read = g.inputRows(forExpandedRows: from, to)
            var rowParameters = g.expand
            rowParameters.padding.top = read.lowerBound - inputTop
            rowParameters.padding.bottom = inputBottom - read.upperBound
            OptimizedConv2D.run(
                variant: expand.variant, input: x + read.lowerBound * inRowBytes,
                inputShape: TensorShape(n: 1, h: read.count, w: inShape.w, c: inShape.c), inputZeroPoint: inputZeroPoint,
                weights: expand.weights, filter: g.expandFilter, bias: expand.bias,
                output: destination, outputShape: TensorShape(n: 1, h: to - from + 1, w: eShape.w, c: ce),
                parameters: rowParameters, requantization: expand.requantization,
                packedWeights: expand.packedWeights, scratch: panel)
        }

        for b in 0..<inShape.n {
            let x = input + b * inShape.h * inRowBytes
            let y = output + b * outShape.h * outRowBytes
            var windowFirst = 0, windowCount = 0
            #if arch(x86_64) && QUANTA_AVX2
            var nextRow = 0   // ring: the first row of E not expanded yet
            #endif
            for oy in 0..<outShape.h {
                let top = oy * g.depthwise.strideH - g.depthwise.padding.top
                let first = max(0, top), last = min(eShape.h - 1, top + span)
                if ring {
                    #if arch(x86_64) && QUANTA_AVX2
                    nextRow = max(nextRow, first)
                    while nextRow <= last {
                        expandRows(x, nextRow, nextRow, into: window + (nextRow % g.ringRows) * eRowBytes)
                        nextRow += 1
                    }
                    DepthwiseAVX2.ringRow(
                        ring: window, ringRows: g.ringRows, top: top, height: eShape.h, inputWidth: eShape.w, channels: ce,
                        stride: g.depthwise.strideW, padLeft: g.depthwise.padding.left, inputZeroPoint: eZeroPoint,
                        packed: depthwise.packedWeights!, requantization: depthwise.requantization,
                        output: dRow, outputWidth: dwShape.w)
                    #endif
                } else {
                    RowWindow.slide(window: window, rowBytes: eRowBytes, first: &windowFirst, count: &windowCount, to: first)
                    let newFirst = windowFirst + windowCount
                    if newFirst <= last {
                        expandRows(x, newFirst, last, into: window + windowCount * eRowBytes)
                        windowCount += last - newFirst + 1
                    }
                    var rowParameters = g.depthwise
                    rowParameters.strideH = 1
                    rowParameters.padding.top = first - top
                    rowParameters.padding.bottom = top + span - last
                    OptimizedConv2D.run(
                        variant: depthwise.variant, input: UnsafePointer(window),
                        inputShape: TensorShape(n: 1, h: windowCount, w: eShape.w, c: ce), inputZeroPoint: eZeroPoint,
                        weights: depthwise.weights, filter: g.depthwiseFilter, bias: depthwise.bias,
                        output: dRow, outputShape: projectRowIn, parameters: rowParameters,
                        requantization: depthwise.requantization, packedWeights: depthwise.packedWeights, scratch: nil)
                }
                let yRow = y + oy * outRowBytes
                OptimizedConv2D.run(
                    variant: project.variant, input: UnsafePointer(dRow), inputShape: projectRowIn,
                    inputZeroPoint: dZeroPoint, weights: project.weights, filter: g.projectFilter, bias: project.bias,
                    output: residual == nil ? yRow : pRow, outputShape: projectRowOut, parameters: pointwise,
                    requantization: project.requantization, packedWeights: project.packedWeights, scratch: panel)
                if let residual {
                    let xRow = x + oy * inRowBytes
                    let q = residual.quantization
                    if q.leftShift >= 0 && q.leftShift <= 22 && q.input1Shift <= 0 && q.input2Shift <= 0 && q.outputShift <= 0 {
                        // Same bits as Int8Reference.add (VectorAdd's contract), 8 lanes at a time.
                        VectorAdd.run(
                            input1: residual.blockInputFirst ? xRow : UnsafePointer(pRow),
                            input2: residual.blockInputFirst ? UnsafePointer(pRow) : xRow,
                            output: yRow, count: projectRowOut.elementCount, quantization: q)
                    } else {
                        Int8Reference.add(
                            input1: residual.blockInputFirst ? xRow : UnsafePointer(pRow), shape1: projectRowOut,
                            input2: residual.blockInputFirst ? UnsafePointer(pRow) : xRow, shape2: projectRowOut,
                            output: yRow, outputShape: projectRowOut, quantization: q)
                    }
                }
            }
        }
    }
}
