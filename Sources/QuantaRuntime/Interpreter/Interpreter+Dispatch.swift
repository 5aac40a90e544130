import QuantaKernels

/// The op dispatch: decodes one validated op record and calls its kernel.
///
/// Each op's `KernelVariant` was chosen by the compiler and stored in the plan: convolutions
/// switch on it (`OptimizedConv2D.run` with the packed weights and the planned scratch, or
/// `Int8Reference.conv2D`); every other kind runs its `Int8Reference` / `Layout` kernel. No
/// kernel search and no shape tests happen here:
/// `Model.init` validated every shape and parameter the kernels rely on.
extension Interpreter {
    @inlinable
    func pointer32(_ op: OpRecord, _ p: Int) -> UnsafePointer<Int32> {
        model.constantPointer(op, p).assumingMemoryBound(to: Int32.self)
    }

    @inlinable
    func pointer8(_ op: OpRecord, _ p: Int) -> UnsafePointer<Int8> {
        model.constantPointer(op, p).assumingMemoryBound(to: Int8.self)
    }

    /// The bias constant at word `p`, nil when empty.
    @inlinable
    func bias(_ op: OpRecord, _ p: Int) -> UnsafePointer<Int32>? {
        model.constantLength(op, p) == 0 ? nil : pointer32(op, p)
    }

    @inlinable
    func requantization(_ op: OpRecord, multipliers p: Int, shifts s: Int, clamp c: Int, output: Int) -> Requantization {
        Requantization(
            multipliers: pointer32(op, p), shifts: pointer32(op, s), channelCount: model.constantLength(op, p) / 4,
            outputZeroPoint: model.zeroPoint(output), clampMin: op.parameter32(c), clampMax: op.parameter32(c + 1))
    }

    @inlinable
    func padding(_ op: OpRecord, _ p: Int) -> Padding {
        Padding(top: op.parameter(p), left: op.parameter(p + 1), bottom: op.parameter(p + 2), right: op.parameter(p + 3))
    }

    @usableFromInline
    func run(_ op: OpRecord) {
        guard let kind = OpKind(rawValue: op.kindByte) else { return }
        let L = OpLayout.self
        let output = op.output(0)
        let out = data(output)
        let outShape = model.shape(output)
        let input = op.input(0)
        let inp = UnsafePointer(data(input))
        let inShape = model.shape(input)

        switch kind {
        case .conv2D:
            let parameters = Conv2DParameters(
                strideH: op.parameter(L.convStride), strideW: op.parameter(L.convStride + 1),
                dilationH: op.parameter(L.convDilation), dilationW: op.parameter(L.convDilation + 1),
                padding: padding(op, L.convPadding), groups: op.parameter(L.convGroups))
            let filter = FilterShape(
                outputChannels: op.parameter(L.convFilter), kernelH: op.parameter(L.convFilter + 1),
                kernelW: op.parameter(L.convFilter + 2), inputChannelsPerGroup: op.parameter(L.convFilter + 3))
            let requant = requantization(
                op, multipliers: L.convMultipliers, shifts: L.convShifts, clamp: L.convClamp, output: output)
            // The variant the compiler chose; validation checked that it applies to these
            // shapes and that its packed weights and scratch are there.
            let variant = KernelVariant(rawValue: op.variantByte) ?? .reference
            if variant == .reference {
                Int8Reference.conv2D(
                    input: inp, inputShape: inShape, inputZeroPoint: model.zeroPoint(input),
                    weights: pointer8(op, L.convWeights), filter: filter, bias: bias(op, L.convBias),
                    output: out, outputShape: outShape, parameters: parameters, requantization: requant)
            } else {
                let s = op.scratch
                OptimizedConv2D.run(
                    variant: variant, input: inp, inputShape: inShape, inputZeroPoint: model.zeroPoint(input),
                    weights: pointer8(op, L.convWeights), filter: filter, bias: bias(op, L.convBias),
                    output: out, outputShape: outShape, parameters: parameters, requantization: requant,
                    packedWeights: model.constantPointer(op, L.convPackedWeights),
                    scratch: s >= 0 ? arena.pointer(model.scratch(s).offset) : nil)
            }

        case .transposeConv2D:
            let filter = FilterShape(
                outputChannels: op.parameter(L.tconvFilter), kernelH: op.parameter(L.tconvFilter + 1),
                kernelW: op.parameter(L.tconvFilter + 2), inputChannelsPerGroup: op.parameter(L.tconvFilter + 3))
            Int8Reference.transposeConv2D(
                input: inp, inputShape: inShape, inputZeroPoint: model.zeroPoint(input),
                weights: pointer8(op, L.tconvWeights), filter: filter, bias: bias(op, L.tconvBias),
                output: out, outputShape: outShape,
                strideH: op.parameter(L.tconvStride), strideW: op.parameter(L.tconvStride + 1),
                dilationH: 1, dilationW: 1, padding: padding(op, L.tconvPadding),
                requantization: requantization(
                    op, multipliers: L.tconvMultipliers, shifts: L.tconvShifts, clamp: L.tconvClamp, output: output))

        case .fullyConnected:
            let requant = requantization(
                op, multipliers: L.fcMultipliers, shifts: L.fcShifts, clamp: L.fcClamp, output: output)
            let inputCount = op.parameter(L.fcInputCount), outputCount = op.parameter(L.fcOutputCount)
            if op.variantByte == KernelVariant.doubleScaled.rawValue {
                Int8Reference.fullyConnectedScaled(
                    input: inp, inputZeroPoint: model.zeroPoint(input), weights: pointer8(op, L.fcWeights),
                    bias: bias(op, L.fcBias), scales: model.constantPointer(op, L.fcMultipliers),
                    outputZeroPoint: requant.outputZeroPoint, clampMin: requant.clampMin, clampMax: requant.clampMax,
                    output: out, batches: inShape.n, inputCount: inputCount, outputCount: outputCount)
            } else if op.variantByte == KernelVariant.pointwise.rawValue {
                // One GEMM row per batch; validation checked the packed block and the scratch.
                PointwiseGEMM.run(GEMMOperands(
                    rows: inShape.n, depth: inputCount, columns: outputCount, a: inp, aRowStride: inputCount,
                    packed: model.constantPointer(op, L.fcPackedWeights), output: out, outputRowStride: outputCount,
                    requantization: requant, panel: arena.pointer(model.scratch(op.scratch).offset)))
            } else {
                Int8Reference.fullyConnected(
                    input: inp, inputZeroPoint: model.zeroPoint(input), weights: pointer8(op, L.fcWeights),
                    bias: bias(op, L.fcBias), output: out, batches: inShape.n,
                    inputCount: inputCount, outputCount: outputCount, requantization: requant)
            }

        case .add:
            let second = op.input(1)
            let q = AddQuantization(
                input1ZeroPoint: op.parameter32(0), input2ZeroPoint: op.parameter32(1),
                outputZeroPoint: op.parameter32(2), leftShift: op.parameter32(3),
                input1Multiplier: op.parameter32(4), input1Shift: op.parameter32(5),
                input2Multiplier: op.parameter32(6), input2Shift: op.parameter32(7),
                outputMultiplier: op.parameter32(8), outputShift: op.parameter32(9),
                clampMin: op.parameter32(10), clampMax: op.parameter32(11))
            if op.variantByte == KernelVariant.elementwise.rawValue {
                // Validation checked that both operands have the output's shape.
                VectorAdd.run(input1: inp, input2: UnsafePointer(data(second)), output: out,
                              count: outShape.elementCount, quantization: q)
            } else {
                Int8Reference.add(
                    input1: inp, shape1: inShape, input2: UnsafePointer(data(second)), shape2: model.shape(second),
                    output: out, outputShape: outShape, quantization: q)
            }

        case .mul:
            let second = op.input(1)
            let q = MulQuantization(
                input1ZeroPoint: op.parameter32(0), input2ZeroPoint: op.parameter32(1),
                outputZeroPoint: op.parameter32(2), multiplier: op.parameter32(3), shift: op.parameter32(4),
                clampMin: op.parameter32(5), clampMax: op.parameter32(6))
            if op.variantByte == KernelVariant.elementwise.rawValue {
                VectorMul.run(
                    input1: inp, shape1: inShape, input2: UnsafePointer(data(second)), shape2: model.shape(second),
                    output: out, quantization: q)
            } else {
                Int8Reference.mul(
                    input1: inp, shape1: inShape, input2: UnsafePointer(data(second)), shape2: model.shape(second),
                    output: out, outputShape: outShape, quantization: q)
            }

        case .averagePool, .maxPool:
            let parameters = PoolParameters(
                kernelH: op.parameter(L.poolKernel), kernelW: op.parameter(L.poolKernel + 1),
                strideH: op.parameter(L.poolStride), strideW: op.parameter(L.poolStride + 1),
                padding: padding(op, L.poolPadding))
            if kind == .averagePool {
                VectorPool.averagePool(
                    input: inp, inputShape: inShape, output: out, outputShape: outShape, parameters: parameters,
                    clampMin: op.parameter32(L.poolClamp), clampMax: op.parameter32(L.poolClamp + 1))
            } else {
                VectorPool.maxPool(
                    input: inp, inputShape: inShape, output: out, outputShape: outShape, parameters: parameters,
                    clampMin: op.parameter32(L.poolClamp), clampMax: op.parameter32(L.poolClamp + 1))
            }

        case .globalAveragePool:
            if op.variantByte == KernelVariant.elementwise.rawValue {
                VectorGlobalAveragePool.run(
                    input: inp, inputShape: inShape, inputZeroPoint: model.zeroPoint(input), output: out,
                    outputZeroPoint: model.zeroPoint(output), multiplier: op.parameter32(0), shift: op.parameter32(1))
            } else {
                Int8Reference.globalAveragePool(
                    input: inp, inputShape: inShape, inputZeroPoint: model.zeroPoint(input), output: out,
                    outputZeroPoint: model.zeroPoint(output), multiplier: op.parameter32(0), shift: op.parameter32(1))
            }

        case .channelShuffle:
            VectorLayout.channelShuffle(input: inp, output: out, shape: inShape, groups: op.parameter(0))

        case .concat:
            let pixels = outShape.n * outShape.h * outShape.w
            var channelOffset = 0
            for k in 0..<op.inputCount {
                let t = op.input(k)
                let channels = model.shape(t).c
                VectorLayout.concatChannels(
                    input: UnsafePointer(data(t)), inputChannels: channels, output: out,
                    outputChannels: outShape.c, channelOffset: channelOffset, pixels: pixels)
                channelOffset += channels
            }

        case .interleaveChannels:
            let pixels = outShape.n * outShape.h * outShape.w
            if op.inputCount == 2 {
                VectorLayout.interleave2(inp, UnsafePointer(data(op.input(1))), channels: inShape.c, output: out, pixels: pixels)
            } else {
                for k in 0..<op.inputCount {
                    Layout.interleaveChannels(
                        input: UnsafePointer(data(op.input(k))), channels: inShape.c, output: out,
                        groups: op.inputCount, group: k, pixels: pixels)
                }
            }

        case .sliceChannels:
            VectorLayout.sliceChannels(
                input: inp, inputChannels: inShape.c, output: out, start: op.parameter(0), count: op.parameter(1),
                pixels: inShape.n * inShape.h * inShape.w)

        case .pad:
            Layout.pad(
                input: inp, inputShape: inShape, output: out, outputShape: outShape, padding: padding(op, 0),
                value: Int8(truncatingIfNeeded: op.parameter(4)))

        case .softmax where op.variantByte == KernelVariant.logFloatTable.rawValue:
            let table = model.constantPointer(op, 0)
            Int8Reference.logSoftmax(
                input: inp, output: out, rows: inShape.n * inShape.h * inShape.w, channels: inShape.c,
                table: table.assumingMemoryBound(to: Float.self),
                inputScale: Float(bitPattern: table.load(fromByteOffset: 256 * 4, as: UInt32.self)),
                outputScale: Float(bitPattern: table.load(fromByteOffset: 257 * 4, as: UInt32.self)),
                outputZeroPoint: table.load(fromByteOffset: 258 * 4, as: Int32.self))

        case .softmax where op.variantByte == KernelVariant.floatTable.rawValue:
            let table = model.constantPointer(op, 0)
            Int8Reference.softmaxFloatTable(
                input: inp, output: out, rows: inShape.n * inShape.h * inShape.w, channels: inShape.c,
                table: table.assumingMemoryBound(to: Float.self),
                outputScale: Float(bitPattern: table.load(fromByteOffset: 256 * 4, as: UInt32.self)),
                outputZeroPoint: table.load(fromByteOffset: 257 * 4, as: Int32.self))

        case .softmax:
            Int8Reference.softmax(
                input: inp, output: out, rows: inShape.n * inShape.h * inShape.w, channels: inShape.c,
                expTable: pointer32(op, 0))

        case .lookupTable:
            Int8Reference.lookupTable(input: inp, output: out, count: inShape.elementCount, table: pointer8(op, 0))

        case .depthwiseConv2DInPlace:
            runDepthwiseInPlace(op)

        case .invertedResidual:
            runInvertedResidual(op)

        case .borderPad:
            Layout.borderPad(
                input: inp, inputShape: inShape, output: out, outputShape: outShape, padding: padding(op, 0),
                mode: op.parameter(4) == BorderPadMode.edge.rawValue ? .edge : .reflect)

        case .upsampleNearest:
            Layout.upsampleNearest(
                input: inp, inputShape: inShape, output: out, outputShape: outShape,
                factorH: op.parameter(0), factorW: op.parameter(1))

        case .resizeBilinear:
            Int8Reference.resizeBilinear(
                input: inp, inputShape: inShape, output: out, outputShape: outShape,
                rows: pointer32(op, 0), columns: pointer32(op, 2))

        case .stridedCopy:
            Layout.stridedCopy(input: inp, output: out, geometry: op.stridedCopyGeometry)

        case .reshape:
            if UnsafeMutablePointer(mutating: inp) != out {
                UnsafeMutableRawPointer(out).copyMemory(from: inp, byteCount: inShape.elementCount)
            }
        }
    }
}
