import QuantaKernels

/// Dispatch of the memory-saving ops (`depthwiseConv2DInPlace`, `invertedResidual`): their
/// kernels in QuantaKernels/Memory with the op's arena scratch. Allocation-free.
extension Interpreter {
    @inlinable
    func scratchPointer(_ op: OpRecord) -> UnsafeMutablePointer<Int8> {
        arena.pointer(model.scratch(op.scratch).offset).assumingMemoryBound(to: Int8.self)
    }

    /// Depthwise in place: when the planner gave the output its own bytes, the input is
    /// copied there first, so the input is never modified in that case.
    @usableFromInline
    func runDepthwiseInPlace(_ op: OpRecord) {
        let L = OpLayout.self
        let input = op.input(0), output = op.output(0)
        let shape = model.shape(input)
        let out = data(output)
        let inp = data(input)
        if inp != out { UnsafeMutableRawPointer(out).copyMemory(from: inp, byteCount: shape.elementCount) }
        let parameters = Conv2DParameters(
            strideH: 1, strideW: 1, dilationH: op.parameter(L.convDilation), dilationW: op.parameter(L.convDilation + 1),
            padding: padding(op, L.convPadding), groups: shape.c)
        let filter = FilterShape(
            outputChannels: shape.c, kernelH: op.parameter(L.convFilter + 1), kernelW: op.parameter(L.convFilter + 2),
            inputChannelsPerGroup: 1)
        DepthwiseInPlace.run(
            data: out, shape: shape, inputZeroPoint: model.zeroPoint(input), weights: pointer8(op, L.convWeights),
            filter: filter, bias: bias(op, L.convBias), parameters: parameters,
            requantization: requantization(
                op, multipliers: L.convMultipliers, shifts: L.convShifts, clamp: L.convClamp, output: output),
            scratch: scratchPointer(op), variant: KernelVariant(rawValue: op.variantByte) ?? .reference,
            packedWeights: model.constantLength(op, L.convPackedWeights) == 0 ? nil : model.constantPointer(op, L.convPackedWeights))
    }

    @inlinable
    func fusedStage(_ op: OpRecord, _ p: Int, stage k: Int, outputZeroPoint: Int32) -> FusedStage {
        let L = OpLayout.self
        return FusedStage(
            weights: pointer8(op, p + 2), bias: bias(op, p + 4),
            requantization: Requantization(
                multipliers: pointer32(op, p + 6), shifts: pointer32(op, p + 8),
                channelCount: model.constantLength(op, p + 6) / 4, outputZeroPoint: outputZeroPoint,
                clampMin: op.parameter32(p), clampMax: op.parameter32(p + 1)),
            variant: KernelVariant(rawValue: UInt8(truncatingIfNeeded: op.parameter(L.irVariants + k))) ?? .reference,
            packedWeights: model.constantLength(op, L.irPacked + 2 * k) == 0 ? nil : model.constantPointer(op, L.irPacked + 2 * k))
    }

    @usableFromInline
    func runInvertedResidual(_ op: OpRecord) {
        let L = OpLayout.self
        let input = op.input(0), output = op.output(0)
        let residualWord = op.parameter(L.irResidual)
        var residual: FusedResidual? = nil
        if residualWord != 0 {
            let a = L.irAdd
            residual = FusedResidual(
                quantization: AddQuantization(
                    input1ZeroPoint: op.parameter32(a), input2ZeroPoint: op.parameter32(a + 1),
                    outputZeroPoint: op.parameter32(a + 2), leftShift: op.parameter32(a + 3),
                    input1Multiplier: op.parameter32(a + 4), input1Shift: op.parameter32(a + 5),
                    input2Multiplier: op.parameter32(a + 6), input2Shift: op.parameter32(a + 7),
                    outputMultiplier: op.parameter32(a + 8), outputShift: op.parameter32(a + 9),
                    clampMin: op.parameter32(a + 10), clampMax: op.parameter32(a + 11)),
                blockInputFirst: residualWord == 1)
        }
        InvertedResidual.run(
            geometry: model.invertedResidualGeometry(op), input: UnsafePointer(data(input)),
            inputZeroPoint: model.zeroPoint(input),
            expand: fusedStage(op, L.irExpand, stage: 0, outputZeroPoint: op.parameter32(L.irZeroPoints)),
            depthwise: fusedStage(op, L.irDepthwise, stage: 1, outputZeroPoint: op.parameter32(L.irZeroPoints + 1)),
            project: fusedStage(op, L.irProject, stage: 2, outputZeroPoint: op.parameter32(L.irZeroPoints + 2)),
            residual: residual, output: data(output), scratch: scratchPointer(op))
    }
}
