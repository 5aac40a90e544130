import QuantaKernels

/// Parameter words of an `invertedResidual` op record (docs/FORMAT.md). A stage's
/// constants are four references of two words: weights, bias, multipliers, shifts.
extension OpLayout {
    /// Replaced op count (3, or 4 with the residual add).
    @usableFromInline static let irReplaced = 0
    /// Expanded channels, output channels, depthwise kernel H and W.
    @usableFromInline static let irExpanded = 1, irOutputChannels = 2, irKernel = 3
    /// Depthwise stride (2), dilation (2), padding (4).
    @usableFromInline static let irStride = 5, irDilation = 7, irPadding = 9
    /// Residual: 0 none, 1 `add(x, P)`, 2 `add(P, x)`.
    @usableFromInline static let irResidual = 13
    /// Zero points of E (expand output), D (depthwise output), P (project output).
    @usableFromInline static let irZeroPoints = 14
    /// Ring rows, ring bytes, D row bytes, P row bytes (as the geometry gives them).
    @usableFromInline static let irScratchLayout = 17
    /// Per stage: clamp min, clamp max, weights, bias, multipliers, shifts (10 words).
    @usableFromInline static let irExpand = 21, irDepthwise = 31, irProject = 41
    /// The 12 words of `AddQuantization` (zeros without a residual).
    @usableFromInline static let irAdd = 51
    /// Kernel variant of the expand, depthwise and project stages (`KernelVariant` raw values).
    @usableFromInline static let irVariants = 63
    /// Packed weights of the three stages (empty for `.reference`).
    @usableFromInline static let irPacked = 66
    /// Bytes of the stage kernels' own scratch (GEMM panel or im2col buffer; the fourth
    /// part of the scratch).
    @usableFromInline static let irPanel = 72
    /// The expand stage's kernel H/W, stride H/W and padding t/l/b/r (1, 1, 1, 1, 0, 0, 0, 0
    /// for a 1×1 expand).
    @usableFromInline static let irExpandKernel = 73, irExpandStride = 75, irExpandPadding = 77
    @usableFromInline static let irWordCount = 81
}

extension Model {
    /// The geometry of an `invertedResidual` op (valid once the op was validated).
    @inlinable
    func invertedResidualGeometry(_ op: OpRecord) -> InvertedResidualGeometry {
        let L = OpLayout.self
        let ce = op.parameter(L.irExpanded)
        return InvertedResidualGeometry(
            inputShape: shape(op.input(0)), expandedChannels: ce, outputChannels: op.parameter(L.irOutputChannels),
            kernelH: op.parameter(L.irKernel), kernelW: op.parameter(L.irKernel + 1),
            depthwise: Conv2DParameters(
                strideH: op.parameter(L.irStride), strideW: op.parameter(L.irStride + 1),
                dilationH: op.parameter(L.irDilation), dilationW: op.parameter(L.irDilation + 1),
                padding: Padding(
                    top: op.parameter(L.irPadding), left: op.parameter(L.irPadding + 1),
                    bottom: op.parameter(L.irPadding + 2), right: op.parameter(L.irPadding + 3)),
                groups: ce),
            hasResidual: op.parameter(L.irResidual) != 0,
            expandKernelH: op.parameter(L.irExpandKernel), expandKernelW: op.parameter(L.irExpandKernel + 1),
            expand: Conv2DParameters(
                strideH: op.parameter(L.irExpandStride), strideW: op.parameter(L.irExpandStride + 1),
                padding: Padding(
                    top: op.parameter(L.irExpandPadding), left: op.parameter(L.irExpandPadding + 1),
                    bottom: op.parameter(L.irExpandPadding + 2), right: op.parameter(L.irExpandPadding + 3))))
    }

    /// The scratch buffer's size of `op` (0 when it has none).
    func scratchSize(of op: OpRecord) -> Int {
        op.scratch >= 0 ? scratch(op.scratch).size : 0
    }
}

extension OpValidator {
    /// A depthwise-in-place op (after conv2D's checks, which cover its variant and packed
    /// weights): a shape-keeping depthwise geometry, a depthwise or reference variant, and a
    /// scratch window of `DepthwiseInPlace.scratchByteCount` bytes.
    func depthwiseInPlace(filter: FilterShape, parameters: Conv2DParameters) throws(ModelError) {
        guard DepthwiseInPlace.isSupported(inputShape: inputShape, filter: filter, parameters: parameters) else {
            throw fail(.notRunnableInPlace)
        }
        let variant = KernelVariant(rawValue: op.variantByte) ?? .reference
        guard variant == .reference || variant == .depthwise || variant == .depthwise3x3 else {
            throw fail(.unsupportedVariant(op.variantByte))
        }
        let needed = DepthwiseInPlace.scratchByteCount(inputShape: inputShape, filter: filter, parameters: parameters)
        let found = model.scratchSize(of: op)
        guard found >= needed else { throw fail(.scratchTooSmall(needed: needed, found: found)) }
    }

    /// One conv stage of a fused block: its variant (one of `allowed`, applying to the
    /// stage's row shape), clamp, weights of `weightCount` (0 for an optimized variant), packed
    /// weights, bias/multipliers/shifts for `channels`, accumulator bound for `terms` products.
    /// Returns the variant.
    @discardableResult
    func fusedStage(
        _ p: Int, stage k: Int, allowed: [KernelVariant], row: TensorShape, filter: FilterShape,
        parameters: Conv2DParameters, inputZeroPoint: Int32, weightCount: Int, channels: Int, terms: Int
    ) throws(ModelError) -> KernelVariant {
        let L = OpLayout.self
        let raw = try parameter(L.irVariants + k, .count, in: 0...255)
        guard let variant = KernelVariant(rawValue: UInt8(raw)), allowed.contains(variant),
              variant.applies(inputShape: row, filter: filter, parameters: parameters, inputZeroPoint: inputZeroPoint),
              let bytes = variant.checkedByteCounts(inputShape: row, filter: filter, parameters: parameters)
        else { throw fail(.unsupportedVariant(UInt8(truncatingIfNeeded: raw))) }
        try constant(L.irPacked + 2 * k, .packedWeights, expected: bytes.packedWeights)
        if variant == .pointwiseU8 { try weightPairs(L.irPacked + 2 * k, depth: filter.inputChannelsPerGroup, columns: filter.outputChannels) }
        if variant.packsGEMMWeights {
            try gemmWeights(L.irPacked + 2 * k, depth: Im2col.depth(filter), columns: filter.outputChannels / parameters.groups,
                            groups: parameters.groups)
        }
        try clamp(p)
        try constant(p + 2, .weights, expected: variant == .reference ? weightCount : 0)
        try requantization(bias: p + 4, multipliers: p + 6, shifts: p + 8, channels: channels, terms: terms)
        return variant
    }

    /// An `invertedResidual` op: geometry, zero points, stage constants, residual add,
    /// output shape, the recorded scratch layout, and the scratch buffer's size.
    func invertedResidual() throws(ModelError) {
        let L = OpLayout.self
        let geometryRange = 1...ModelFormat.maxGeometry
        let dims = 1...ModelFormat.maxDimension
        let residual = try parameter(L.irResidual, .count, in: 0...2)
        _ = try parameter(L.irReplaced, .count, in: (residual == 0 ? 3 : 4)...(residual == 0 ? 3 : 4))
        let ce = try parameter(L.irExpanded, .channels, in: dims)
        let co = try parameter(L.irOutputChannels, .channels, in: dims)
        let kh = try parameter(L.irKernel, .kernel, in: geometryRange)
        let kw = try parameter(L.irKernel + 1, .kernel, in: geometryRange)
        for k in 0..<2 {
            _ = try parameter(L.irStride + k, .stride, in: geometryRange)
            _ = try parameter(L.irDilation + k, .dilation, in: geometryRange)
        }
        _ = try padding(L.irPadding)
        let ekh = try parameter(L.irExpandKernel, .kernel, in: geometryRange)
        let ekw = try parameter(L.irExpandKernel + 1, .kernel, in: geometryRange)
        for k in 0..<2 { _ = try parameter(L.irExpandStride + k, .stride, in: geometryRange) }
        _ = try padding(L.irExpandPadding)
        for k in 0..<3 { _ = try parameter(L.irZeroPoints + k, .zeroPoint, in: -128...127) }
        let g = model.invertedResidualGeometry(op)
        guard g.isValid else { throw fail(.invalidParameter(.kernel, value: kh)) }
        let input = inputShape
        // Every byte count the kernel forms stays far below Int32.max (also with 32-bit Int).
        guard let eRow = Checked.mul(g.expandedShape.w, ce), let ring = Checked.mul(eRow, g.ringRows), ring <= Int(Int32.max),
            let dRow = Checked.mul(g.depthwiseShape.w, ce), dRow <= Int(Int32.max),
            let pRow = Checked.mul(g.depthwiseShape.w, co), pRow <= Int(Int32.max),
            let e = Checked.mul(ring, 1).flatMap({ Checked.add($0, dRow) }).flatMap({ Checked.add($0, pRow) }),
            e <= Int(Int32.max)
        else { throw fail(.invalidParameter(.channels, value: ce)) }
        try expect(g.outputShape, tensor: output)
        let layout = [g.ringRows, g.ringBytes, g.depthwiseRowBytes, g.projectRowBytes]
        for k in 0..<4 where op.parameter(L.irScratchLayout + k) != layout[k] {
            throw fail(.scratchLayoutMismatch(word: L.irScratchLayout + k, found: op.parameter(L.irScratchLayout + k), expected: layout[k]))
        }
        guard let expandWeights = Checked.product(ce, ekh, ekw, input.c), let projectWeights = Checked.mul(co, ce),
            let dwWeights = Checked.product(ce, kh, kw, 1), expandWeights <= Int(Int32.max),
            projectWeights <= Int(Int32.max), dwWeights <= Int(Int32.max)
        else { throw fail(.invalidParameter(.filter, value: ce)) }
        let pointwise = Conv2DParameters()
        let eZeroPoint = Int32(op.parameter(L.irZeroPoints)), dZeroPoint = Int32(op.parameter(L.irZeroPoints + 1))
        let ev = try fusedStage(
            L.irExpand, stage: 0, allowed: [.reference, .pointwise, .pointwiseU8, .im2col, .directGEMM, .im2colDirect], row: TensorShape(h: ekh, w: input.w, c: input.c),
            filter: g.expandFilter, parameters: g.expand, inputZeroPoint: model.zeroPoint(self.input),
            weightCount: expandWeights, channels: ce, terms: try products(ekh, ekw, input.c))
        try fusedStage(
            L.irDepthwise, stage: 1, allowed: [.reference, .depthwise, .depthwise3x3], row: TensorShape(h: 1, w: g.expandedShape.w, c: ce),
            filter: g.depthwiseFilter, parameters: g.depthwise, inputZeroPoint: eZeroPoint,
            weightCount: dwWeights, channels: ce, terms: try products(kh, kw, 1))
        let pv = try fusedStage(
            L.irProject, stage: 2, allowed: [.reference, .pointwise, .pointwiseU8, .directGEMM], row: TensorShape(h: 1, w: g.depthwiseShape.w, c: ce),
            filter: g.projectFilter, parameters: pointwise, inputZeroPoint: dZeroPoint,
            weightCount: projectWeights, channels: co, terms: ce)
        let panel = InvertedResidual.panelBytes(geometry: g, expand: ev, project: pv)
        guard op.parameter(L.irPanel) == panel else {
            throw fail(.scratchLayoutMismatch(word: L.irPanel, found: op.parameter(L.irPanel), expected: panel))
        }
        let found = model.scratchSize(of: op)
        guard let needed = Checked.add(g.scratchBytes, panel), found >= needed else {
            throw fail(.scratchTooSmall(needed: g.scratchBytes + panel, found: found))
        }

        let projectZeroPoint = op.parameter(L.irZeroPoints + 2)
        if residual == 0 {
            guard projectZeroPoint == Int(model.zeroPoint(output)) else { throw fail(.quantizationMismatch(tensor: output)) }
        } else {
            let xZeroPoint = Int(model.zeroPoint(self.input))
            let first = residual == 1 ? xZeroPoint : projectZeroPoint
            let second = residual == 1 ? projectZeroPoint : xZeroPoint
            guard op.parameter(L.irAdd) == first, op.parameter(L.irAdd + 1) == second else {
                throw fail(.quantizationMismatch(tensor: self.input))
            }
            guard op.parameter(L.irAdd + 2) == Int(model.zeroPoint(output)) else { throw fail(.quantizationMismatch(tensor: output)) }
            _ = try parameter(L.irAdd + 3, .leftShift, in: 0...22)
            for p in stride(from: L.irAdd + 4, through: L.irAdd + 8, by: 2) {
                _ = try parameter(p, .multiplier, in: 0...Int(Int32.max))
                _ = try parameter(p + 1, .shift, in: -31...0)
            }
            try clamp(L.irAdd + 10)
        }
    }
}

extension Model {
    /// For reports: the geometry of op `i` when it is a fused inverted-residual block, and
    /// whether the block input is its residual add's first operand; nil for other ops.
    public func fusedBlock(_ i: Int) -> (geometry: InvertedResidualGeometry, blockInputFirst: Bool)? {
        precondition(i >= 0 && i < opCount, "op index out of range")
        let op = opRecord(i)
        guard op.kindByte == OpKind.invertedResidual.rawValue else { return nil }
        return (invertedResidualGeometry(op), op.parameter(OpLayout.irResidual) == 1)
    }

    /// For reports: the kernel variants of a fused block's expand, depthwise and project
    /// stages (empty for other ops).
    public func fusedStageVariants(_ i: Int) -> [KernelVariant] {
        precondition(i >= 0 && i < opCount, "op index out of range")
        let op = opRecord(i)
        guard op.kindByte == OpKind.invertedResidual.rawValue else { return [] }
        return (0..<3).map { KernelVariant(rawValue: UInt8(truncatingIfNeeded: op.parameter(OpLayout.irVariants + $0))) ?? .reference }
    }
}
