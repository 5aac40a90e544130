import QuantaKernels

/// Im2col convolutions (`OptimizedConv2D.run` with `.im2col` and `.im2colDirect`, the
/// stack-tile form) bit for bit against `Int8Reference.conv2D` on pseudo-random operands:
/// stems (3×3 stride 2 over 3 channels, odd depth 27), 1×K, K×1 and dilated kernels,
/// strides 1...3, paddings 0...2, groups 1...3, pixel counts across tiles. Returns the number
/// of cases and nil, or the first mismatch.
func checkIm2col(random: inout SplitMix) -> (cases: Int, failure: String?) {
    var cases = 0
    for trial in 0..<40 {
        let groups = trial % 4 == 3 ? 2 + random.next(below: 2) : 1
        let stem = trial % 3 == 0
        let ci = stem ? 3 : 1 + random.next(below: groups == 1 ? 8 : 4)
        let kh = stem ? 3 : 1 + random.next(below: 5), kw = stem ? 3 : 1 + random.next(below: 5)
        let stride = stem ? 2 : 1 + random.next(below: 3)
        let parameters = Conv2DParameters(
            strideH: stride, strideW: stem ? 2 : 1 + random.next(below: 3),
            dilationH: trial % 5 == 1 ? 2 : 1, dilationW: trial % 7 == 1 ? 2 : 1,
            padding: Padding(top: random.next(below: 3), left: random.next(below: 3), bottom: random.next(below: 3), right: random.next(below: 3)),
            groups: groups)
        let shape = TensorShape(n: 1 + (trial % 9 == 0 ? 1 : 0), h: 4 + random.next(below: 20), w: 4 + random.next(below: 20), c: groups * ci)
        let filter = FilterShape(outputChannels: groups * (1 + random.next(below: 20)), kernelH: kh, kernelW: kw, inputChannelsPerGroup: ci)
        let outputShape = parameters.outputShape(input: shape, filter: filter)
        if outputShape.h < 1 || outputShape.w < 1 { continue }
        for variant in [KernelVariant.im2col, .im2colDirect] {
            if let failure = checkIm2colCase(variant, shape: shape, filter: filter, parameters: parameters, outputShape: outputShape, random: &random) {
                return (cases, failure)
            }
            cases += 1
        }
    }
    return (cases, nil)
}

func checkIm2colCase(_ variant: KernelVariant, shape: TensorShape, filter: FilterShape, parameters: Conv2DParameters,
                     outputShape: TensorShape, random: inout SplitMix) -> String? {
    var input = [Int8](repeating: 0, count: shape.n * shape.h * shape.w * shape.c)
    for i in input.indices { input[i] = random.int8() }
    let k = filter.kernelH * filter.kernelW * filter.inputChannelsPerGroup
    var weights = [Int8](repeating: 0, count: filter.outputChannels * k)
    for i in weights.indices { weights[i] = max(random.int8(), -127) }
    var bias = [Int32](repeating: 0, count: filter.outputChannels)
    for i in bias.indices { bias[i] = Int32(random.next(below: 1 << 14)) - (1 << 13) }
    let constants = RandomRequantization(channels: filter.outputChannels, random: &random)
    let count = constants.multipliers.count, multipliers = constants.multipliers, shifts = constants.shifts
    let inputZeroPoint = constants.inputZeroPoint, outputZeroPoint = constants.outputZeroPoint
    let outCount = outputShape.n * outputShape.h * outputShape.w * outputShape.c
    var expected = [Int8](repeating: 0, count: outCount), found = expected
    let packedBytes = variant.packedWeightsByteCount(inputShape: shape, filter: filter, parameters: parameters)
    let scratchBytes = variant.scratchBytes(inputShape: shape, filter: filter, parameters: parameters)
    let packed = UnsafeMutableRawPointer.allocate(byteCount: packedBytes, alignment: 16)
    let scratch = UnsafeMutableRawPointer.allocate(byteCount: max(scratchBytes, 1), alignment: 16)
    defer {
        packed.deallocate()
        scratch.deallocate()
    }
    return input.withUnsafeBufferPointer { x -> String? in
        weights.withUnsafeBufferPointer { w -> String? in
            bias.withUnsafeBufferPointer { b -> String? in
                multipliers.withUnsafeBufferPointer { m -> String? in
                    shifts.withUnsafeBufferPointer { s -> String? in
                        let r = Requantization(multipliers: m.baseAddress!, shifts: s.baseAddress!, channelCount: count,
                                               outputZeroPoint: outputZeroPoint, clampMin: -128, clampMax: 127)
                        OptimizedConv2D.packWeights(variant: variant, weights: w.baseAddress!, filter: filter, bias: b.baseAddress!,
                                                    inputShape: shape, inputZeroPoint: inputZeroPoint, parameters: parameters, into: packed)
                        expected.withUnsafeMutableBufferPointer {
                            Int8Reference.conv2D(input: x.baseAddress!, inputShape: shape, inputZeroPoint: inputZeroPoint,
                                                 weights: w.baseAddress!, filter: filter, bias: b.baseAddress!,
                                                 output: $0.baseAddress!, outputShape: outputShape,
                                                 parameters: parameters, requantization: r)
                        }
                        found.withUnsafeMutableBufferPointer {
                            OptimizedConv2D.run(variant: variant, input: x.baseAddress!, inputShape: shape, inputZeroPoint: inputZeroPoint,
                                                weights: w.baseAddress!, filter: filter, bias: b.baseAddress!,
                                                output: $0.baseAddress!, outputShape: outputShape, parameters: parameters,
                                                requantization: r, packedWeights: UnsafeRawPointer(packed),
                                                scratch: scratchBytes > 0 ? scratch : nil)
                        }
                        for i in 0..<outCount where found[i] != expected[i] {
                            return "\(variant) \(shape.n)×\(shape.h)×\(shape.w)×\(shape.c) filter \(filter.outputChannels)×\(filter.kernelH)×\(filter.kernelW)×\(filter.inputChannelsPerGroup) "
                                + "groups \(parameters.groups) stride \(parameters.strideH)×\(parameters.strideW): out[\(i)] = \(found[i]), reference \(expected[i])"
                        }
                        return nil
                    }
                }
            }
        }
    }
}

/// Random requantization constants of a check case: per channel (3 cases in 4) or per
/// tensor, Q31 multipliers in [2^30, 2^31), shifts -10...1 (right and left), an input zero
/// point anywhere in int8 and an output zero point in -32...31.
struct RandomRequantization {
    let multipliers: [Int32]
    let shifts: [Int32]
    let inputZeroPoint: Int32
    let outputZeroPoint: Int32

    init(channels: Int, random: inout SplitMix) {
        let count = random.next(below: 4) != 0 ? channels : 1
        var m = [Int32](repeating: 0, count: count), s = [Int32](repeating: 0, count: count)
        for i in 0..<count {
            m[i] = Int32(1 << 30) + Int32(random.next(below: 1 << 30))
            s[i] = Int32(random.next(below: 12)) - 10
        }
        multipliers = m
        shifts = s
        inputZeroPoint = Int32(random.next(below: 256)) - 128
        outputZeroPoint = Int32(random.next(below: 64)) - 32
    }
}
