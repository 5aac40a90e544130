import XCTest
@testable import QuantaKernels

/// Shared test data and straightforward integer references for the int8 kernel tests.
enum Int8TestData {
    static func int8s(_ count: Int, _ g: inout SplitMix64, in range: ClosedRange<Int8> = -128...127) -> [Int8] {
        (0..<count).map { _ in Int8.random(in: range, using: &g) }
    }

    static func int32s(_ count: Int, _ g: inout SplitMix64, in range: ClosedRange<Int32>) -> [Int32] {
        (0..<count).map { _ in Int32.random(in: range, using: &g) }
    }

    /// Per-channel (multiplier, shift) pairs for real multipliers spread around `typical`.
    static func multipliers(_ count: Int, _ g: inout SplitMix64, typical: Double) -> ([Int32], [Int32]) {
        var m = [Int32](), s = [Int32]()
        for _ in 0..<count {
            let q = FixedPoint.quantizeMultiplier(typical * Double.random(in: 0.5...2, using: &g))
            m.append(q.multiplier)
            s.append(q.shift)
        }
        return (m, s)
    }

    /// The output stage written out again: Int64 accumulator, checked to fit in Int32,
    /// then `MBQM`, zero point, clamp.
    static func requantize(_ acc: Int64, _ multiplier: Int32, _ shift: Int32, zeroPoint: Int32, clampMin: Int32, clampMax: Int32) -> Int8 {
        let scaled = FixedPoint.multiplyByQuantizedMultiplier(Int32(acc), multiplier, shift)
        return Int8(min(max(scaled + zeroPoint, clampMin), clampMax))
    }

    /// Straightforward grouped convolution: the input is first copied into an explicitly
    /// padded tensor filled with the input zero point, then every output is a plain sum in
    /// Int64 over that tensor.
    static func naiveConv(
        input: [Int8], shape: TensorShape, zeroPoint: Int32, weights: [Int8], filter: FilterShape,
        bias: [Int32]?, parameters p: Conv2DParameters, multipliers: [Int32], shifts: [Int32],
        outputZeroPoint: Int32, clampMin: Int32 = -128, clampMax: Int32 = 127
    ) -> (TensorShape, [Int8]) {
        let ph = shape.h + p.padding.top + p.padding.bottom
        let pw = shape.w + p.padding.left + p.padding.right
        let paddedShape = TensorShape(n: shape.n, h: ph, w: pw, c: shape.c)
        var padded = [Int8](repeating: Int8(zeroPoint), count: paddedShape.elementCount)
        for b in 0..<shape.n { for y in 0..<shape.h { for x in 0..<shape.w { for c in 0..<shape.c {
            padded[paddedShape.index(b, y + p.padding.top, x + p.padding.left, c)] = input[shape.index(b, y, x, c)]
        } } } }
        let outH = (ph - p.dilationH * (filter.kernelH - 1) - 1) / p.strideH + 1
        let outW = (pw - p.dilationW * (filter.kernelW - 1) - 1) / p.strideW + 1
        let outShape = TensorShape(n: shape.n, h: outH, w: outW, c: filter.outputChannels)
        let perGroupOut = filter.outputChannels / p.groups
        var out = [Int8](repeating: 0, count: outShape.elementCount)
        for b in 0..<shape.n { for y in 0..<outH { for x in 0..<outW { for o in 0..<filter.outputChannels {
            let g = o / perGroupOut
            var acc = Int64(bias?[o] ?? 0)
            for ky in 0..<filter.kernelH { for kx in 0..<filter.kernelW { for i in 0..<filter.inputChannelsPerGroup {
                let v = padded[paddedShape.index(b, y * p.strideH + ky * p.dilationH, x * p.strideW + kx * p.dilationW, g * filter.inputChannelsPerGroup + i)]
                acc += Int64(weights[filter.index(o, ky, kx, i)]) * (Int64(v) - Int64(zeroPoint))
            } } }
            let c = multipliers.count == 1 ? 0 : o
            out[outShape.index(b, y, x, o)] = requantize(acc, multipliers[c], shifts[c], zeroPoint: outputZeroPoint, clampMin: clampMin, clampMax: clampMax)
        } } } }
        return (outShape, out)
    }

    /// Runs `Int8Reference.conv2D` on arrays.
    static func conv(
        input: [Int8], shape: TensorShape, zeroPoint: Int32, weights: [Int8], filter: FilterShape,
        bias: [Int32]?, parameters: Conv2DParameters, multipliers: [Int32], shifts: [Int32],
        outputZeroPoint: Int32, clampMin: Int32 = -128, clampMax: Int32 = 127
    ) -> (TensorShape, [Int8]) {
        let outShape = parameters.outputShape(input: shape, filter: filter)
        var out = [Int8](repeating: 0, count: outShape.elementCount)
        multipliers.withUnsafeBufferPointer { m in
            shifts.withUnsafeBufferPointer { s in
                let r = Requantization(
                    multipliers: m.baseAddress!, shifts: s.baseAddress!, channelCount: m.count,
                    outputZeroPoint: outputZeroPoint, clampMin: clampMin, clampMax: clampMax)
                let run = { (biasPointer: UnsafePointer<Int32>?) in
                    Int8Reference.conv2D(
                        input: input, inputShape: shape, inputZeroPoint: zeroPoint, weights: weights,
                        filter: filter, bias: biasPointer, output: &out, outputShape: outShape,
                        parameters: parameters, requantization: r)
                }
                if let bias { bias.withUnsafeBufferPointer { run($0.baseAddress!) } } else { run(nil) }
            }
        }
        return (outShape, out)
    }
}

final class Int8Conv2DTests: XCTestCase {
    struct Case {
        var shape: TensorShape
        var filter: FilterShape
        var parameters: Conv2DParameters
    }

    /// Standard, pointwise, grouped, depthwise (multiplier 1 and 2), dilated, strided,
    /// asymmetric padding, even kernel, 1×K, a kernel as large as the input.
    static let cases: [Case] = [
        Case(shape: TensorShape(n: 2, h: 6, w: 5, c: 3), filter: FilterShape(outputChannels: 4, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 3), parameters: Conv2DParameters(padding: .uniform(1))),
        Case(shape: TensorShape(h: 4, w: 4, c: 8), filter: FilterShape(outputChannels: 5, kernelH: 1, kernelW: 1, inputChannelsPerGroup: 8), parameters: Conv2DParameters()),
        Case(shape: TensorShape(h: 7, w: 6, c: 6), filter: FilterShape(outputChannels: 9, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 2), parameters: Conv2DParameters(strideH: 2, strideW: 2, padding: Padding(top: 0, left: 1, bottom: 1, right: 0), groups: 3)),
        Case(shape: TensorShape(h: 8, w: 7, c: 4), filter: FilterShape(outputChannels: 4, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 1), parameters: Conv2DParameters(padding: .uniform(1), groups: 4)),
        Case(shape: TensorShape(h: 6, w: 6, c: 3), filter: FilterShape(outputChannels: 6, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 1), parameters: Conv2DParameters(strideH: 2, strideW: 2, padding: Padding(top: 0, left: 0, bottom: 1, right: 1), groups: 3)),
        Case(shape: TensorShape(h: 9, w: 8, c: 2), filter: FilterShape(outputChannels: 3, kernelH: 3, kernelW: 2, inputChannelsPerGroup: 2), parameters: Conv2DParameters(dilationH: 2, dilationW: 3, padding: Padding(top: 2, left: 1, bottom: 1, right: 3))),
        Case(shape: TensorShape(h: 5, w: 5, c: 4), filter: FilterShape(outputChannels: 4, kernelH: 2, kernelW: 2, inputChannelsPerGroup: 4), parameters: Conv2DParameters(padding: Padding(top: 0, left: 0, bottom: 1, right: 1))),
        Case(shape: TensorShape(h: 5, w: 7, c: 3), filter: FilterShape(outputChannels: 3, kernelH: 1, kernelW: 5, inputChannelsPerGroup: 1), parameters: Conv2DParameters(padding: Padding(top: 0, left: 2, bottom: 0, right: 2), groups: 3)),
        Case(shape: TensorShape(h: 4, w: 3, c: 5), filter: FilterShape(outputChannels: 5, kernelH: 4, kernelW: 3, inputChannelsPerGroup: 1), parameters: Conv2DParameters(groups: 5)),
    ]

    func randomOperands(_ c: Case, _ g: inout SplitMix64) -> (input: [Int8], weights: [Int8], bias: [Int32], m: [Int32], s: [Int32]) {
        let k = Double(c.filter.kernelH * c.filter.kernelW * c.filter.inputChannelsPerGroup)
        let input = Int8TestData.int8s(c.shape.elementCount, &g)
        let weights = Int8TestData.int8s(c.filter.elementCount, &g, in: -127...127)
        let bias = Int8TestData.int32s(c.filter.outputChannels, &g, in: -20000...20000)
        // Typical |acc| ≈ sqrt(K) * 74 * 73; map it to about 60 output units.
        let (m, s) = Int8TestData.multipliers(c.filter.outputChannels, &g, typical: 60 / (k.squareRoot() * 74 * 73))
        return (input, weights, bias, m, s)
    }

    func testEveryFamilyMatchesNaiveConvOverExplicitlyPaddedInput() {
        var g = SplitMix64(seed: 1)
        for (index, c) in Self.cases.enumerated() {
            let (input, weights, bias, m, s) = randomOperands(c, &g)
            let zp = Int32.random(in: -128...127, using: &g)
            let outZp = Int32.random(in: -20...20, using: &g)
            let expected = Int8TestData.naiveConv(input: input, shape: c.shape, zeroPoint: zp, weights: weights, filter: c.filter, bias: bias, parameters: c.parameters, multipliers: m, shifts: s, outputZeroPoint: outZp)
            let actual = Int8TestData.conv(input: input, shape: c.shape, zeroPoint: zp, weights: weights, filter: c.filter, bias: bias, parameters: c.parameters, multipliers: m, shifts: s, outputZeroPoint: outZp)
            XCTAssertEqual(actual.0, expected.0, "case \(index)")
            XCTAssertEqual(actual.1, expected.1, "case \(index)")
            // Non-trivial: the outputs are spread, not all clamped.
            XCTAssertGreaterThan(Set(actual.1).count, min(20, actual.1.count / 2), "case \(index)")
        }
    }

    func testPaddingContributesNothingLikeTheInputZeroPoint() {
        // conv(padding P) == conv(no padding) on the input padded with its zero point.
        var g = SplitMix64(seed: 2)
        let c = Self.cases[5]
        let (input, weights, bias, m, s) = randomOperands(c, &g)
        let zp: Int32 = 37
        let p = c.parameters.padding
        let paddedShape = TensorShape(n: 1, h: c.shape.h + p.top + p.bottom, w: c.shape.w + p.left + p.right, c: c.shape.c)
        var padded = [Int8](repeating: Int8(zp), count: paddedShape.elementCount)
        for y in 0..<c.shape.h { for x in 0..<c.shape.w { for ch in 0..<c.shape.c {
            padded[paddedShape.index(0, y + p.top, x + p.left, ch)] = input[c.shape.index(0, y, x, ch)]
        } } }
        var unpadded = c.parameters
        unpadded.padding = .zero
        let a = Int8TestData.conv(input: input, shape: c.shape, zeroPoint: zp, weights: weights, filter: c.filter, bias: bias, parameters: c.parameters, multipliers: m, shifts: s, outputZeroPoint: 0)
        let b = Int8TestData.conv(input: padded, shape: paddedShape, zeroPoint: zp, weights: weights, filter: c.filter, bias: bias, parameters: unpadded, multipliers: m, shifts: s, outputZeroPoint: 0)
        XCTAssertEqual(a.0, b.0)
        XCTAssertEqual(a.1, b.1)
    }

    /// Runs group `g` alone: a standard convolution on the group's input channel slice with
    /// the group's filters, and writes its outputs into the group's output channel slice.
    func groupwiseBySlices(_ c: Case, input: [Int8], weights: [Int8], bias: [Int32], m: [Int32], s: [Int32], zp: Int32) -> [Int8] {
        let groups = c.parameters.groups
        let ci = c.filter.inputChannelsPerGroup
        let co = c.filter.outputChannels / groups
        let outShape = c.parameters.outputShape(input: c.shape, filter: c.filter)
        var out = [Int8](repeating: 0, count: outShape.elementCount)
        for g in 0..<groups {
            let sliceShape = TensorShape(n: c.shape.n, h: c.shape.h, w: c.shape.w, c: ci)
            var slice = [Int8](repeating: 0, count: sliceShape.elementCount)
            for b in 0..<c.shape.n { for y in 0..<c.shape.h { for x in 0..<c.shape.w { for i in 0..<ci {
                slice[sliceShape.index(b, y, x, i)] = input[c.shape.index(b, y, x, g * ci + i)]
            } } } }
            let filter = FilterShape(outputChannels: co, kernelH: c.filter.kernelH, kernelW: c.filter.kernelW, inputChannelsPerGroup: ci)
            let perFilter = filter.kernelH * filter.kernelW * ci
            let w = Array(weights[(g * co * perFilter)..<((g + 1) * co * perFilter)])
            var p = c.parameters
            p.groups = 1
            let (sliceOutShape, sliceOut) = Int8TestData.conv(
                input: slice, shape: sliceShape, zeroPoint: zp, weights: w, filter: filter,
                bias: Array(bias[(g * co)..<((g + 1) * co)]), parameters: p,
                multipliers: Array(m[(g * co)..<((g + 1) * co)]), shifts: Array(s[(g * co)..<((g + 1) * co)]),
                outputZeroPoint: 3)
            for b in 0..<outShape.n { for y in 0..<outShape.h { for x in 0..<outShape.w { for o in 0..<co {
                out[outShape.index(b, y, x, g * co + o)] = sliceOut[sliceOutShape.index(b, y, x, o)]
            } } } }
        }
        return out
    }

    func testGroupedConvEqualsStandardConvOnChannelSlices() {
        var g = SplitMix64(seed: 3)
        let c = Self.cases[2]  // 3 groups of 2 input → 3 output channels
        let (input, weights, bias, m, s) = randomOperands(c, &g)
        let whole = Int8TestData.conv(input: input, shape: c.shape, zeroPoint: -5, weights: weights, filter: c.filter, bias: bias, parameters: c.parameters, multipliers: m, shifts: s, outputZeroPoint: 3)
        XCTAssertEqual(whole.1, groupwiseBySlices(c, input: input, weights: weights, bias: bias, m: m, s: s, zp: -5))
    }

    func testDepthwiseWithMultiplierEqualsGroupedWithOneChannelPerGroup() {
        // Depthwise (groups == C, multiplier 1 or 2) is per channel c a standard conv of
        // input channel c with output channels c*M ..< (c+1)*M.
        var g = SplitMix64(seed: 4)
        for c in [Self.cases[3], Self.cases[4], Self.cases[7], Self.cases[8]] {
            let (input, weights, bias, m, s) = randomOperands(c, &g)
            let whole = Int8TestData.conv(input: input, shape: c.shape, zeroPoint: 11, weights: weights, filter: c.filter, bias: bias, parameters: c.parameters, multipliers: m, shifts: s, outputZeroPoint: 3)
            XCTAssertEqual(whole.1, groupwiseBySlices(c, input: input, weights: weights, bias: bias, m: m, s: s, zp: 11))
        }
    }

    func testClampIsExactOnTheRequantizedValue() {
        // Clamped output == min(max(unclamped, lo), hi), and both bounds are hit.
        var g = SplitMix64(seed: 5)
        let c = Self.cases[0]
        let (input, weights, bias, m, s) = randomOperands(c, &g)
        let free = Int8TestData.conv(input: input, shape: c.shape, zeroPoint: 0, weights: weights, filter: c.filter, bias: bias, parameters: c.parameters, multipliers: m, shifts: s, outputZeroPoint: -4)
        let clamped = Int8TestData.conv(input: input, shape: c.shape, zeroPoint: 0, weights: weights, filter: c.filter, bias: bias, parameters: c.parameters, multipliers: m, shifts: s, outputZeroPoint: -4, clampMin: -4, clampMax: 30)
        XCTAssertEqual(clamped.1, free.1.map { min(max($0, -4), 30) })
        XCTAssertTrue(clamped.1.contains(-4) && clamped.1.contains(30))
    }

    func testSingleMultiplierAppliesToEveryChannelAndNilBiasIsZero() {
        var g = SplitMix64(seed: 6)
        let c = Self.cases[1]
        let (input, weights, _, m, s) = randomOperands(c, &g)
        let one = Int8TestData.conv(input: input, shape: c.shape, zeroPoint: 1, weights: weights, filter: c.filter, bias: nil, parameters: c.parameters, multipliers: [m[0]], shifts: [s[0]], outputZeroPoint: 0)
        let repeated = Int8TestData.conv(input: input, shape: c.shape, zeroPoint: 1, weights: weights, filter: c.filter, bias: [Int32](repeating: 0, count: 5), parameters: c.parameters, multipliers: Array(repeating: m[0], count: 5), shifts: Array(repeating: s[0], count: 5), outputZeroPoint: 0)
        XCTAssertEqual(one.1, repeated.1)
    }

    func testHandComputedThreeByThreeOnesWithPadding() {
        // Input 3×3 of q = 1..9 with zero point 1 (values 0..8); kernel of ones, padding 1;
        // multiplier 0.5 = (2^30, 0). Centre: Σ(0..8) = 36 → 18; top-left: 0+1+3+4 = 8 → 4;
        // top-centre: 0+1+2+3+4+5 = 15 → 7.5 → 8 (SRDHM ties toward +∞); output zero point -2.
        let input: [Int8] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        let (_, out) = Int8TestData.conv(
            input: input, shape: TensorShape(h: 3, w: 3, c: 1), zeroPoint: 1,
            weights: [Int8](repeating: 1, count: 9), filter: FilterShape(outputChannels: 1, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 1),
            bias: nil, parameters: Conv2DParameters(padding: .uniform(1)), multipliers: [1 << 30], shifts: [0], outputZeroPoint: -2)
        // Window sums: [8, 15, 12, 21, 36, 27, 20, 33, 24] → halves rounded → minus 2.
        XCTAssertEqual(out, [2, 6, 4, 9, 16, 12, 8, 15, 10])
    }
}
