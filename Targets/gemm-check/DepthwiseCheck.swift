import QuantaKernels

/// Depthwise 3×3 (`DepthwiseConv.run3x3`: the NEON row kernel on aarch64 and armv7, AVX2
/// on the host) bit for bit against `Int8Reference.conv2D`, on pseudo-random operands:
/// strides 1 and 2 (and 1×2, 2×1), paddings 0...2 on each side, maps from 1×1 to 11×13 and rows of 60...139 columns,
/// channel counts 1...50 (full and partial 16-channel blocks), batch 1 and 2, per-channel
/// and per-tensor requantization with left and right shifts, weights in -127...127
/// (the quantizer's range), inputs with -128. Returns nil or the first mismatch.
func checkDepthwise(random: inout SplitMix) -> (cases: Int, failure: String?) {
    checkDepthwiseTrials(140, random: &random) { trial, random in
        let channels = [16, 32, 48, 1 + trial % 50][trial % 4]
        let strideH = 1 + random.next(below: 2), strideW = trial % 7 == 0 ? 3 - strideH : strideH
        // Trials 120...: wide rows (long interior runs between the edge columns).
        let width = trial >= 120 ? 60 + random.next(below: 80) : 1 + random.next(below: 13)
        let shape = TensorShape(n: 1 + (trial % 9 == 0 ? 1 : 0), h: 1 + random.next(below: trial >= 120 ? 5 : 11), w: width, c: channels)
        let padding = Padding(top: random.next(below: 3), left: random.next(below: 3), bottom: random.next(below: 3), right: random.next(below: 3))
        return (shape, FilterShape(outputChannels: channels, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 1),
                Conv2DParameters(strideH: strideH, strideW: strideW, padding: padding, groups: channels))
    }
}

/// Depthwise of other kernels (`DepthwiseConv.run`: the NEON kernel of any size up to 64
/// taps on aarch64 and armv7, the generic row loop on the host): 5×5 (MobileNetV3,
/// PP-LCNet) in most trials, 7×7, 3×3 dilated 2, 1×5 and 5×1, 3×3 stride 3; strides 1...3,
/// paddings 0...4, channel counts 16...50, as `checkDepthwise` otherwise.
func checkDepthwiseKernels(random: inout SplitMix) -> (cases: Int, failure: String?) {
    checkDepthwiseTrials(90, random: &random) { trial, random in
        let channels = [16, 24, 32, 17 + trial % 34][trial % 4]
        let (kh, kw, dilation, strideCap) = [(5, 5, 1, 2), (5, 5, 1, 2), (7, 7, 1, 2), (3, 3, 2, 1), (1, 5, 1, 2), (5, 1, 1, 2), (3, 3, 1, 3)][trial % 7]
        let strideH = 1 + random.next(below: strideCap), strideW = 1 + random.next(below: strideCap)
        let width = trial >= 80 ? 40 + random.next(below: 40) : 1 + random.next(below: 16)
        let shape = TensorShape(n: 1 + (trial % 11 == 0 ? 1 : 0), h: 1 + random.next(below: trial >= 80 ? 6 : 12), w: width, c: channels)
        let padding = Padding(top: random.next(below: 5), left: random.next(below: 5), bottom: random.next(below: 5), right: random.next(below: 5))
        return (shape, FilterShape(outputChannels: channels, kernelH: kh, kernelW: kw, inputChannelsPerGroup: 1),
                Conv2DParameters(strideH: strideH, strideW: strideW, dilationH: dilation, dilationW: dilation,
                                 padding: padding, groups: channels))
    }
}

/// `count` trials of the geometries `geometry` makes (trial number, generator); a geometry
/// without output pixels is skipped. Returns the cases run, and the first mismatch.
func checkDepthwiseTrials(_ count: Int, random: inout SplitMix,
                          geometry: (Int, inout SplitMix) -> (TensorShape, FilterShape, Conv2DParameters)) -> (cases: Int, failure: String?) {
    var cases = 0
    for trial in 0..<count {
        let (shape, filter, parameters) = geometry(trial, &random)
        let outputShape = parameters.outputShape(input: shape, filter: filter)
        if outputShape.h < 1 || outputShape.w < 1 { continue }
        if let failure = checkDepthwiseCase(shape: shape, filter: filter, parameters: parameters, outputShape: outputShape, random: &random) {
            return (cases, failure)
        }
        cases += 1
    }
    return (cases, nil)
}

func checkDepthwiseCase(shape: TensorShape, filter: FilterShape, parameters: Conv2DParameters, outputShape: TensorShape,
                        random: inout SplitMix) -> String? {
    let c = shape.c
    var input = [Int8](repeating: 0, count: shape.n * shape.h * shape.w * c)
    for i in input.indices { input[i] = random.int8() }
    var weights = [Int8](repeating: 0, count: filter.elementCount)
    for i in weights.indices { weights[i] = max(random.int8(), -127) }
    var bias = [Int32](repeating: 0, count: c)
    for i in bias.indices { bias[i] = Int32(random.next(below: 1 << 14)) - (1 << 13) }
    let constants = RandomRequantization(channels: c, random: &random)
    let count = constants.multipliers.count, multipliers = constants.multipliers, shifts = constants.shifts
    let inputZeroPoint = constants.inputZeroPoint, outputZeroPoint = constants.outputZeroPoint
    let clampMin = Int32(random.next(below: 2) == 0 ? -128 : -100)
    let clampMax = Int32(random.next(below: 2) == 0 ? 127 : 90)
    let outCount = outputShape.n * outputShape.h * outputShape.w * outputShape.c
    var expected = [Int8](repeating: 0, count: outCount), found = expected
    let packed = UnsafeMutableRawPointer.allocate(byteCount: DepthwiseConv.packedByteCount(channels: c, filter: filter), alignment: 16)
    defer { packed.deallocate() }
    return input.withUnsafeBufferPointer { x -> String? in
        weights.withUnsafeBufferPointer { w -> String? in
            bias.withUnsafeBufferPointer { b -> String? in
                multipliers.withUnsafeBufferPointer { m -> String? in
                    shifts.withUnsafeBufferPointer { s -> String? in
                        let r = Requantization(multipliers: m.baseAddress!, shifts: s.baseAddress!, channelCount: count,
                                               outputZeroPoint: outputZeroPoint, clampMin: clampMin, clampMax: clampMax)
                        DepthwiseConv.pack(weights: w.baseAddress!, filter: filter, channels: c, bias: b.baseAddress!, into: packed)
                        expected.withUnsafeMutableBufferPointer {
                            Int8Reference.conv2D(input: x.baseAddress!, inputShape: shape, inputZeroPoint: inputZeroPoint,
                                                 weights: w.baseAddress!, filter: filter, bias: b.baseAddress!,
                                                 output: $0.baseAddress!, outputShape: outputShape,
                                                 parameters: parameters, requantization: r)
                        }
                        let threeByThree = filter.kernelH == 3 && filter.kernelW == 3 && parameters.dilationH == 1
                            && parameters.dilationW == 1 && parameters.strideH <= 2 && parameters.strideW <= 2
                        found.withUnsafeMutableBufferPointer {
                            if threeByThree {
                                DepthwiseConv.run3x3(input: x.baseAddress!, inputShape: shape, inputZeroPoint: inputZeroPoint,
                                                     packed: UnsafeRawPointer(packed), filter: filter,
                                                     output: $0.baseAddress!, outputShape: outputShape,
                                                     parameters: parameters, requantization: r)
                            } else {
                                DepthwiseConv.run(input: x.baseAddress!, inputShape: shape, inputZeroPoint: inputZeroPoint,
                                                  packed: UnsafeRawPointer(packed), filter: filter,
                                                  output: $0.baseAddress!, outputShape: outputShape,
                                                  parameters: parameters, requantization: r)
                            }
                        }
                        for i in 0..<outCount where found[i] != expected[i] {
                            return "depthwise \(filter.kernelH)×\(filter.kernelW) dilation \(parameters.dilationH) \(shape.n)×\(shape.h)×\(shape.w)×\(c) stride \(parameters.strideH)×\(parameters.strideW) "
                                + "pad \(parameters.padding.top),\(parameters.padding.left),\(parameters.padding.bottom),\(parameters.padding.right): "
                                + "out[\(i)] = \(found[i]), reference \(expected[i])"
                        }
                        return nil
                    }
                }
            }
        }
    }
}
