import QuantaKernels

/// Per-op validation: record bounds, counts, tensor indices, parameters, constants and
/// shapes, so that every kernel call invoke makes stays within its buffers and its
/// integer arithmetic within range.
extension Model {
    /// Largest number of products in one int32 accumulator such that
    /// `terms * 255 * 128` plus the largest bias cannot overflow.
    static let maxProductSum = Int(Int32.max)

    @_optimize(size)
    func validateOps() throws(ModelError) {
        for i in 0..<opCount {
            let relative = reader.word(opsSection + 8 + 4 * i)
            guard relative % 4 == 0, Checked.fits(relative, ModelFormat.opRecordHeaderSize, in: opsLength) else {
                throw .invalidOp(index: i, reason: .recordOutOfBounds(offset: relative))
            }
            let op = OpRecord(reader: reader, offset: opsSection + relative)
            guard let kind = OpKind(rawValue: op.kindByte) else {
                throw .invalidOp(index: i, reason: .unknownKind(op.kindByte))
            }
            guard let variant = KernelVariant(rawValue: op.variantByte), variant.supports(kind) else {
                throw .invalidOp(index: i, reason: .unsupportedVariant(op.variantByte))
            }
            guard op.parameterCount == kind.parameterCount else {
                throw .invalidOp(index: i, reason: .wrongParameterCount(found: op.parameterCount, expected: kind.parameterCount))
            }
            guard Checked.fits(relative, op.byteCount, in: opsLength) else {
                throw .invalidOp(index: i, reason: .recordOutOfBounds(offset: relative))
            }
            let v = OpValidator(model: self, op: op, index: i)
            try v.counts(kind)
            let s = op.scratch
            guard s == -1 || (s >= 0 && s < scratchCount) else {
                throw .invalidOp(index: i, reason: .invalidParameter(.scratch, value: s))
            }
            try v.validate(kind)
        }
    }
}

/// Checks one op record (after its bounds, kind, variant and parameter count).
struct OpValidator {
    let model: Model
    let op: OpRecord
    let index: Int

    @_optimize(size)
    func fail(_ problem: OpProblem) -> ModelError { .invalidOp(index: index, reason: problem) }

    @_optimize(size)
    func counts(_ kind: OpKind) throws(ModelError) {
        let inputs: ClosedRange<Int>
        switch kind {
        case .add, .mul: inputs = 2...2
        case .concat: inputs = 1...255
        case .interleaveChannels: inputs = 2...255
        default: inputs = 1...1
        }
        guard inputs.contains(op.inputCount) else {
            throw fail(.wrongInputCount(found: op.inputCount, expected: inputs.lowerBound))
        }
        guard op.outputCount == 1 else { throw fail(.wrongOutputCount(found: op.outputCount, expected: 1)) }
        for k in 0..<op.inputCount {
            let t = op.input(k)
            guard t >= 0, t < model.tensorCount else { throw fail(.tensorIndexOutOfRange(t)) }
        }
        let out = op.output(0)
        guard out >= 0, out < model.tensorCount else { throw fail(.tensorIndexOutOfRange(out)) }
        guard model.isArenaTensor(out) else { throw fail(.outputNotInArena(tensor: out)) }
    }

    var input: Int { op.input(0) }
    var output: Int { op.output(0) }
    var inputShape: TensorShape { model.shape(input) }
    var outputShape: TensorShape { model.shape(output) }

    @_optimize(size)
    func parameter(_ p: Int, _ name: OpParameter, in range: ClosedRange<Int>) throws(ModelError) -> Int {
        let value = op.parameter(p)
        guard range.contains(value) else { throw fail(.invalidParameter(name, value: value)) }
        return value
    }

    @_optimize(size)
    func padding(_ p: Int) throws(ModelError) -> Padding {
        let r = 0...ModelFormat.maxGeometry
        return Padding(
            top: try parameter(p, .padding, in: r), left: try parameter(p + 1, .padding, in: r),
            bottom: try parameter(p + 2, .padding, in: r), right: try parameter(p + 3, .padding, in: r))
    }

    @_optimize(size)
    func clamp(_ p: Int) throws(ModelError) {
        let lo = try parameter(p, .clamp, in: -128...127)
        _ = try parameter(p + 1, .clamp, in: lo...127)
    }

    /// Checks the constant referenced at word `p` and returns its length.
    @discardableResult
    @_optimize(size)
    func constant(_ p: Int, _ which: OpConstant, expected: Int, allowEmpty: Bool = false) throws(ModelError) -> Int {
        let offset = op.parameter(p), length = op.parameter(p + 1)
        guard offset % ModelFormat.alignment == 0, Checked.fits(offset, length, in: model.constantsLength),
            length == expected || (allowEmpty && length == 0)
        else { throw fail(.badConstant(which, offset: offset, length: length, expectedLength: expected)) }
        return length
    }

    /// `.pointwiseU8` packed weights at word `p` (length checked) keep every pair within
    /// 128 (`PointwiseU8GEMM.firstUnfitChannel`), else `weightPairOutOfRange` naming the channel.
    @_optimize(size)
    func weightPairs(_ p: Int, depth: Int, columns: Int) throws(ModelError) {
        let packed = model.reader.base + model.constantsSection + op.parameter(p)
        if let channel = PointwiseU8GEMM.firstUnfitChannel(packed, depth: depth, columns: columns) {
            throw fail(.weightPairOutOfRange(channel: channel))
        }
    }

    /// `PointwiseGEMM`-packed weights at word `p` (length checked; `groups` blocks of
    /// `columns` channels of depth `depth`) are all in -127...127
    /// (`PointwiseGEMM.firstMinimumWeight`), else `weightOutOfRange` naming the channel.
    @_optimize(size)
    func gemmWeights(_ p: Int, depth: Int, columns: Int, groups: Int = 1) throws(ModelError) {
        let packed = model.reader.base + model.constantsSection + op.parameter(p)
        let blockBytes = PointwiseGEMM.packedByteCount(depth: depth, columns: columns)
        for group in 0..<groups {
            if let channel = PointwiseGEMM.firstMinimumWeight(packed + group * blockBytes, depth: depth, columns: columns) {
                throw fail(.weightOutOfRange(channel: group * columns + channel))
            }
        }
    }

    /// Reads the i-th Int32 of the constant at word `p`.
    @_optimize(size)
    func constantWord(_ p: Int, _ i: Int) -> Int {
        model.reader.word(model.constantsSection + op.parameter(p) + 4 * i)
    }

    @_optimize(size)
    func expect(_ expected: TensorShape, tensor: Int) throws(ModelError) {
        let found = model.shape(tensor)
        guard found == expected else { throw fail(.shapeMismatch(tensor: tensor, expected: expected, found: found)) }
    }

    @_optimize(size)
    func sameQuantization(_ a: Int, _ b: Int) throws(ModelError) {
        guard model.quantization(a) == model.quantization(b) else { throw fail(.quantizationMismatch(tensor: b)) }
    }

    /// Per-channel requantization: bias (optional, `channels` int32), multipliers and shifts
    /// (1 or `channels` each, same count), multipliers >= 0, shifts in -31...30; and the
    /// accumulator bound `terms * 255 * 128 + max|bias|` fits in int32 (the kernels'
    /// accumulation is checked and would trap; the left shift of requantization wraps).
    @_optimize(size)
    func requantization(bias: Int, multipliers: Int, shifts: Int, channels: Int, terms: Int) throws(ModelError) {
        let mLength = op.parameter(multipliers + 1)
        let count = mLength == 4 ? 1 : channels
        try constant(multipliers, .multipliers, expected: 4 * count)
        try constant(shifts, .shifts, expected: 4 * count)
        for c in 0..<count {
            let m = constantWord(multipliers, c)
            guard m >= 0 else { throw fail(.invalidParameter(.multiplier, value: m)) }
            let s = constantWord(shifts, c)
            guard s >= -31, s <= 30 else { throw fail(.invalidParameter(.shift, value: s)) }
        }
        try accumulator(bias: bias, channels: channels, terms: terms)
    }

    /// The bias (optional, `channels` int32) and the accumulator bound
    /// `terms * 255 * 128 + max|bias|` within int32.
    @_optimize(size)
    func accumulator(bias: Int, channels: Int, terms: Int) throws(ModelError) {
        let biasLength = try constant(bias, .bias, expected: 4 * channels, allowEmpty: true)
        var maxBias = 0
        for c in 0..<(biasLength / 4) { maxBias = max(maxBias, abs(constantWord(bias, c))) }
        guard let products = Checked.mul(terms, 255 * 128), let sum = Checked.add(products, maxBias),
            sum <= Int(Int32.max)
        else { throw fail(.accumulatorRange(terms: terms)) }
    }

    /// `kh * kw * channels`, the products summed into one accumulator (overflow-checked).
    @_optimize(size)
    func products(_ kh: Int, _ kw: Int, _ channels: Int) throws(ModelError) -> Int {
        guard let p = Checked.product(kh, kw, channels, 1) else { throw fail(.accumulatorRange(terms: Int.max)) }
        return p
    }

    @_optimize(size)
    func validate(_ kind: OpKind) throws(ModelError) {
        let geometry = 1...ModelFormat.maxGeometry
        switch kind {
        case .conv2D, .depthwiseConv2DInPlace:
            let L = OpLayout.self
            let strideH = try parameter(L.convStride, .stride, in: geometry)
            let strideW = try parameter(L.convStride + 1, .stride, in: geometry)
            let dilationH = try parameter(L.convDilation, .dilation, in: geometry)
            let dilationW = try parameter(L.convDilation + 1, .dilation, in: geometry)
            let pad = try padding(L.convPadding)
            let input = inputShape
            let groups = try parameter(L.convGroups, .groups, in: 1...input.c)
            guard input.c % groups == 0 else { throw fail(.invalidParameter(.groups, value: groups)) }
            let o = try parameter(L.convFilter, .filter, in: 1...ModelFormat.maxDimension)
            let kh = try parameter(L.convFilter + 1, .kernel, in: geometry)
            let kw = try parameter(L.convFilter + 2, .kernel, in: geometry)
            let ipg = try parameter(L.convFilter + 3, .channels, in: (input.c / groups)...(input.c / groups))
            guard o % groups == 0 else { throw fail(.invalidParameter(.filter, value: o)) }
            try clamp(L.convClamp)
            let filter = FilterShape(outputChannels: o, kernelH: kh, kernelW: kw, inputChannelsPerGroup: ipg)
            guard let weightCount = Checked.product(o, kh, kw, ipg), weightCount <= Int(Int32.max) else {
                throw fail(.invalidParameter(.filter, value: o))
            }
            let parameters = Conv2DParameters(
                strideH: strideH, strideW: strideW, dilationH: dilationH, dilationW: dilationW, padding: pad,
                groups: groups)
            // The reference kernel reads the OHWI weights; an optimized variant reads only its
            // packed block (the OHWI constant is then empty).
            let variant = KernelVariant(rawValue: op.variantByte) ?? .reference
            guard variant.applies(inputShape: input, filter: filter, parameters: parameters, inputZeroPoint: model.zeroPoint(self.input)),
                let bytes = variant.checkedByteCounts(inputShape: input, filter: filter, parameters: parameters)
            else { throw fail(.unsupportedVariant(op.variantByte)) }
            try constant(L.convWeights, .weights, expected: variant == .reference ? weightCount : 0)
            try constant(L.convPackedWeights, .packedWeights, expected: bytes.packedWeights)
            if variant == .pointwiseU8 { try weightPairs(L.convPackedWeights, depth: ipg, columns: o) }
            if variant.packsGEMMWeights {
                try gemmWeights(L.convPackedWeights, depth: Im2col.depth(filter), columns: o / groups, groups: groups)
            }
            let s = op.scratch
            let scratchSize = s >= 0 ? model.scratch(s).size : 0
            guard scratchSize >= bytes.scratch else {
                throw fail(.scratchTooSmall(needed: bytes.scratch, found: scratchSize))
            }
            try requantization(
                bias: L.convBias, multipliers: L.convMultipliers, shifts: L.convShifts, channels: o,
                terms: try products(kh, kw, ipg))
            let expected = parameters.outputShape(input: input, filter: filter)
            guard expected.h >= 1, expected.w >= 1 else { throw fail(.invalidParameter(.kernel, value: kh)) }
            try expect(expected, tensor: output)
            if kind == .depthwiseConv2DInPlace { try depthwiseInPlace(filter: filter, parameters: parameters) }

        case .invertedResidual:
            try invertedResidual()

        case .transposeConv2D:
            let L = OpLayout.self
            let strideH = try parameter(L.tconvStride, .stride, in: geometry)
            let strideW = try parameter(L.tconvStride + 1, .stride, in: geometry)
            let pad = try padding(L.tconvPadding)
            let outPadH = try parameter(L.tconvOutputPadding, .outputPadding, in: 0...(strideH - 1))
            let outPadW = try parameter(L.tconvOutputPadding + 1, .outputPadding, in: 0...(strideW - 1))
            let input = inputShape
            let o = try parameter(L.tconvFilter, .filter, in: 1...ModelFormat.maxDimension)
            let kh = try parameter(L.tconvFilter + 1, .kernel, in: geometry)
            let kw = try parameter(L.tconvFilter + 2, .kernel, in: geometry)
            let ipg = try parameter(L.tconvFilter + 3, .channels, in: input.c...input.c)
            try clamp(L.tconvClamp)
            guard let weightCount = Checked.product(o, kh, kw, ipg), weightCount <= Int(Int32.max) else {
                throw fail(.invalidParameter(.filter, value: o))
            }
            try constant(L.tconvWeights, .weights, expected: weightCount)
            // Each output receives at most ceil(kh/strideH) * ceil(kw/strideW) * ipg products;
            // bound by the whole filter window.
            try requantization(
                bias: L.tconvBias, multipliers: L.tconvMultipliers, shifts: L.tconvShifts, channels: o,
                terms: try products(kh, kw, ipg))
            // stride * (in - 1) stays far from overflow also where Int has 32 bits.
            guard let spanH = Checked.mul(strideH, input.h - 1), let spanW = Checked.mul(strideW, input.w - 1),
                spanH <= ModelFormat.maxDimension, spanW <= ModelFormat.maxDimension
            else { throw fail(.invalidParameter(.stride, value: strideH)) }
            let h = Conv2DParameters.transposedOutputSize(
                input: input.h, kernel: kh, stride: strideH, dilation: 1, padBefore: pad.top, padAfter: pad.bottom,
                outputPadding: outPadH)
            let w = Conv2DParameters.transposedOutputSize(
                input: input.w, kernel: kw, stride: strideW, dilation: 1, padBefore: pad.left, padAfter: pad.right,
                outputPadding: outPadW)
            guard h >= 1, w >= 1 else { throw fail(.invalidParameter(.padding, value: pad.top)) }
            try expect(TensorShape(n: input.n, h: h, w: w, c: o), tensor: output)

        case .fullyConnected:
            let L = OpLayout.self
            let input = inputShape
            let outputCount = try parameter(L.fcOutputCount, .count, in: 1...ModelFormat.maxDimension)
            let perBatch = input.h * input.w * input.c
            let inputCount = try parameter(L.fcInputCount, .count, in: perBatch...perBatch)
            try clamp(L.fcClamp)
            guard let weightCount = Checked.mul(outputCount, inputCount), weightCount <= Int(Int32.max) else {
                throw fail(.invalidParameter(.count, value: outputCount))
            }
            let variant = KernelVariant(rawValue: op.variantByte) ?? .reference
            if variant == .doubleScaled {
                // One double per output (any value: the kernel saturates, NaN gives the clamp's
                // minimum); no shifts, no packed weights.
                try constant(L.fcWeights, .weights, expected: weightCount)
                try constant(L.fcPackedWeights, .packedWeights, expected: 0)
                try constant(L.fcShifts, .shifts, expected: 0)
                try constant(L.fcMultipliers, .multipliers, expected: 8 * outputCount)
                try accumulator(bias: L.fcBias, channels: outputCount, terms: inputCount)
            } else {
                var packedBytes = 0, scratchBytes = 0
                if variant != .reference {
                    guard variant == .pointwise,
                        let bytes = KernelVariant.fullyConnectedByteCounts(inputCount: inputCount, outputCount: outputCount, batch: input.n)
                    else { throw fail(.unsupportedVariant(op.variantByte)) }
                    packedBytes = bytes.packedWeights
                    scratchBytes = bytes.scratch
                }
                try constant(L.fcWeights, .weights, expected: variant == .reference ? weightCount : 0)
                try constant(L.fcPackedWeights, .packedWeights, expected: packedBytes)
                if variant == .pointwise { try gemmWeights(L.fcPackedWeights, depth: inputCount, columns: outputCount) }
                let s = op.scratch
                let scratchSize = s >= 0 ? model.scratch(s).size : 0
                guard scratchSize >= scratchBytes else {
                    throw fail(.scratchTooSmall(needed: scratchBytes, found: scratchSize))
                }
                try requantization(
                    bias: L.fcBias, multipliers: L.fcMultipliers, shifts: L.fcShifts, channels: outputCount,
                    terms: inputCount)
            }
            try expect(TensorShape(n: input.n, h: 1, w: 1, c: outputCount), tensor: output)

        case .add, .mul:
            let a = op.input(0), b = op.input(1)
            let shapeA = model.shape(a), shapeB = model.shape(b)
            let broadcastOK =
                shapeB == shapeA || shapeB == TensorShape(n: shapeA.n, h: 1, w: 1, c: shapeA.c)
                || shapeB == TensorShape(n: 1, h: 1, w: 1, c: 1)
            guard broadcastOK else { throw fail(.shapeMismatch(tensor: b, expected: shapeA, found: shapeB)) }
            // The vectorized add runs same-shape operands only, the vectorized mul also a
            // per-channel gate.
            if op.variantByte == KernelVariant.elementwise.rawValue
                && (kind == .add ? shapeB != shapeA : !VectorMul.applies(shape1: shapeA, shape2: shapeB)) {
                throw fail(.unsupportedVariant(op.variantByte))
            }
            try expect(shapeA, tensor: output)
            guard op.parameter(0) == Int(model.zeroPoint(a)) else { throw fail(.quantizationMismatch(tensor: a)) }
            guard op.parameter(1) == Int(model.zeroPoint(b)) else { throw fail(.quantizationMismatch(tensor: b)) }
            guard op.parameter(2) == Int(model.zeroPoint(output)) else { throw fail(.quantizationMismatch(tensor: output)) }
            if kind == .add {
                // (q - zp) << leftShift stays below 2^31; the input and output multipliers are
                // below one (shift <= 0), as TFLite's add derives them.
                _ = try parameter(3, .leftShift, in: 0...22)
                for p in stride(from: 4, through: 8, by: 2) {
                    // A negative second multiplier is a subtraction (TFLite's SUB), which
                    // the reference kernel runs; the vector kernels take only `a + b`.
                    let negative = p == 6 && op.variantByte == KernelVariant.reference.rawValue
                    _ = try parameter(p, .multiplier, in: (negative ? -Int(Int32.max) : 0)...Int(Int32.max))
                    _ = try parameter(p + 1, .shift, in: -31...0)
                }
                try clamp(10)
            } else {
                // |(a - zpA) * (b - zpB)| <= 255 * 255; requantization's left shift wraps.
                _ = try parameter(3, .multiplier, in: 0...Int(Int32.max))
                _ = try parameter(4, .shift, in: -31...30)
                try clamp(5)
            }

        case .averagePool, .maxPool:
            let L = OpLayout.self
            let kh = try parameter(L.poolKernel, .kernel, in: geometry)
            let kw = try parameter(L.poolKernel + 1, .kernel, in: geometry)
            let sh = try parameter(L.poolStride, .stride, in: geometry)
            let sw = try parameter(L.poolStride + 1, .stride, in: geometry)
            let pad = try padding(L.poolPadding)
            // Padding smaller than the window: every window holds at least one input pixel.
            guard pad.top < kh, pad.bottom < kh else { throw fail(.invalidParameter(.padding, value: max(pad.top, pad.bottom))) }
            guard pad.left < kw, pad.right < kw else { throw fail(.invalidParameter(.padding, value: max(pad.left, pad.right))) }
            guard kh * kw <= 1 << 22 else { throw fail(.accumulatorRange(terms: kh * kw)) }
            try clamp(L.poolClamp)
            let parameters = PoolParameters(kernelH: kh, kernelW: kw, strideH: sh, strideW: sw, padding: pad)
            let expected = parameters.outputShape(input: inputShape)
            guard expected.h >= 1, expected.w >= 1 else { throw fail(.invalidParameter(.kernel, value: kh)) }
            try expect(expected, tensor: output)
            try sameQuantization(input, output)

        case .globalAveragePool:
            let input = inputShape
            guard input.h * input.w <= 1 << 22 else { throw fail(.accumulatorRange(terms: input.h * input.w)) }
            _ = try parameter(0, .multiplier, in: 0...Int(Int32.max))
            _ = try parameter(1, .shift, in: -31...30)
            try expect(TensorShape(n: input.n, h: 1, w: 1, c: input.c), tensor: output)

        case .channelShuffle:
            let input = inputShape
            let groups = try parameter(0, .groups, in: 1...input.c)
            guard input.c % groups == 0 else { throw fail(.invalidParameter(.groups, value: groups)) }
            try expect(input, tensor: output)
            try sameQuantization(self.input, output)

        case .concat:
            let first = inputShape
            var channels = 0
            for k in 0..<op.inputCount {
                let t = op.input(k)
                let s = model.shape(t)
                guard s.n == first.n, s.h == first.h, s.w == first.w else {
                    throw fail(.shapeMismatch(tensor: t, expected: TensorShape(n: first.n, h: first.h, w: first.w, c: s.c), found: s))
                }
                channels += s.c
                try sameQuantization(output, t)
            }
            try expect(TensorShape(n: first.n, h: first.h, w: first.w, c: channels), tensor: output)

        case .interleaveChannels:
            // G inputs of one shape; the output has G times the channels.
            let first = inputShape
            for k in 0..<op.inputCount {
                let t = op.input(k)
                try expect(first, tensor: t)
                try sameQuantization(output, t)
            }
            guard let channels = Checked.mul(first.c, op.inputCount) else {
                throw fail(.invalidParameter(.count, value: op.inputCount))
            }
            try expect(TensorShape(n: first.n, h: first.h, w: first.w, c: channels), tensor: output)

        case .sliceChannels:
            let input = inputShape
            let start = try parameter(0, .start, in: 0...(input.c - 1))
            let count = try parameter(1, .count, in: 1...(input.c - start))
            try expect(TensorShape(n: input.n, h: input.h, w: input.w, c: count), tensor: output)
            try sameQuantization(self.input, output)

        case .pad:
            let pad = try padding(0)
            _ = try parameter(4, .padValue, in: -128...127)
            let input = inputShape
            try expect(
                TensorShape(n: input.n, h: input.h + pad.top + pad.bottom, w: input.w + pad.left + pad.right, c: input.c),
                tensor: output)
            try sameQuantization(self.input, output)

        case .softmax where op.variantByte == KernelVariant.floatTable.rawValue
            || op.variantByte == KernelVariant.logFloatTable.rawValue:
            // 256 float exponentials in 0...1 with table[0] = 1 (the row maximum), so that a
            // row's sum is at least 1; normal positive scales (the log form: input, then
            // output); an int8 zero point.
            let scales = op.variantByte == KernelVariant.logFloatTable.rawValue ? 2 : 1
            let length = try constant(0, .table, expected: (257 + scales) * 4)
            for d in 0..<(256 + scales) {
                let e = Float(bitPattern: UInt32(truncatingIfNeeded: constantWord(0, d)))
                guard d < 256 ? (e >= 0 && e <= 1 && (d > 0 || e == 1)) : (e.isNormal && e > 0) else {
                    throw fail(.badConstant(.table, offset: op.parameter(0), length: length, expectedLength: length))
                }
            }
            guard (-128...127).contains(constantWord(0, 256 + scales)) else {
                throw fail(.invalidParameter(.zeroPoint, value: constantWord(0, 256 + scales)))
            }
            try expect(inputShape, tensor: output)

        case .softmax:
            let input = inputShape
            try constant(0, .table, expected: 256 * 4)
            // Entries in 0...2^24 (Q16 exponentials), the first (d = 0, the row maximum)
            // positive, so that a row's sum is positive (the kernel sums in 64 bits).
            for d in 0..<256 {
                let e = constantWord(0, d)
                guard e >= (d == 0 ? 1 : 0), e <= 1 << 24 else {
                    throw fail(.badConstant(.table, offset: op.parameter(0), length: 1024, expectedLength: 1024))
                }
            }
            try expect(input, tensor: output)
            guard model.zeroPoint(output) == -128 else { throw fail(.quantizationMismatch(tensor: output)) }

        case .lookupTable:
            try constant(0, .table, expected: 256)
            try expect(inputShape, tensor: output)

        case .reshape:
            guard inputShape.elementCount == outputShape.elementCount else {
                throw fail(.shapeMismatch(tensor: output, expected: inputShape, found: outputShape))
            }
            try sameQuantization(input, output)

        case .borderPad:
            let pad = try padding(0)
            let mode = try parameter(4, .padMode, in: 0...1)
            let input = inputShape
            if mode == BorderPadMode.reflect.rawValue {
                // Reflection reads `-i` and `2(n-1) - i`: every pad below the padded size.
                let worst = max(pad.top, pad.bottom) >= input.h ? max(pad.top, pad.bottom) : max(pad.left, pad.right)
                guard max(pad.top, pad.bottom) < input.h, max(pad.left, pad.right) < input.w else {
                    throw fail(.invalidParameter(.padding, value: worst))
                }
            }
            try expect(
                TensorShape(n: input.n, h: input.h + pad.top + pad.bottom, w: input.w + pad.left + pad.right, c: input.c),
                tensor: output)
            try sameQuantization(self.input, output)

        case .upsampleNearest:
            let fh = try parameter(0, .factor, in: geometry)
            let fw = try parameter(1, .factor, in: geometry)
            let input = inputShape
            guard let h = Checked.mul(input.h, fh), let w = Checked.mul(input.w, fw) else {
                throw fail(.invalidParameter(.factor, value: fh))
            }
            try expect(TensorShape(n: input.n, h: h, w: w, c: input.c), tensor: output)
            try sameQuantization(self.input, output)

        case .stridedCopy:
            let view = op.stridedCopyGeometry
            guard view.reads(within: inputShape.elementCount) else {
                throw fail(.invalidParameter(.view, value: view.base))
            }
            var count: Int? = 1
            for a in 0..<StridedCopyGeometry.rank { count = count.flatMap { Checked.mul($0, view.dims[a]) } }
            guard count == outputShape.elementCount else {
                // The view's element count (saturated) against the output's.
                throw fail(.invalidParameter(.view, value: count ?? Int.max))
            }
            try sameQuantization(input, output)

        case .resizeBilinear:
            let input = inputShape, out = outputShape
            try expect(TensorShape(n: input.n, h: out.h, w: out.w, c: input.c), tensor: output)
            try sameQuantization(self.input, output)
            // Every index inside the input and every weight in 0...1024 (`Int8Reference.resizeBilinear`).
            for axis in 0..<2 {
                let p = 2 * axis, count = axis == 0 ? out.h : out.w, size = axis == 0 ? input.h : input.w
                let length = try constant(p, .resizeTable, expected: 12 * count)
                for k in 0..<count {
                    let i0 = constantWord(p, 3 * k), i1 = constantWord(p, 3 * k + 1), w = constantWord(p, 3 * k + 2)
                    guard i0 >= 0, i0 < size, i1 >= 0, i1 < size, w >= 0, w <= 1 << Int8Reference.bilinearWeightBits else {
                        throw fail(.badConstant(.resizeTable, offset: op.parameter(p), length: length, expectedLength: 12 * count))
                    }
                }
            }
        }
    }
}
